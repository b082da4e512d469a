/// A provider that can refresh its tokens (RFC 6749 §6): ``OAuth2Provider`` and ``OIDCProvider``.
public protocol TokenRefreshing: Sendable {
    /// Exchanges a refresh token for new tokens.
    ///
    /// - Parameter refreshToken: The refresh token.
    /// - Returns: The new tokens (with the old refresh token when the provider did not rotate it).
    /// - Throws: ``TokenRefreshError``.
    func refreshTokens(_ refreshToken: String) async throws(TokenRefreshError) -> TokenSet
}

/// Why a refresh failed.
public enum TokenRefreshError: Error, Sendable, Equatable {
    /// The provider refused the refresh token (`invalid_grant`): the user must sign in with the provider again.
    case refused(String)
    /// The provider could not be reached or gave no usable answer: nothing changed, try again later.
    case unavailable(String)
}

extension OAuth2Provider: TokenRefreshing {
    public func refreshTokens(_ refreshToken: String) async throws(TokenRefreshError) -> TokenSet {
        try await client.refresh(refreshToken, endpoints: endpoints)
    }
}

extension OIDCProvider: TokenRefreshing {
    public func refreshTokens(_ refreshToken: String) async throws(TokenRefreshError) -> TokenSet {
        let discovered: ProviderMetadataCache.Metadata
        do {
            discovered = try await metadata.discover()
        } catch {
            throw TokenRefreshError.unavailable(error.detail ?? "discovery failed")
        }
        return try await client.refresh(refreshToken, endpoints: discovered.endpoints)
    }
}
