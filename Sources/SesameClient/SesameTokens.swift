import Foundation

/// What a signed-in app holds: the access token it sends as `Authorization: Bearer` and the refresh token that
/// gets the next pair.
public struct SesameTokens: Codable, Sendable, Equatable {
    /// The access token (a Sesame session token).
    public var accessToken: String
    /// When the access token expires.
    public var accessTokenExpiresAt: Date
    /// The refresh token (`sr1.…`), good for one refresh.
    public var refreshToken: String
    /// When the refresh token's family ends.
    public var refreshTokenExpiresAt: Date

    /// Creates tokens.
    public init(accessToken: String, accessTokenExpiresAt: Date, refreshToken: String, refreshTokenExpiresAt: Date) {
        self.accessToken = accessToken
        self.accessTokenExpiresAt = accessTokenExpiresAt
        self.refreshToken = refreshToken
        self.refreshTokenExpiresAt = refreshTokenExpiresAt
    }
}

/// Where ``SesameClient`` keeps its tokens between launches.
///
/// ``MemoryTokenStorage`` keeps them for the process; on Apple platforms `KeychainTokenStorage` keeps them in the
/// Keychain. An app can store them anywhere else that is as safe.
public protocol SesameTokenStorage: Sendable {
    /// The stored tokens, or `nil`.
    func load() async throws -> SesameTokens?
    /// Stores tokens, or removes them (`nil`).
    func save(_ tokens: SesameTokens?) async throws
}

/// Tokens in memory, for the process's lifetime (the default).
public actor MemoryTokenStorage: SesameTokenStorage {
    private var tokens: SesameTokens?

    /// Creates empty storage, or storage holding `tokens`.
    public init(_ tokens: SesameTokens? = nil) { self.tokens = tokens }

    public func load() async throws -> SesameTokens? { tokens }

    public func save(_ tokens: SesameTokens?) async throws { self.tokens = tokens }
}
