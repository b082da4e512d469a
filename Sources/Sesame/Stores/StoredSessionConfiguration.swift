import Foundation

/// Cookie and lifetimes of store-backed sessions.
public struct StoredSessionConfiguration: Sendable {
    /// The cookie (default name `sesame-sid`; `HttpOnly`, `SameSite=Lax`, `Secure` with the `__Host-` prefix;
    /// for plain-http development, `SessionCookie(name: "sesame-sid", baseURL: "http://…")`).
    public var cookie: SessionCookie
    /// How long an anonymous or pre-authentication session lives, in seconds (default 5 minutes).
    public var initialLifetime: TimeInterval
    /// How long a signed-in session lives at most after sign-in, in seconds (default 6 hours, absolute).
    public var authenticatedLifetime: TimeInterval
    /// How long a signed-in session lives after its last use, in seconds (default: no idle limit).
    public var idleTimeout: TimeInterval?
    /// The least time between two writes that only move a sliding expiry, in seconds (default 60).
    public var refreshInterval: TimeInterval
    /// Whether signing in keeps the data of the request's anonymous session (a cart filled before signing in;
    /// default `true`). The data of a session that was signed in (as anyone) is never carried over.
    public var carriesOverAnonymousData: Bool
    /// Where the store's operations are timed and its failures counted (default: the metrics backend
    /// `MetricsSystem.bootstrap` installed; with none, the store is not wrapped).
    public var metrics: SesameMetrics
    /// Where sign-outs and ended sessions are recorded (default: swift-log); the new session of a sign-in is named in the
    /// handler's `sign_in` event.
    public var audit: AuditLog

    /// Creates a configuration.
    public init(
        cookie: SessionCookie = SessionCookie(name: "sesame-sid"),
        initialLifetime: TimeInterval = 5 * 60,
        authenticatedLifetime: TimeInterval = 6 * 60 * 60,
        idleTimeout: TimeInterval? = nil,
        refreshInterval: TimeInterval = 60,
        carriesOverAnonymousData: Bool = true,
        metrics: SesameMetrics = SesameMetrics(),
        audit: AuditLog = AuditLog()
    ) {
        self.cookie = cookie
        self.initialLifetime = initialLifetime
        self.authenticatedLifetime = authenticatedLifetime
        self.idleTimeout = idleTimeout
        self.refreshInterval = refreshInterval
        self.carriesOverAnonymousData = carriesOverAnonymousData
        self.metrics = metrics
        self.audit = audit
    }
}

/// What a store keeps for one session, serialized as a small JSON object.
struct StoredSessionValue<Data: Codable & Sendable & Equatable>: Sendable {
    /// The subject in the token's wire shape (`type`, `properties`), once signed in.
    var subject: JSONObject?
    var subjectID: String?
    /// The app's data, JSON-encoded; `nil` when it has none.
    var encodedData: [UInt8]?
    var createdAt: Double
    var authenticatedAt: Double?
    var touchedAt: Double

    init(subject: JSONObject?, subjectID: String?, encodedData: [UInt8]?, createdAt: Double, authenticatedAt: Double?, touchedAt: Double) {
        self.subject = subject
        self.subjectID = subjectID
        self.encodedData = encodedData
        self.createdAt = createdAt
        self.authenticatedAt = authenticatedAt
        self.touchedAt = touchedAt
    }

    /// When the session ends: the absolute limit, or the idle limit when sooner.
    func expiry(_ configuration: StoredSessionConfiguration) -> Double {
        guard let authenticatedAt else { return createdAt + configuration.initialLifetime }
        let absolute = authenticatedAt + configuration.authenticatedLifetime
        guard let idle = configuration.idleTimeout else { return absolute }
        return min(absolute, touchedAt + idle)
    }

    var encoded: [UInt8] {
        var object: JSONObject = ["v": 1, "c": .double(createdAt), "t": .double(touchedAt)]
        if let subject, let subjectID {
            object["s"] = .object(subject)
            object["sid"] = .string(subjectID)
        }
        if let authenticatedAt { object["a"] = .double(authenticatedAt) }
        if let encodedData, let data = try? JSONValue(parsing: encodedData) { object["d"] = data }
        return JSONValue.object(object).jsonBytes
    }

    init(decoding bytes: [UInt8]) throws {
        guard case .object(let object) = try JSONValue(parsing: bytes), object["v"] == 1,
            let created = object["c"]?.doubleValue, let touched = object["t"]?.doubleValue
        else { throw SessionStoreError.invalidResponse("not a session") }
        createdAt = created
        touchedAt = touched
        authenticatedAt = object["a"]?.doubleValue
        subject = object["s"]?.objectValue
        subjectID = object["sid"]?.stringValue
        encodedData = object["d"].map { $0.jsonBytes }
    }
}
