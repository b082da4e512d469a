import Foundation

/// What the token endpoint (`POST {prefix}/token`) gives a native app: a short-lived access token (a session
/// token, sent as `Authorization: Bearer`) and the refresh token that gets the next pair.
public struct NativeTokenGrant: Sendable, Equatable {
    /// The access token: a session token of the app's ``SessionTokens``.
    public let accessToken: String
    /// When the access token expires.
    public let accessTokenExpiresAt: Date
    /// The refresh token (`sr1.…`), good for one refresh.
    public let refreshToken: String
    /// When the refresh token's family ends, however often it rotates.
    public let refreshTokenExpiresAt: Date

    /// The OAuth 2.0 token response (RFC 6749 §5.1): `access_token`, `token_type`, `expires_in`, `refresh_token`,
    /// and `refresh_token_expires_in`.
    func json(now: Date) -> JSONValue {
        [
            "access_token": .string(accessToken), "token_type": "Bearer",
            "expires_in": .integer(max(0, Int64(accessTokenExpiresAt.timeIntervalSince(now).rounded(.down)))),
            "refresh_token": .string(refreshToken),
            "refresh_token_expires_in": .integer(max(0, Int64(refreshTokenExpiresAt.timeIntervalSince(now).rounded(.down)))),
        ]
    }
}
