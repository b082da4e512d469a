/// How session tokens protect their payload.
public struct TokenFormat: Sendable, Hashable, CustomStringConvertible {
    enum Base: Sendable, Hashable {
        case signed, encrypted
    }

    let base: Base

    /// A JWS: the payload is readable by anyone holding the token, and only Sesame's keys can sign it.
    public static let signed = TokenFormat(base: .signed)
    /// A JWE (`dir`): the payload is also hidden from the client.
    public static let encrypted = TokenFormat(base: .encrypted)

    public var description: String { base == .signed ? "signed" : "encrypted" }
}
