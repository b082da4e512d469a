import HTTPTypes
import Synchronization

/// The request an audit event comes from, as a task-local value: the client's address and `User-Agent`, and who
/// signed in on it once that is known.
///
/// ``AuthHandler`` runs every auth request in one. An app runs its own routes that change accounts (a password form,
/// "unlink", "delete my account") in one too, so that their events say where they came from:
///
/// ```swift
/// router.post("/account/password") { request, context in
///     try await AuditRequest(request.head, clientAddress: peer).run { try await changePassword(request) }
/// }
/// ```
///
/// Without one, events are recorded without a client address or user agent.
public final class AuditRequest: Sendable {
    /// The client's IP address (resolve it through ``TrustedProxies`` first when there is a proxy).
    public let clientAddress: String?
    /// The request's `User-Agent`.
    public let userAgent: String?
    /// Who a sign-in on this request turned out to be, and its new session: noted by ``Accounts``, password
    /// accounts and the session strategies while the app's `onSuccess` runs, read by the handler's `sign_in` event.
    private let noted = Mutex<(userID: String?, subjectID: String?, sessionID: String?)>((nil, nil, nil))

    @TaskLocal static var current: AuditRequest?

    /// Creates the context of a request.
    ///
    /// - Parameters:
    ///   - clientAddress: The client's IP address.
    ///   - userAgent: The `User-Agent` field's value.
    public init(clientAddress: String?, userAgent: String?) {
        self.clientAddress = clientAddress
        self.userAgent = userAgent
    }

    /// Creates the context of a request from its head.
    ///
    /// - Parameters:
    ///   - request: The request.
    ///   - clientAddress: The client's IP address.
    public convenience init(_ request: HTTPRequest, clientAddress: String?) {
        self.init(clientAddress: clientAddress, userAgent: request.headerFields[.userAgent])
    }

    /// Creates the context of a request from its head and its socket's peer, resolving the client's address
    /// through the trusted proxies (as ``AuthHandler`` does).
    ///
    /// - Parameters:
    ///   - request: The request.
    ///   - peer: The socket peer's address, if known.
    ///   - trustedProxies: The proxies whose forwarding fields are believed.
    public convenience init(_ request: HTTPRequest, peer: String?, trustedProxies: TrustedProxies) {
        self.init(request, clientAddress: trustedProxies.clientAddress(peer: peer, fields: request.headerFields))
    }

    /// Runs `operation` with this request as the one events come from.
    ///
    /// - Parameter operation: The work.
    /// - Returns: What `operation` returns.
    /// - Throws: What `operation` throws.
    public func run<Result>(_ operation: () async throws -> Result) async rethrows -> Result {
        try await Self.$current.withValue(self, operation: operation)
    }

    /// Notes the user a sign-in on this request settled on (or whose password was tried).
    static func note(userID: String) {
        current?.noted.withLock { $0.userID = userID }
    }

    /// Notes the session a sign-in on this request made, and its subject.
    static func note(subjectID: String?, sessionID: String?) {
        current?.noted.withLock { state in
            if let subjectID { state.subjectID = subjectID }
            if let sessionID { state.sessionID = sessionID }
        }
    }

    /// Who signed in on this request, as far as it is known.
    var signedIn: (userID: String?, subjectID: String?, sessionID: String?) {
        noted.withLock { $0 }
    }
}
