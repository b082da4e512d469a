/// Strict, unpadded base64url (RFC 4648 §5) as JOSE uses it.
///
/// Decoding accepts only the canonical form: the URL-safe alphabet, no padding, no whitespace, a length that
/// is not 1 modulo 4, and zero bits in the unused low bits of the last character. Anything else is rejected,
/// so one byte string has exactly one accepted encoding.
public enum Base64URL {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Reverse lookup: 0...63 for alphabet characters, 0xFF otherwise.
    private static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, character) in alphabet.enumerated() { table[Int(character)] = UInt8(index) }
        return table
    }()

    /// Encodes bytes as unpadded base64url.
    ///
    /// - Parameter bytes: The bytes to encode.
    /// - Returns: The encoded string.
    public static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var output: [UInt8] = []
        appendEncoded(Array(bytes), to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends the unpadded base64url encoding of `bytes` to `output`.
    static func appendEncoded(_ bytes: some Collection<UInt8>, to output: inout [UInt8]) {
        output.reserveCapacity(output.count + (bytes.count * 4 + 2) / 3)
        alphabet.withUnsafeBufferPointer { table in
            var iterator = bytes.makeIterator()
            while let b0 = iterator.next() {
                let b1 = iterator.next()
                let b2 = b1 == nil ? nil : iterator.next()
                output.append(table[Int(b0 >> 2)])
                output.append(table[Int(((b0 & 0x03) << 4) | ((b1 ?? 0) >> 4))])
                guard let b1 else { return }
                output.append(table[Int(((b1 & 0x0F) << 2) | ((b2 ?? 0) >> 6))])
                guard let b2 else { return }
                output.append(table[Int(b2 & 0x3F)])
            }
        }
    }

    /// Decodes strict unpadded base64url.
    ///
    /// - Parameter string: The encoded text.
    /// - Returns: The decoded bytes, or `nil` when the text is not canonical base64url.
    public static func decode(_ string: some StringProtocol) -> [UInt8]? {
        var utf8 = Array(string.utf8)
        return utf8.withUnsafeMutableBufferPointer { decode(UnsafeBufferPointer($0)) }
    }

    /// The number of bytes `count` base64url characters decode to, or `nil` for an impossible length.
    static func decodedCount(_ count: Int) -> Int? {
        let remainder = count & 3
        if remainder == 1 { return nil }
        return (count / 4) * 3 + (remainder == 0 ? 0 : remainder - 1)
    }

    /// Decodes strict unpadded base64url from raw bytes, appending to `output`; `false` (and `output`
    /// unchanged) when the input is not canonical.
    static func appendDecoded(_ input: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) -> Bool {
        guard let decoded = decode(input) else { return false }
        output.append(contentsOf: decoded)
        return true
    }

    /// Decodes strict unpadded base64url from raw bytes.
    static func decode(_ input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let count = input.count
        let remainder = count & 3
        if remainder == 1 { return nil }
        let outputCount = (count / 4) * 3 + (remainder == 0 ? 0 : remainder - 1)
        var failed = false
        let output = [UInt8](unsafeUninitializedCapacity: outputCount) { buffer, initialized in
            reverse.withUnsafeBufferPointer { table in
                var inIndex = 0
                var outIndex = 0
                var bad: UInt8 = 0
                let fullEnd = count - remainder
                while inIndex < fullEnd {
                    let a = table[Int(input[inIndex])]
                    let b = table[Int(input[inIndex + 1])]
                    let c = table[Int(input[inIndex + 2])]
                    let d = table[Int(input[inIndex + 3])]
                    bad |= a | b | c | d
                    buffer[outIndex] = (a << 2) | (b >> 4)
                    buffer[outIndex + 1] = (b << 4) | (c >> 2)
                    buffer[outIndex + 2] = (c << 6) | d
                    inIndex += 4
                    outIndex += 3
                }
                if remainder >= 2 {
                    let a = table[Int(input[inIndex])]
                    let b = table[Int(input[inIndex + 1])]
                    bad |= a | b
                    buffer[outIndex] = (a << 2) | (b >> 4)
                    if remainder == 3 {
                        let c = table[Int(input[inIndex + 2])]
                        bad |= c
                        buffer[outIndex + 1] = (b << 4) | (c >> 2)
                        // Canonical form: the two unused low bits of the last character are zero.
                        if c & 0x03 != 0 { bad = 0xFF }
                    } else if b & 0x0F != 0 {
                        // Canonical form: the four unused low bits of the last character are zero.
                        bad = 0xFF
                    }
                }
                // Every valid sextet is < 64, so any 0xFF marker sets the high bits.
                failed = bad & 0xC0 != 0
            }
            initialized = outputCount
        }
        return failed ? nil : output
    }
}
