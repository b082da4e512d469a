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
    /// `POST session` with `data`: the new session's cookie fields and client-safe JSON, or `nil` to keep it.
    let update: @Sendable (HTTPRequest, JSONValue) async throws -> (fields: [HTTPField], session: JSONObject?)?

    struct Resolved: Sendable {
        /// The client-safe session, `nil` without one.
        let session: JSONObject?
        let subjectID: String?
        let responseFields: [HTTPField]
        let isUnavailable: Bool
        /// What to answer when the session had to be known but its store could not say: the revocation store's
        /// error for session tokens, the session store's for stored sessions.
        var unavailableError: AuthError? {
            guard isUnavailable else { return nil }
            return isRevocationUnavailable ? .revocationUnavailable : .unavailable.with(detail: "the session store cannot be reached")
        }
        var isRevocationUnavailable = false
    }

    /// Wraps a session strategy.
    ///
    /// - Parameters:
    ///   - strategy: The app's sessions (tokens or a store).
    ///   - update: Auth.js's `update(data)`: given the session and the `data` the client posted to
    ///     `POST /session`, the subject the session should have now (it is signed in again, with a new session
    ///     ID), or `nil` to leave it as it is. Validate `data` here: it comes from the client. The default
    ///     changes nothing.
    ///   - user: The `session` callback: what the client may see of the signed-in user (Auth.js's
    ///     `{name, email, image}`), or `nil` to show no session. The default shows nothing but that a session exists.
    public init<Strategy: SessionStrategy>(
        _ strategy: Strategy,
        user: @escaping @Sendable (AuthSession<Strategy.Subject>) async throws -> JSONObject? = { _ in [:] },
        update: @escaping @Sendable (AuthSession<Strategy.Subject>, JSONValue) async throws -> Strategy.Subject? = { _, _ in nil }
    ) {
        resolve = { request in
            let resolution = await strategy.resolve(request)
            guard let session = resolution.session, let shown = try? await user(session) else {
                return Resolved(
                    session: nil, subjectID: nil, responseFields: resolution.responseFields, isUnavailable: resolution.isUnavailable,
                    isRevocationUnavailable: resolution.failure == .revocationUnavailable)
            }
            let client: JSONObject = ["user": .object(shown), "expires": .string(session.expiresAt.formatted(.iso8601))]
            return Resolved(session: client, subjectID: session.subjectID, responseFields: resolution.responseFields, isUnavailable: false)
        }
        signOut = { request, redirect in try await strategy.signOut(request, redirect: redirect) }
        self.update = { request, data in
            guard let session = await strategy.resolve(request).session, let subject = try await update(session, data) else { return nil }
            let signedIn = try await strategy.signIn(subject, request: request, redirect: "/")
            let fields: [HTTPField] = signedIn.headerFields.filter { $0.name == .setCookie }
            // What the client sees now: the new session, read back through its own cookie.
            var next = request
            next.headerFields[.cookie] = fields.map { String($0.value.prefix { $0 != ";" }) }.filter { !$0.hasSuffix("=") }.joined(separator: "; ")
            guard let renewed = await strategy.resolve(next).session, let shown = try await user(renewed) else { return (fields, nil) }
            return (fields, ["user": .object(shown), "expires": .string(renewed.expiresAt.formatted(.iso8601))])
        }
    }
}
