import HTTPTypes
import Sesame
import Vapor

/// Runs Sesame's `SessionFlow` for the routes below it: resolves the request's session (either strategy), refuses
/// what the flow refuses, logs the session in as `req.auth`'s `AuthSession<Subject>`, runs the route with it as
/// `AuthSession.current`, then adds what the flow says (a new or cleared cookie, or a 503 when the changes could not
/// be saved). With `StoredSessions`, it replaces Vapor's `SessionsMiddleware`.
///
/// Use Vapor's own guards after it (`AuthSession<AppSession>.guardMiddleware()`, `.redirectMiddleware(path:)`) or
/// ``RequireSessionMiddleware`` for Sesame's browser-or-API answer.
///
/// When the flow answers at once (stateless tokens, an in-memory revocation list, a read-only stored session), the
/// chain goes on on the event loop with no task started. The task-locals reach `async` route handlers; Vapor may
/// call a synchronous route closure after it has collected the body, outside the middleware's scope: there use
/// `req.withCurrentSession(AppSession.self) { … }`, or make the closure `async`.
public struct SesameSessionMiddleware<Strategy: SessionStrategy>: Middleware {
    /// The flow.
    public let flow: SessionFlow<Strategy>
    /// The request handling, formed where the middleware is created: Vapor calls `respond` through the
    /// `Middleware` protocol, unspecialized; a closure formed in the app's module runs code specialized for its
    /// strategy.
    @usableFromInline let handle: @Sendable (Request, any Responder) -> EventLoopFuture<Response>

    /// Creates the middleware.
    ///
    /// - Parameters:
    ///   - sessions: `SessionTokens` or `StoredSessions`.
    ///   - requirement: A requirement to enforce (default: none, the session is optional).
    ///   - crossSite: Which cookie-authenticated state changes to refuse (default: those from other sites).
    @inlinable
    public init(sessions: Strategy, requirement: SessionRequirement<Strategy.Subject>? = nil, crossSite: CrossSiteProtection = CrossSiteProtection()) {
        let flow = SessionFlow(sessions: sessions, requirement: requirement, crossSite: crossSite)
        self.flow = flow
        let handling = VaporSessionHandling(flow)
        handle = { request, next in handling.respond(to: request, chainingTo: next) }
    }

    public func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        handle(request, next)
    }
}

/// The flow on Vapor's futures, in a class: the closures a request's futures keep capture one reference to it, not
/// a copy of the flow (a struct of many references).
@usableFromInline
final class VaporSessionHandling<Strategy: SessionStrategy>: Sendable {
    @usableFromInline let flow: SessionFlow<Strategy>

    @inlinable
    init(_ flow: SessionFlow<Strategy>) {
        self.flow = flow
    }

    /// On the event loop when the flow answers now, in a task when it must wait.
    @inlinable
    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        switch flow.start(VaporFlowRequest(request)) {
        case .now(let start): proceed(start, request: request, next: next)
        case .later(let starting): request.eventLoop.future(starting).flatMap { self.proceed($0, request: request, next: next) }
        }
    }

    @inlinable
    func proceed(_ start: SessionFlowStart<Strategy.Subject>, request: Request, next: any Responder) -> EventLoopFuture<Response> {
        let scope: SessionScope<Strategy.Subject>
        switch start {
        case .refuse(let refusal): return request.eventLoop.makeSucceededFuture(Response(refusal))
        case .proceed(let proceeding): scope = proceeding
        }
        if let session = scope.session { request.auth.login(session) }
        guard scope.needsFinish else {
            return scope.run { next.respond(to: request) }.flatMapErrorThrowing(Response.init(authError:))
        }
        // A synchronous route closure may run outside the task-local's scope (once Vapor has collected a streamed
        // body): keep the scope for `withCurrentSession`, before the route can run.
        request.storage[SessionScopeKey<Strategy.Subject>.self] = scope
        let handled = scope.run { next.respond(to: request) }
        // A handler that failed saves nothing: its error is answered as it is.
        return handled.flatMap { response in
            switch self.flow.finish(scope) {
            case .now(let end): request.eventLoop.makeSucceededFuture(response.applying(end))
            case .later(let ending): request.eventLoop.future(ending).map(response.applying)
            }
        }.flatMapErrorThrowing(Response.init(authError:))
    }
}

extension EventLoop {
    /// A future of work the flow must wait for, run in a task.
    @inlinable
    func future<Value: Sendable>(_ work: @escaping @Sendable () async -> Value) -> EventLoopFuture<Value> {
        let promise = makePromise(of: Value.self)
        promise.completeWithTask(work)
        return promise.futureResult
    }
}

/// Refuses requests whose session (resolved by a ``SesameSessionMiddleware`` above it) does not meet a
/// requirement: the guard for a group of protected routes. See `SessionRequirement` for its answers.
public struct RequireSessionMiddleware<Subject: SessionSubject>: Middleware {
    /// The requirement.
    public let requirement: SessionRequirement<Subject>

    /// Creates the guard.
    ///
    /// - Parameter requirement: The sign-in URL and which sessions qualify.
    public init(_ requirement: SessionRequirement<Subject> = SessionRequirement()) {
        self.requirement = requirement
    }

    public func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        if let refusal = requirement.refusalOfCurrent(VaporFlowRequest(request)) {
            return request.eventLoop.makeSucceededFuture(Response(refusal))
        }
        return next.respond(to: request)
    }
}

extension Request {
    /// Runs `body` with this request's session current (`AuthSession.current`, and a stored session's data with its
    /// changes saved), as ``SesameSessionMiddleware`` makes it for `async` route handlers.
    ///
    /// For synchronous route closures: when Vapor has to collect a request's body first, it calls the closure from a
    /// callback, after the middleware's task-local scope has ended.
    ///
    /// ```swift
    /// site.post("cart") { req throws -> String in
    ///     try req.withCurrentSession(AppSession.self) { try sessions.data.update { $0 = Cart() } }
    ///     return "added"
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - subject: The app's session subject type.
    ///   - body: The work to run.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    public func withCurrentSession<Subject: SessionSubject, Result>(_ subject: Subject.Type, _ body: () throws -> Result) rethrows -> Result {
        let scope = storage[SessionScopeKey<Subject>.self] ?? SessionScope(SessionResolution(session: auth.get(AuthSession<Subject>.self)))
        return try scope.run(body)
    }
}

/// Where ``SesameSessionMiddleware`` keeps a request's scope in the request's storage.
@usableFromInline
struct SessionScopeKey<Subject: SessionSubject>: StorageKey {
    @usableFromInline typealias Value = SessionScope<Subject>
}

/// A Sesame session is what `req.auth` holds: `req.auth.get(AuthSession<AppSession>.self)`, and Vapor's
/// `guardMiddleware()` and `redirectMiddleware(path:)` work with it.
extension AuthSession: Authenticatable {}

extension Response {
    /// The JSON answer to an `AuthError` a handler threw; other errors are thrown on, to Vapor's error handling.
    @usableFromInline
    convenience init(authError error: any Error) throws {
        guard let error = error as? AuthError else { throw error }
        self.init(error.jsonResponse)
    }

    /// The response with the flow's end applied: fields added, or replaced by the flow's answer.
    @usableFromInline
    func applying(_ end: SessionFlowEnd) -> Response {
        switch end {
        case .add(let fields):
            for field in fields { headers.add(name: field.name.rawName, value: field.value) }
            return self
        case .replace(let replacement):
            return Response(replacement)
        }
    }
}
