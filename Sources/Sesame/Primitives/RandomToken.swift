/// Random, URL-safe identifiers from the system's cryptographically secure generator.
enum RandomToken {
    /// `byteCount` random bytes, base64url-encoded.
    static func make(byteCount: Int) -> String {
        Base64URL.encode(bytes(byteCount))
    }

    /// `count` random bytes from the system's generator.
    static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}
