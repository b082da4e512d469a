import Hummingbird
import HummingbirdAuth
import NIOCore
import Sesame

/// Runs Sesame's `SessionFlow` for the routes below it: resolves the request's session (either strategy), refuses
/// what the flow refuses, runs the route with the session as `context.identity` and `AuthSession.current`, then adds
/// what the flow says (a new or cleared cookie, or a 503 when the changes could not be saved).
///
/// For routes that mix public and protected pages, resolve once without a requirement and add
/// ``RequireSessionMiddleware`` to the protected group.
public struct SesameSessionMiddleware<Context: SesameRequestContext, Strategy: SessionStrategy>: RouterMiddleware where Strategy.Subject == Context.Subject {
    /// The flow.
    public let flow: SessionFlow<Strategy>

    /// Creates the middleware.
    ///
    /// - Parameters:
    ///   - sessions: The session strategy: `SessionTokens` or `StoredSessions`.
    ///   - requirement: A requirement to enforce (default: none, the session is optional).
    ///   - crossSite: Which cookie-authenticated state changes to refuse (default: those from other sites).
    public init(sessions: Strategy, requirement: SessionRequirement<Context.Subject>? = nil, crossSite: CrossSiteProtection = CrossSiteProtection()) {
        flow = SessionFlow(sessions: sessions, requirement: requirement, crossSite: crossSite)
    }

    @inlinable
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch await flow.start(request.head).value {
        case .refuse(let refusal):
            return Response(refusal)
        case .proceed(let scope):
            var context = context
            context.identity = scope.session
            var response = try await scope.run { try await next(request, context) }
            guard scope.needsFinish else { return response }
            switch await flow.finish(scope).value {
            case .add(let fields): response.headers.append(contentsOf: fields)
            case .replace(let replacement): return Response(replacement)
            }
            return response
        }
    }
}

/// Lets a request through only with a session (of a given kind), resolved by a ``SesameSessionMiddleware`` above
/// it: the guard for a group of protected routes. See `SessionRequirement` for its answers.
public struct RequireSessionMiddleware<Context: SesameRequestContext>: RouterMiddleware {
    /// The requirement.
    public let requirement: SessionRequirement<Context.Subject>

    /// Creates the guard.
    ///
    /// - Parameter requirement: The sign-in URL and which sessions qualify.
    public init(_ requirement: SessionRequirement<Context.Subject> = SessionRequirement()) {
        self.requirement = requirement
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let refusal = requirement.refusalOfCurrent(request.head) { return Response(refusal) }
        return try await next(request, context)
    }
}

/// A request context that carries a Sesame session as its authenticated identity.
///
/// It refines hummingbird-auth's `AuthRequestContext`, so `context.identity` is the `AuthSession<Subject>` and
/// `context.requireIdentity()` works as with any Hummingbird authenticator.
public protocol SesameRequestContext<Subject>: AuthRequestContext where Identity == AuthSession<Subject> {
    /// The app's session enum.
    associatedtype Subject: SessionSubject
}

/// A ready-made ``SesameRequestContext`` that also records the client's address (for rate limits).
public struct BasicSesameRequestContext<Subject: SessionSubject>: SesameRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The request's session, once ``SesameSessionMiddleware`` has resolved it.
    public var identity: AuthSession<Subject>?
    /// The address of the connected client.
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        identity = nil
        remoteAddress = source.channel.remoteAddress
    }
}
