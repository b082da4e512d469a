import Logging

/// What ``AuthHandler`` needs of ``NativeAppSessions`` (whatever its subject type): the native sign-in's routes
/// `GET {prefix}/native/authorize`, `GET {prefix}/native/complete`, `POST {prefix}/token` and
/// `POST {prefix}/revoke`.
///
/// ```swift
/// let native = try NativeAppSessions(tokens: sessions, store: store, configuration: NativeAppConfiguration(
///     clients: [NativeAppClient(id: "ios", redirectURIs: ["com.example.app:/signed-in"])]))
/// let auth = AuthHandler(providers: …, configuration: …, keys: keys, nativeApps: NativeAppAccess(native)) { … }
/// ```
public struct NativeAppAccess: Sendable {
    let authorize: @Sendable (AuthRequest, NativeAppContext) async throws -> AuthResponse
    let complete: @Sendable (AuthRequest, NativeAppContext) async throws -> AuthResponse
    let token: @Sendable (AuthRequest, NativeAppContext) async throws -> AuthResponse
    let revoke: @Sendable (AuthRequest, NativeAppContext) async throws -> AuthResponse

    /// Serves these native-app sessions' routes.
    ///
    /// - Parameter sessions: The native-app sessions.
    public init<Subject>(_ sessions: NativeAppSessions<Subject>) {
        authorize = { request, context in try sessions.authorize(request, context: context) }
        complete = { request, context in try await sessions.complete(request, context: context) }
        token = { request, context in try await sessions.token(request, context: context) }
        revoke = { request, context in try await sessions.revocation(request, context: context) }
    }
}

/// What the handler hands the native-app routes.
struct NativeAppContext: Sendable {
    /// The handler's configuration.
    let configuration: AuthConfiguration
    /// The sign-in page, coming back to the code step.
    let signInURL: String
}
