import Crypto
import Foundation

/// Seals a provider's tokens for storage: AES-256-GCM under a key derived from the app's key set (purpose
/// `sesame/provider-tokens/v1`), with the account's key as associated data, so that a sealed value moved to
/// another account's row does not open. Opening tries every private key of the set, so a key rotation keeps
/// old rows readable; they are sealed again under the active key when next written.
struct ProviderTokenSealer: Sendable {
    private static let purpose = "sesame/provider-tokens/v1"
    private static let version: UInt8 = 1
    private let sealingKey: SymmetricKey
    private let openingKeys: [SymmetricKey]

    init(keys: KeySet) {
        sealingKey = SymmetricKey(data: keys.derivedKey(purpose: Self.purpose))
        let derived = keys.derivedKeys(purpose: Self.purpose).map { SymmetricKey(data: $0) }
        // A verification-only set seals under a per-process key: readable until the process ends.
        openingKeys = derived.isEmpty ? [sealingKey] : derived
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
        let box = try AES.GCM.seal(plaintext, using: sealingKey, authenticating: Self.associatedData(key))
        return [Self.version] + Array(box.nonce) + Array(box.ciphertext) + Array(box.tag)
    }

    /// The tokens sealed for `key`, or `nil` when the bytes do not open under any key (tampered, moved from
    /// another account, or sealed under a key no longer in the set).
    func open(_ sealed: [UInt8], for key: AccountKey) -> TokenSet? {
        guard sealed.count >= 1 + 12 + 16, sealed[0] == Self.version,
            let box = try? AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: sealed[1..<13]), ciphertext: sealed[13..<(sealed.count - 16)], tag: sealed[(sealed.count - 16)...])
        else { return nil }
        let associated = Self.associatedData(key)
        for candidate in openingKeys {
            guard let plaintext = try? AES.GCM.open(box, using: candidate, authenticating: associated),
                case .object(let object)? = try? JSONValue(parsing: Array(plaintext)),
                case .string(let access)? = object["access_token"]
            else { continue }
            return TokenSet(
                accessToken: access, tokenType: object["token_type"]?.stringValue, refreshToken: object["refresh_token"]?.stringValue,
                idToken: object["id_token"]?.stringValue, expiresAt: object["expires_at"]?.doubleValue.map(Date.init(timeIntervalSince1970:)),
                scope: object["scope"]?.stringValue)
        }
        return nil
    }

    private static func associatedData(_ key: AccountKey) -> [UInt8] {
        // Length-prefixed parts: no two keys give the same bytes.
        var bytes = Array(purpose.utf8)
        for part in [key.provider, key.issuer, key.providerAccountID] {
            let utf8 = Array(part.utf8)
            withUnsafeBytes(of: UInt32(utf8.count).bigEndian) { bytes += $0 }
            bytes += utf8
        }
        return bytes
    }
}
