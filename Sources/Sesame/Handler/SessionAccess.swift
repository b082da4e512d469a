import Foundation
import HTTPTypes

/// What the Auth.js actions `GET|POST /auth/session` and `POST /auth/signout` need from the app's sessions,
/// whichever strategy they use.
///
/// ```swift
/// let auth = AuthHandler(providers: …, configuration: …, keys: keys, sessions: SessionAccess(sessions) { session in
///     guard case .user(let id, _) = session.subject, let user = try await users.find(id) else { return nil }
///     return ["name": .string(user.name), "email": .string(user.email)]
/// }) { success in … }
/// ```
public struct SessionAccess: Sendable {
    let resolve: @Sendable (HTTPRequest) async -> Resolved
    let signOut: @Sendable (HTTPRequest, String) async throws -> HTTPResponse

    struct Resolved: Sendable {
        /// The client-safe session, `nil` without one.
        let session: JSONObject?
        let subjectID: String?
        let responseFields: [HTTPField]
        let isUnavailable: Bool
    }

    /// Wraps a session strategy.
    ///
    /// - Parameters:
    ///   - strategy: The app's sessions (tokens or a store).
    ///   - user: The `session` callback: what the client may see of the signed-in user (Auth.js's
    ///     `{name, email, image}`), or `nil` to show no session. The default shows nothing but that a session exists.
    public init<Strategy: SessionStrategy>(
        _ strategy: Strategy,
        user: @escaping @Sendable (Session<Strategy.Subject>) async throws -> JSONObject? = { _ in [:] }
    ) {
        resolve = { request in
            let resolution = await strategy.resolve(request)
            guard let session = resolution.session, let shown = try? await user(session) else {
                return Resolved(session: nil, subjectID: nil, responseFields: resolution.responseFields, isUnavailable: resolution.isUnavailable)
            }
            let client: JSONObject = ["user": .object(shown), "expires": .string(session.expiresAt.formatted(.iso8601))]
            return Resolved(session: client, subjectID: session.subjectID, responseFields: resolution.responseFields, isUnavailable: false)
        }
        signOut = { request, redirect in try await strategy.signOut(request, redirect: redirect) }
    }
}
