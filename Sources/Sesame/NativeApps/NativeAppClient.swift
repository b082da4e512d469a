/// A native app (iOS, macOS, Android, desktop) that signs people in through the system browser and holds its
/// session as an access token and a rotating refresh token (``NativeAppSessions``).
///
/// A native app cannot keep a client secret, so it is identified by its ID alone; what protects its sign-ins is
/// the exact list of redirect URIs (the app's custom scheme or claimed https URL) and PKCE.
public struct NativeAppClient: Sendable, Equatable {
    /// The app's ID (`client_id`).
    public var id: String
    /// The redirect URIs the app may receive codes on, compared exactly (no prefixes, no wildcards).
    public var redirectURIs: [String]

    /// Registers an app.
    ///
    /// - Parameters:
    ///   - id: The app's ID (`client_id`).
    ///   - redirectURIs: Where codes may go, compared exactly, for example `com.example.app:/signed-in`.
    public init(id: String, redirectURIs: [String]) {
        self.id = id
        self.redirectURIs = redirectURIs
    }
}
