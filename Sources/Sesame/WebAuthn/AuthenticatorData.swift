/// The authenticator data structure (WebAuthn §6.1) an authenticator signs in every ceremony.
///
/// Layout: `rpIdHash` (32 bytes), `flags` (1), `signCount` (4, big-endian), then attested credential data when
/// the AT flag is set (registration) and an extensions map when the ED flag is set. Parsing is exact: each
/// part must be present exactly when its flag says so, and nothing may follow.
public struct AuthenticatorData: Sendable, Hashable {
    /// The flags byte. Reserved bits (1 and 5) are kept in ``rawValue`` but have no meaning.
    public struct Flags: OptionSet, Sendable, Hashable {
        /// The byte as received.
        public let rawValue: UInt8

        /// Creates flags from the byte.
        ///
        /// - Parameter rawValue: The flags byte.
        public init(rawValue: UInt8) {
            self.rawValue = rawValue
        }

        /// UP, bit 0: the user was present.
        public static let userPresent = Flags(rawValue: 1 << 0)
        /// UV, bit 2: the user was verified (biometric, PIN).
        public static let userVerified = Flags(rawValue: 1 << 2)
        /// BE, bit 3: the credential may be backed up (a synced, multi-device passkey).
        public static let backupEligible = Flags(rawValue: 1 << 3)
        /// BS, bit 4: the credential is currently backed up. Only meaningful with BE.
        public static let backedUp = Flags(rawValue: 1 << 4)
        /// AT, bit 6: attested credential data follows the sign count.
        public static let attestedCredentialData = Flags(rawValue: 1 << 6)
        /// ED, bit 7: an extensions map ends the structure.
        public static let extensionData = Flags(rawValue: 1 << 7)
    }

    /// The attested credential data (WebAuthn §6.5.1): present in registrations.
    public struct AttestedCredentialData: Sendable, Hashable {
        /// The authenticator model's AAGUID, 16 bytes (all zero when the authenticator withholds it).
        public let aaguid: [UInt8]
        /// The credential ID, 1 to 1023 bytes.
        public let credentialID: [UInt8]
        /// The credential public key.
        public let publicKey: COSEKey
    }

    /// The longest credential ID accepted (WebAuthn §6.5.1 and registration step "credentialId ≤ 1023 bytes").
    public static let maximumCredentialIDLength = 1023

    /// The structure's bytes exactly as received (what the signature covers).
    public let raw: [UInt8]
    /// SHA-256 of the RP ID the credential is scoped to, 32 bytes.
    public let rpIDHash: [UInt8]
    /// The flags.
    public let flags: Flags
    /// The signature counter (0 for authenticators that do not count).
    public let signCount: UInt32
    /// The attested credential data, present exactly when ``Flags/attestedCredentialData`` is set.
    public let attestedCredentialData: AttestedCredentialData?
    /// The authenticator extension outputs: a CBOR map with text keys, present exactly when
    /// ``Flags/extensionData`` is set.
    public let extensions: CBORValue?

    /// Whether the user was present (UP).
    public var userPresent: Bool { flags.contains(.userPresent) }
    /// Whether the user was verified (UV).
    public var userVerified: Bool { flags.contains(.userVerified) }
    /// Whether the credential is backup eligible (BE).
    public var backupEligible: Bool { flags.contains(.backupEligible) }
    /// Whether the credential is backed up (BS).
    public var backedUp: Bool { flags.contains(.backedUp) }

    /// Parses authenticator data.
    ///
    /// - Parameter bytes: The authenticator data, exactly.
    /// - Throws: ``WebAuthnDataError``: ``WebAuthnDataError/Code/malformedAuthenticatorData`` when the bytes are
    ///   shorter than 37, when BS is set without BE, when attested credential data is missing although AT is
    ///   set (or present although it is not), when the credential ID is empty or longer than 1023 bytes, when
    ///   extensions are missing although ED is set (or present although it is not), when extensions are not a
    ///   map with text keys, or when bytes are left over; ``WebAuthnDataError/Code/malformedCBOR`` when the
    ///   credential public key or the extensions are not canonical CBOR; and the errors of ``COSEKey`` for the
    ///   credential public key.
    public init(bytes: [UInt8]) throws(WebAuthnDataError) {
        guard bytes.count >= 37 else {
            throw Self.malformed("authenticator data is \(bytes.count) bytes, shorter than the 37-byte minimum")
        }
        let flags = Flags(rawValue: bytes[32])
        if flags.contains(.backedUp) && !flags.contains(.backupEligible) {
            throw Self.malformed("the backed-up (BS) flag is set without the backup-eligible (BE) flag")
        }
        raw = bytes
        rpIDHash = Array(bytes[0..<32])
        self.flags = flags
        signCount = UInt32(bytes[33]) << 24 | UInt32(bytes[34]) << 16 | UInt32(bytes[35]) << 8 | UInt32(bytes[36])

        var position = 37
        if flags.contains(.attestedCredentialData) {
            guard bytes.count - position >= 18 else {
                throw Self.malformed("the AT flag is set but the attested credential data is truncated")
            }
            let aaguid = Array(bytes[position..<(position + 16)])
            position += 16
            let idLength = Int(bytes[position]) << 8 | Int(bytes[position + 1])
            position += 2
            guard idLength >= 1, idLength <= Self.maximumCredentialIDLength else {
                throw Self.malformed("credential ID length \(idLength) is outside 1-\(Self.maximumCredentialIDLength)")
            }
            guard bytes.count - position >= idLength else {
                throw Self.malformed("the credential ID claims \(idLength) bytes but \(bytes.count - position) remain")
            }
            let credentialID = Array(bytes[position..<(position + idLength)])
            position += idLength
            guard position < bytes.count else {
                throw Self.malformed("the AT flag is set but the credential public key is missing")
            }
            let decoded: (value: CBORValue, byteCount: Int)
            do {
                decoded = try CBORValue.decodePrefix(bytes[position...])
            } catch {
                throw WebAuthnDataError(error, decoding: "credential public key")
            }
            let keyBytes = Array(bytes[position..<(position + decoded.byteCount)])
            position += decoded.byteCount
            let publicKey = try COSEKey(value: decoded.value, bytes: keyBytes)
            attestedCredentialData = AttestedCredentialData(
                aaguid: aaguid, credentialID: credentialID, publicKey: publicKey)
        } else {
            attestedCredentialData = nil
        }

        if flags.contains(.extensionData) {
            guard position < bytes.count else {
                throw Self.malformed("the ED flag is set but there are no extensions")
            }
            let value: CBORValue
            do {
                value = try CBORValue.decode(bytes[position...])
            } catch let error where error.code == .trailingBytes {
                throw Self.malformed("\(bytes.count - position - error.offset) bytes follow the extensions")
            } catch {
                throw WebAuthnDataError(error, decoding: "authenticator extensions")
            }
            guard let entries = value.mapEntries else {
                throw Self.malformed("the extensions are not a CBOR map")
            }
            guard entries.allSatisfy({ $0.key.text != nil }) else {
                throw Self.malformed("extension identifiers must be text strings")
            }
            extensions = value
        } else {
            guard position == bytes.count else {
                let what = flags.contains(.attestedCredentialData) ? "the credential public key" : "the sign count"
                throw Self.malformed(
                    "\(bytes.count - position) bytes follow \(what) but neither AT nor ED announces them")
            }
            extensions = nil
        }
    }

    private static func malformed(_ detail: String) -> WebAuthnDataError {
        WebAuthnDataError(.malformedAuthenticatorData, detail: detail)
    }
}
