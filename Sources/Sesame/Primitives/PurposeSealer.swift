import Crypto

/// Seals secrets for storage: AES-256-GCM under a key derived from the app's key set for one purpose (so a value
/// sealed for one purpose never opens for another), with associated data that names the row it belongs to (so a
/// sealed value moved to another row does not open). Opening tries every private key of the set, so a key rotation
/// keeps old rows readable; they are sealed again under the active key when next written. With a ``KeyRing``'s set,
/// the keys are derived from the ring's keys as they are at each use.
///
/// Sealed form: a version byte (1), the 12-byte nonce, the ciphertext, the 16-byte tag.
struct PurposeSealer: Sendable {
    private static let version: UInt8 = 1
    private let purpose: String
    /// The associated data of a value sealed for no row (`parts` empty): the purpose alone.
    private let purposeBytes: [UInt8]
    /// The derived keys of a fixed set; `nil` for a ring's set, whose keys are derived at each use.
    private let fixedKeys: DerivedKeys?
    private let keys: KeySet

    /// The key values are sealed under, and every key they open under.
    struct DerivedKeys: Sendable {
        let sealing: SymmetricKey
        let opening: [SymmetricKey]

        init(keys: KeySet, purpose: String) {
            sealing = SymmetricKey(data: keys.derivedKey(purpose: purpose))
            let derived = keys.derivedKeys(purpose: purpose).map { SymmetricKey(data: $0) }
            // A verification-only set seals under a per-process key: readable until the process ends.
            opening = derived.isEmpty ? [sealing] : derived
        }
    }

    init(keys: KeySet, purpose: String) {
        self.purpose = purpose
        self.purposeBytes = Array(purpose.utf8)
        self.keys = keys
        fixedKeys = keys.isLive ? nil : DerivedKeys(keys: keys, purpose: purpose)
    }

    /// The derived keys for the set's keys now.
    private var derivedKeys: DerivedKeys { fixedKeys ?? DerivedKeys(keys: keys, purpose: purpose) }

    /// The sealed form of `plaintext` for the row named by `parts`.
    func seal(_ plaintext: [UInt8], for parts: [String]) throws -> [UInt8] {
        let box = try AES.GCM.seal(plaintext, using: derivedKeys.sealing, authenticating: parts.isEmpty ? purposeBytes : associatedData(parts))
        return [Self.version] + Array(box.nonce) + Array(box.ciphertext) + Array(box.tag)
    }

    /// The plaintext sealed for `parts`, or `nil` when the bytes do not open under any key (tampered, moved from
    /// another row, sealed for another purpose, or under a key no longer in the set).
    func open(_ sealed: [UInt8], for parts: [String]) -> [UInt8]? {
        // After the version byte: the nonce, the ciphertext and the tag, in the order AES-GCM's combined form has them.
        guard sealed.count >= 1 + 12 + 16, sealed[0] == Self.version, let box = try? AES.GCM.SealedBox(combined: sealed[1...]) else { return nil }
        let associated = parts.isEmpty ? purposeBytes : associatedData(parts)
        for candidate in derivedKeys.opening {
            if let plaintext = try? AES.GCM.open(box, using: candidate, authenticating: associated) { return Array(plaintext) }
        }
        return nil
    }

    /// The purpose, then length-prefixed parts: no two rows give the same bytes.
    private func associatedData(_ parts: [String]) -> [UInt8] {
        var bytes = Array(purpose.utf8)
        for part in parts {
            let utf8 = Array(part.utf8)
            withUnsafeBytes(of: UInt32(utf8.count).bigEndian) { bytes += $0 }
            bytes += utf8
        }
        return bytes
    }
}
