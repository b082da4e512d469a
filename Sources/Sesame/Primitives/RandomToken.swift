/// Random, URL-safe identifiers from the system's cryptographically secure generator.
enum RandomToken {
    /// `byteCount` random bytes, base64url-encoded.
    static func make(byteCount: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return Base64URL.encode((0..<byteCount).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}
