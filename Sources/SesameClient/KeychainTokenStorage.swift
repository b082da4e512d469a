#if canImport(Security)
import Foundation
import Security

/// Tokens in the Keychain (Apple platforms): one generic-password item, readable only while the device is unlocked
/// and never synced or restored to another device.
public struct KeychainTokenStorage: SesameTokenStorage {
    /// The item's service name.
    public let service: String
    /// The item's account name.
    public let account: String

    /// Creates storage for one item.
    ///
    /// - Parameters:
    ///   - service: The item's service (default: `sesame`).
    ///   - account: The item's account (default: `tokens`).
    public init(service: String = "sesame", account: String = "tokens") {
        self.service = service
        self.account = account
    }

    private var query: [String: Any] {
        [kSecClass as String: kSecClassGenericPassword, kSecAttrService as String: service, kSecAttrAccount as String: account]
    }

    public func load() async throws -> SesameTokens? {
        var query = self.query
        query[kSecReturnData as String] = true
        query[kSecMatchLimit as String] = kSecMatchLimitOne
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        if status == errSecItemNotFound { return nil }
        guard status == errSecSuccess, let data = item as? Data else { throw SesameClientError.storage(Int(status)) }
        return try JSONDecoder().decode(SesameTokens.self, from: data)
    }

    public func save(_ tokens: SesameTokens?) async throws {
        let deleted = SecItemDelete(query as CFDictionary)
        guard deleted == errSecSuccess || deleted == errSecItemNotFound else { throw SesameClientError.storage(Int(deleted)) }
        guard let tokens else { return }
        var item = query
        item[kSecValueData as String] = try JSONEncoder().encode(tokens)
        item[kSecAttrAccessible as String] = kSecAttrAccessibleWhenUnlockedThisDeviceOnly
        let status = SecItemAdd(item as CFDictionary, nil)
        guard status == errSecSuccess else { throw SesameClientError.storage(Int(status)) }
    }
}
#endif
