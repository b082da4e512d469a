import HTTPTypes
import Sesame
import Vapor

/// Resolves the request's session (either strategy), logs it in as `req.auth`'s `Session<Subject>`, makes it
/// `Sesame.Session<Subject>.current` for the handler, optionally requires one, and saves what the handler changed.
///
/// Use Vapor's own guards after it: `Sesame.Session<AppSession>.guardMiddleware()` (401) or
/// `Sesame.Session<AppSession>.redirectMiddleware(path: "/login")`, or ``SessionRequirementMiddleware`` for Sesame's
/// browser-or-API answer. With ``StoredSessions``, it replaces Vapor's `SessionsMiddleware`.
///
/// When the strategy can resolve without waiting (``SessionTokens`` with no revocation store or an in-memory
/// one), the session is resolved on the event loop and the chain goes on there, with no task started for the
/// middleware; otherwise (a store to ask) the middleware runs in a task.
///
/// The task-locals (`Session.current`, `SessionData.current`) reach `async` route handlers and everything they
/// call. Vapor may call a synchronous route closure after it has collected the body, outside the middleware's
/// scope: there use `req.withCurrentSession(AppSession.self) { … }` (or `req.auth` for the session alone), or make
/// the closure `async`.
public struct SesameSessionMiddleware<Strategy: SessionStrategy>: Middleware {
    /// The session strategy.
    public let sessions: Strategy
    /// What the routes below require, if anything.
    public let requirement: SessionRequirement<Strategy.Subject>?

    /// The request handling, made where the middleware is created (see ``init(sessions:requirement:)``).
    @usableFromInline let handle: @Sendable (Request, any Responder) -> EventLoopFuture<Response>

    /// Creates the middleware.
    ///
    /// - Parameters:
    ///   - sessions: `SessionTokens` or `StoredSessions`.
    ///   - requirement: A requirement to enforce (default: none, the session is optional).
    @inlinable
    public init(sessions: Strategy, requirement: SessionRequirement<Strategy.Subject>? = nil) {
        self.sessions = sessions
        self.requirement = requirement
        // Vapor calls `respond` through the `Middleware` protocol, which would run this generic code
        // unspecialized; a closure formed here, in the app's module, runs code specialized for its strategy.
        let handling = SessionHandling(sessions: sessions, requirement: requirement)
        handle = { request, next in handling.respond(to: request, chainingTo: next) }
    }

    public func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        handle(request, next)
    }
}

/// What ``SesameSessionMiddleware`` does per request, in a class: the closures a request's futures keep
/// capture one reference to it, not copies of the strategy (a struct of many references).
@usableFromInline
final class SessionHandling<Strategy: SessionStrategy>: Sendable {
    @usableFromInline let sessions: Strategy
    @usableFromInline let requirement: SessionRequirement<Strategy.Subject>?

    @inlinable
    init(sessions: Strategy, requirement: SessionRequirement<Strategy.Subject>?) {
        self.sessions = sessions
        self.requirement = requirement
    }

    /// Resolves the session (on the event loop when the strategy needs no waiting, else in a task) and goes on.
    @inlinable
    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        let credentials = SessionCredentials(of: request)
        if let resolution = sessions.resolveWithoutWaiting(credentials) {
            return respond(to: request, resolution: resolution, next: next)
        }
        let head = HTTPRequest(of: request, carrying: credentials)
        let promise = request.eventLoop.makePromise(of: Response.self)
        promise.completeWithTask {
            let resolution = await self.sessions.resolve(head)
            return try await self.respond(to: request, resolution: resolution, next: next).get()
        }
        return promise.futureResult
    }

    /// The rest of the request once the session is resolved: requirement, the chain with the session current,
    /// then the commit.
    @inlinable
    func respond(to request: Request, resolution: SessionResolution<Strategy.Subject>, next: any Responder) -> EventLoopFuture<Response> {
        if let refusal = requirement?.refusal(of: request, resolution: resolution) {
            return request.eventLoop.makeSucceededFuture(refusal)
        }
        if let session = resolution.session { request.auth.login(session) }
        // A synchronous route closure may run outside the task-local's scope: keep a store-backed session's
        // scope (its data and change tracking) for `req.withCurrentSession`; a stateless one is in `req.auth`.
        if !sessions.commitsNothing { request.storage[SessionScopeKey.self] = resolution.scope }
        let handled = resolution.withCurrent { next.respond(to: request) }
        if sessions.commitsNothing, resolution.responseFields.isEmpty {
            // Nothing to save and nothing to add: the handler's response goes on as it is.
            return handled.flatMapErrorThrowing(Response.init(authError:))
        }
        let promise = request.eventLoop.makePromise(of: Response.self)
        handled.whenComplete { result in
            switch result {
            case .success(let response):
                if let saved = self.sessions.commitWithoutWaiting(resolution) {
                    promise.succeed(response.adding(resolution.responseFields, saved))
                    return
                }
                promise.completeWithTask {
                    do throws(AuthError) {
                        return response.adding(resolution.responseFields, try await self.sessions.commit(resolution))
                    } catch {
                        return Response(error.jsonResponse)
                    }
                }
            case .failure(let error):
                promise.completeWith(Result { try Response(authError: error) })
            }
        }
        return promise.futureResult
    }
}

extension Response {
    /// The JSON answer to an ``AuthError`` a handler threw (for example `SessionData.set` while the store is
    /// down: its status and JSON, not a 500); other errors are thrown on, to Vapor's error handling.
    ///
    /// - Parameter error: What the handler threw.
    /// - Throws: `error`, when it is not an ``AuthError``.
    @usableFromInline
    convenience init(authError error: any Error) throws {
        guard let error = error as? AuthError else { throw error }
        self.init(error.jsonResponse)
    }

    /// The response with `fields`, then `more`, added.
    @usableFromInline
    func adding(_ fields: [HTTPField], _ more: [HTTPField]) -> Response {
        for field in fields { headers.add(name: field.name.rawName, value: field.value) }
        for field in more { headers.add(name: field.name.rawName, value: field.value) }
        return self
    }
}

/// Refuses requests whose session (resolved by ``SesameSessionMiddleware``) does not meet a requirement:
/// browsers are redirected to sign in, API clients get 401 JSON, and 503 when the store is down.
public struct SessionRequirementMiddleware<Subject: SessionSubject>: Middleware {
    /// The requirement.
    public let requirement: SessionRequirement<Subject>

    /// Creates the middleware.
    public init(_ requirement: SessionRequirement<Subject>) {
        self.requirement = requirement
    }

    public func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        let resolution = SessionResolution<Subject>.current ?? SessionResolution(session: nil, failure: nil, responseFields: [])
        if let refusal = requirement.refusal(of: request, resolution: resolution) {
            return request.eventLoop.makeSucceededFuture(refusal)
        }
        return next.respond(to: request)
    }
}

extension SessionRequirement {
    /// The requirement's answer to a Vapor request that does not meet it, or `nil` when it does.
    ///
    /// Only a request without a session is read by its refusal (for a redirect back to its path and query), so
    /// only then is the request converted, with Vapor's (costly) URL string.
    ///
    /// - Parameters:
    ///   - request: The Vapor request.
    ///   - resolution: Its session's resolution.
    /// - Returns: The refusal, or `nil`.
    @inlinable
    func refusal(of request: Request, resolution: SessionResolution<Subject>) -> Response? {
        let head = resolution.session == nil ? HTTPRequest(refusalHeadOf: request) : HTTPRequest.withSession
        return refusal(for: head, resolution: resolution).map(Response.init)
    }
}

extension Request {
    /// Runs `body` with this request's session current (`Session.current`, and `SessionData` with its changes
    /// saved), as ``SesameSessionMiddleware`` makes it for `async` route handlers.
    ///
    /// For synchronous route closures: when Vapor has to collect a request's body first (one that did not arrive
    /// whole with its head), it calls the closure from a callback, after the middleware's task-local scope has
    /// ended, and there `Session.current` is `nil` and `SessionData.set` throws.
    ///
    /// ```swift
    /// site.post("cart") { req throws -> String in
    ///     try req.withCurrentSession(AppSession.self) { try SessionData<Cart>.update { $0 = Cart() } }
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
        let scope = storage[SessionScopeKey.self]
            ?? SessionResolution<Subject>(session: auth.get(Sesame.Session<Subject>.self), failure: nil, responseFields: []).scope
        return try scope.run(body)
    }
}

/// Where ``SesameSessionMiddleware`` keeps a store-backed session's scope in the request's storage.
@usableFromInline
struct SessionScopeKey: StorageKey {
    @usableFromInline typealias Value = SessionScope
}

/// A Sesame session is what `req.auth` holds: `req.auth.get(Session<AppSession>.self)`, and Vapor's
/// `guardMiddleware()` and `redirectMiddleware(path:)` work with it.
extension Sesame.Session: Authenticatable {}

extension SessionCredentials {
    /// The session credentials of a Vapor request: its `Authorization` and `Cookie` fields, found in one pass
    /// over its headers and taken as they are (converting the request to an `HTTPRequest` would validate every
    /// field, and cost more than resolving a cached session).
    ///
    /// - Parameter request: The Vapor request.
    public init(of request: Request) {
        var authorization: String? = nil
        var cookies: [String] = []
        for (name, value) in request.headers {
            if HTTPRequest.name(name, equals: "cookie") {
                cookies.append(value)
            } else if HTTPRequest.name(name, equals: "authorization") {
                // Several fields read as one, joined as `HTTPFields` joins them.
                authorization = authorization.map { $0 + ", " + value } ?? value
            }
        }
        self.init(authorization: authorization, cookies: cookies)
    }
}

extension HTTPRequest {
    /// A stand-in for a request that has a session: a requirement's refusal of it (403) reads none of it.
    @usableFromInline
    static let withSession = HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/")

    /// The header fields that a requirement's refusal reads, by their lowercase names: the credentials and what
    /// tells a browser navigation from an API call.
    @usableFromInline
    static let refusalFields: [(lowercased: String, name: HTTPField.Name)] =
        ["cookie", "authorization", "accept", "sec-fetch-mode", "sec-fetch-site", "origin", "referer"].map { ($0, HTTPField.Name($0)!) }

    /// The session credentials of a Vapor request as an `HTTPRequest` (with its method, and the path `/`), for a
    /// strategy that resolves in a task.
    ///
    /// - Parameters:
    ///   - request: The Vapor request.
    ///   - credentials: Its credentials, already read (``SessionCredentials/init(of:)``).
    @usableFromInline
    init(of request: Request, carrying credentials: SessionCredentials) {
        self.init(method: HTTPRequest.Method(request.method.rawValue) ?? .get, scheme: nil, authority: nil, path: "/")
        if let authorization = credentials.authorization { headerFields.append(HTTPField(name: .authorization, value: authorization)) }
        for cookie in credentials.cookies { headerFields.append(HTTPField(name: .cookie, value: cookie)) }
    }

    /// The part of a Vapor request that a requirement's refusal reads: the method, the path (Vapor builds it
    /// from Foundation's `URLComponents`, which costs more than the whole resolution, so only a refusal does)
    /// and the few header fields involved, found in one pass over the headers.
    ///
    /// - Parameter request: The Vapor request.
    @usableFromInline
    init(refusalHeadOf request: Request) {
        self.init(of: request, path: request.url.string, fields: Self.refusalFields)
    }

    /// A Vapor request's method, `path`, and those of its header fields that `fields` names, found in one pass
    /// over its headers.
    ///
    /// - Parameters:
    ///   - request: The Vapor request.
    ///   - path: The path to give the result.
    ///   - fields: The fields to take, by their lowercase names.
    init(of request: Request, path: String, fields: [(lowercased: String, name: HTTPField.Name)]) {
        self.init(method: HTTPRequest.Method(request.method.rawValue) ?? .get, scheme: nil, authority: nil, path: path)
        for (name, value) in request.headers {
            guard let field = fields.first(where: { Self.name(name, equals: $0.lowercased) }) else { continue }
            headerFields.append(HTTPField(name: field.name, value: value))
        }
    }

    /// Whether a header name equals a lowercase one, ignoring ASCII case.
    @usableFromInline
    static func name(_ name: String, equals lowercased: String) -> Bool {
        guard name.utf8.count == lowercased.utf8.count else { return false }
        var index = name.utf8.startIndex
        for expected in lowercased.utf8 {
            let byte = name.utf8[index]
            let folded = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
            if folded != expected { return false }
            name.utf8.formIndex(after: &index)
        }
        return true
    }
}
