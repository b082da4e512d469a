/// The one algorithm a key is bound to.
///
/// Sesame binds every key to exactly one algorithm and lets the key, never the token, decide how a token is
/// checked: a token whose header names any other algorithm is rejected. Signing algorithms are those of
/// JWS (RFC 7518 §3, RFC 8037); the two content-encryption algorithms are used with JWE `dir`.
public struct KeyAlgorithm: Sendable, Hashable, CustomStringConvertible {
    enum Base: String, Sendable, CaseIterable {
        case es256 = "ES256"
        case es384 = "ES384"
        case edDSA = "EdDSA"
        case rs256 = "RS256"
        case ps256 = "PS256"
        case hs256 = "HS256"
        case hs384 = "HS384"
        case hs512 = "HS512"
        case a256gcm = "A256GCM"
        case a256cbcHS512 = "A256CBC-HS512"
    }

    let base: Base

    init(_ base: Base) { self.base = base }

    /// Looks up an algorithm by its registered JOSE name (case-sensitive, as JOSE names are).
    ///
    /// - Parameter name: For example `ES256` or `A256GCM`.
    public init?(name: String) {
        guard let base = Base(rawValue: name) else { return nil }
        self.base = base
    }

    /// The registered JOSE name, for example `ES256`.
    public var name: String { base.rawValue }
    public var description: String { name }

    /// ECDSA with P-256 and SHA-256: Sesame's default for session tokens.
    public static let es256 = KeyAlgorithm(.es256)
    /// ECDSA with P-384 and SHA-384.
    public static let es384 = KeyAlgorithm(.es384)
    /// EdDSA with Ed25519 (RFC 8037).
    public static let edDSA = KeyAlgorithm(.edDSA)
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    public static let rs256 = KeyAlgorithm(.rs256)
    /// RSASSA-PSS with SHA-256, MGF1 with SHA-256 and a 32-byte salt.
    public static let ps256 = KeyAlgorithm(.ps256)
    /// HMAC with SHA-256.
    public static let hs256 = KeyAlgorithm(.hs256)
    /// HMAC with SHA-384.
    public static let hs384 = KeyAlgorithm(.hs384)
    /// HMAC with SHA-512.
    public static let hs512 = KeyAlgorithm(.hs512)
    /// JWE `dir` with AES-256-GCM content encryption.
    public static let a256gcm = KeyAlgorithm(.a256gcm)
    /// JWE `dir` with AES-256-CBC + HMAC-SHA-512 content encryption (RFC 7518 §5.2.5).
    public static let a256cbcHS512 = KeyAlgorithm(.a256cbcHS512)

    /// Every algorithm Sesame implements.
    public static let all: [KeyAlgorithm] = Base.allCases.map(KeyAlgorithm.init)

    /// Whether keys of this algorithm sign JWS (as opposed to encrypting JWE content).
    public var isSigning: Bool {
        switch base {
        case .a256gcm, .a256cbcHS512: return false
        default: return true
        }
    }

    /// Whether this is an HMAC algorithm.
    public var isHMAC: Bool {
        switch base {
        case .hs256, .hs384, .hs512: return true
        default: return false
        }
    }

    /// The size a symmetric key for this algorithm must have at least (HMAC) or exactly (encryption), in bytes.
    var symmetricKeySize: Int? {
        switch base {
        case .hs256: return 32
        case .hs384: return 48
        case .hs512: return 64
        case .a256gcm: return 32
        case .a256cbcHS512: return 64
        default: return nil
        }
    }
}
