import Crypto

/// Keys for Sesame's own cookies (flow state, CSRF tokens, session-cookie MACs), derived from the app's keys
/// with HKDF-SHA-256, one purpose each, so that no two uses share a key and the app configures only one.
extension KeySet {
    /// A 32-byte key for `purpose` derived from the active key; a verification-only set, which cannot protect
    /// anything of its own, gets a random per-process key instead.
    ///
    /// - Parameter purpose: The HKDF `info`, for example `sesame/csrf/v1`.
    func derivedKey(purpose: String) -> [UInt8] {
        if let ring {
            // The ring's own fallback, so that every thread derives the same key from the same keys.
            return Self.derive(from: ring.current.activeKey?.secretBytes ?? ring.fallbackSecret, purpose: purpose)
        }
        return Self.derive(from: activeKey?.secretBytes ?? RandomToken.bytes(32), purpose: purpose)
    }

    /// A 32-byte key for `purpose` from each private or secret key, the active key's first (for MACs that
    /// verify under old keys during a rotation).
    func derivedKeys(purpose: String) -> [[UInt8]] {
        if let ring { return ring.current.derivedKeys(purpose: purpose) }
        let ordered = (activeKey.map { [$0] } ?? []) + keys.filter { $0.keyID != activeKey?.keyID }
        return ordered.compactMap(\.secretBytes).map { Self.derive(from: $0, purpose: purpose) }
    }

    /// Keys for `purpose` of which the first makes new values and every one is accepted, so that what was made before
    /// a rotation still checks: each private or secret key's derivation, the active key's first; a set with none (a
    /// verification-only set) gets the one key of ``derivedKey(purpose:)``.
    func rotatingDerivedKeys(purpose: String) -> [[UInt8]] {
        let derived = derivedKeys(purpose: purpose)
        return derived.isEmpty ? [derivedKey(purpose: purpose)] : derived
    }

    private static func derive(from material: [UInt8], purpose: String) -> [UInt8] {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: material), salt: Array("sesame".utf8), info: Array(purpose.utf8), outputByteCount: 32
        ).withUnsafeBytes { Array($0) }
    }
}

extension JWK {
    /// The key's private or secret bytes, for deriving other keys; `nil` for public keys.
    var secretBytes: [UInt8]? {
        switch material {
        case .p256(_, let privateKey?): return Array(privateKey.rawRepresentation)
        case .p384(_, let privateKey?): return Array(privateKey.rawRepresentation)
        case .ed25519(_, let privateKey?): return Array(privateKey.rawRepresentation)
        case .rsa(_, let privateKey?): return Array(privateKey.derRepresentation)
        case .symmetric(let key): return key.withUnsafeBytes { Array($0) }
        default: return nil
        }
    }
}
