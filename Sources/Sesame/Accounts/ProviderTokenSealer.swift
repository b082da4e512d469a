import Foundation

/// Seals a provider's tokens for storage (``PurposeSealer``, purpose `sesame/provider-tokens/v1`), with the
/// account's key as associated data, so that a sealed value moved to another account's row does not open.
struct ProviderTokenSealer: Sendable {
    private let sealer: PurposeSealer

    init(keys: KeySet) {
        sealer = PurposeSealer(keys: keys, purpose: "sesame/provider-tokens/v1")
    }

    /// The sealed form of `tokens` for the account `key`.
    func seal(_ tokens: TokenSet, for key: AccountKey) throws -> [UInt8] {
        var object: JSONObject = ["access_token": .string(tokens.accessToken)]
        if let value = tokens.tokenType { object["token_type"] = .string(value) }
        if let value = tokens.refreshToken { object["refresh_token"] = .string(value) }
        if let value = tokens.idToken { object["id_token"] = .string(value) }
        if let value = tokens.scope { object["scope"] = .string(value) }
        if let value = tokens.expiresAt { object["expires_at"] = .double(value.timeIntervalSince1970) }
        var plaintext: [UInt8] = []
        JSONValue.object(object).write(to: &plaintext)
        return try sealer.seal(plaintext, for: Self.parts(key))
    }

    /// The tokens sealed for `key`, or `nil` when the bytes do not open (see ``PurposeSealer/open(_:for:)``).
    func open(_ sealed: [UInt8], for key: AccountKey) -> TokenSet? {
        guard let plaintext = sealer.open(sealed, for: Self.parts(key)),
            case .object(let object)? = try? JSONValue(parsing: plaintext),
            case .string(let access)? = object["access_token"]
        else { return nil }
        return TokenSet(
            accessToken: access, tokenType: object["token_type"]?.stringValue, refreshToken: object["refresh_token"]?.stringValue,
            idToken: object["id_token"]?.stringValue, expiresAt: object["expires_at"]?.doubleValue.map(Date.init(timeIntervalSince1970:)),
            scope: object["scope"]?.stringValue)
    }

    private static func parts(_ key: AccountKey) -> [String] {
        [key.provider, key.issuer, key.providerAccountID]
    }
}
