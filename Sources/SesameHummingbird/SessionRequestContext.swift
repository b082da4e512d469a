import Hummingbird
import HummingbirdAuth
import NIOCore
import Sesame

/// A request context that carries a Sesame session as its authenticated identity.
///
/// It refines hummingbird-auth's `AuthRequestContext`, so `context.identity` is the `Session<Subject>` and
/// `context.requireIdentity()` works as with any Hummingbird authenticator.
public protocol SessionRequestContext<Subject>: AuthRequestContext where Identity == Session<Subject> {
    /// The app's session enum.
    associatedtype Subject: SessionSubject
}

/// A ready-made ``SessionRequestContext`` that also records the client's address (for rate limits).
public struct SessionContext<Subject: SessionSubject>: SessionRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The request's session, once ``SessionMiddleware`` has resolved it.
    public var identity: Session<Subject>?
    /// The address of the connected client.
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        identity = nil
        remoteAddress = source.channel.remoteAddress
    }
}
