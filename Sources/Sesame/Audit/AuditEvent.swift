import Foundation

/// A security event for the audit log: who, what, when and from where.
///
/// Events never carry a token, a code, a password or a cookie. `detail` holds a stable word (a refusal's error
/// code, a factor's kind, how many sessions ended), never free text from a request.
public struct AuditEvent: Sendable, Equatable, Codable {
    /// What happened. The raw values are the stable names logs and stores use.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// Someone signed in.
        case signIn = "sign_in"
        /// A sign-in was refused (`detail`: the error code; `userID` when the account is known).
        case signInFailed = "sign_in_failed"
        /// A session was signed out by its own holder.
        case signOut = "sign_out"
        /// A session was ended from elsewhere: "sign out that device", "sign out everywhere", a command line.
        case sessionRevoked = "session_revoked"
        /// A password was set, changed or reset.
        case passwordChanged = "password_changed"
        /// A second factor was enrolled (`detail`: `totp`).
        case factorEnrolled = "factor_enrolled"
        /// A second factor was removed (`detail`: `totp`).
        case factorRemoved = "factor_removed"
        /// A passkey was registered.
        case passkeyAdded = "passkey_added"
        /// A passkey was deleted.
        case passkeyRemoved = "passkey_removed"
        /// A provider account was linked to a user (`provider`).
        case accountLinked = "account_linked"
        /// A provider account was unlinked from a user (`provider`).
        case accountUnlinked = "account_unlinked"
        /// A user was deleted.
        case userDeleted = "user_deleted"
        /// A refresh token that had already been used was presented again; its whole family was revoked.
        case refreshTokenReuse = "refresh_token_reuse"
    }

    /// What happened.
    public var kind: Kind
    /// When it happened.
    public var time: Date
    /// Whom it concerns, as an ``AuthUser`` ID: set by account events, by sign-ins that ``Accounts`` or
    /// ``PasswordAccounts`` settled, and by a refused password for a known account; `nil` when no user is known.
    public var userID: String?
    /// Whom it concerns, as a session's ``SessionSubject/subjectIdentifier``: set by session events (sign-in,
    /// sign-out, revocations, refresh-token reuse).
    public var subjectID: String?
    /// The session involved, as ``AuthSession/id`` (never the cookie or token), when there is one.
    public var sessionID: String?
    /// The client's IP address, as ``TrustedProxies`` resolved it, when the event came from a request.
    public var clientAddress: String?
    /// The client's `User-Agent`, at most 256 characters of printable ASCII, when the event came from a request.
    public var userAgent: String?
    /// The provider involved (`github`, `password`, a native app's client ID for refresh tokens), if any.
    public var provider: String?
    /// A stable word qualifying the event: a refusal's error code, a factor's kind, `all` for every session.
    public var detail: String?

    /// Creates an event.
    ///
    /// - Parameters:
    ///   - kind: What happened.
    ///   - time: When.
    ///   - userID: The user it concerns.
    ///   - subjectID: The session subject it concerns.
    ///   - sessionID: The session involved.
    ///   - clientAddress: The client's IP address.
    ///   - userAgent: The client's `User-Agent` (cleaned: see ``userAgent``).
    ///   - provider: The provider involved.
    ///   - detail: A stable word qualifying the event.
    public init(
        kind: Kind, time: Date, userID: String? = nil, subjectID: String? = nil, sessionID: String? = nil, clientAddress: String? = nil, userAgent: String? = nil,
        provider: String? = nil, detail: String? = nil
    ) {
        self.kind = kind
        self.time = time
        self.userID = userID
        self.subjectID = subjectID
        self.sessionID = sessionID
        self.clientAddress = clientAddress
        self.userAgent = userAgent.map(Self.cleaned)
        self.provider = provider
        self.detail = detail
    }

    /// A `User-Agent` safe to log and show: printable ASCII only (a line break could forge a log line), at most 256
    /// characters.
    static func cleaned(_ userAgent: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(userAgent.utf8.count, 256))
        for byte in userAgent.utf8 where bytes.count < 256 {
            bytes.append((0x20...0x7E).contains(byte) ? byte : UInt8(ascii: "?"))
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
