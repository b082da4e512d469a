/// Strict, unpadded base64url (RFC 4648 §5) as JOSE uses it.
///
/// Decoding accepts only the canonical form: the URL-safe alphabet, no padding, no whitespace, a length that
/// is not 1 modulo 4, and zero bits in the unused low bits of the last character. Anything else is rejected,
/// so one byte string has exactly one accepted encoding.
enum Base64URL {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Four decoding tables in one (256 entries each): a character's sextet pre-shifted to its place in a
    /// 24-bit group, so a group is four loads and three ORs. Invalid characters set bit 24.
    private static let decodingTables: [UInt32] = {
        var table = [UInt32](repeating: 1 << 24, count: 1024)
        for (index, character) in alphabet.enumerated() {
            let sextet = UInt32(index)
            table[Int(character)] = sextet << 18
            table[256 + Int(character)] = sextet << 12
            table[512 + Int(character)] = sextet << 6
            table[768 + Int(character)] = sextet
        }
        return table
    }()

    /// Encodes bytes as unpadded base64url.
    ///
    /// - Parameter bytes: The bytes to encode.
    /// - Returns: The encoded string.
    static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
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
    static func decode(_ string: some StringProtocol) -> [UInt8]? {
        var utf8 = Array(string.utf8)
        return utf8.withUnsafeMutableBufferPointer { decode(UnsafeBufferPointer($0)) }
    }

    /// The number of bytes `count` base64url characters decode to, or `nil` for an impossible length.
    static func decodedCount(_ count: Int) -> Int? {
        let remainder = count & 3
        if remainder == 1 { return nil }
        return (count / 4) * 3 + (remainder == 0 ? 0 : remainder - 1)
    }

    /// Decodes strict unpadded base64url from raw bytes.
    static func decode(_ input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard let outputCount = decodedCount(input.count) else { return nil }
        var valid = false
        let output = [UInt8](unsafeUninitializedCapacity: outputCount) { buffer, initialized in
            valid = decode(input, into: buffer)
            initialized = outputCount
        }
        return valid ? output : nil
    }

    /// Decodes strict unpadded base64url into `output`, which must hold exactly `decodedCount(input.count)`
    /// bytes; `false` when the input is not canonical.
    static func decode(_ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>) -> Bool {
        let count = input.count
        let remainder = count & 3
        guard remainder != 1, output.count == (count / 4) * 3 + (remainder == 0 ? 0 : remainder - 1) else { return false }
        return decodingTables.withUnsafeBufferPointer { table in
            var inIndex = 0
            var outIndex = 0
            var bad: UInt32 = 0
            let fullEnd = count - remainder
            while inIndex < fullEnd {
                let group = table[Int(input[inIndex])] | table[256 + Int(input[inIndex + 1])]
                    | table[512 + Int(input[inIndex + 2])] | table[768 + Int(input[inIndex + 3])]
                bad |= group
                output[outIndex] = UInt8(truncatingIfNeeded: group >> 16)
                output[outIndex + 1] = UInt8(truncatingIfNeeded: group >> 8)
                output[outIndex + 2] = UInt8(truncatingIfNeeded: group)
                inIndex += 4
                outIndex += 3
            }
            if remainder >= 2 {
                var group = table[Int(input[inIndex])] | table[256 + Int(input[inIndex + 1])]
                if remainder == 3 { group |= table[512 + Int(input[inIndex + 2])] }
                bad |= group
                output[outIndex] = UInt8(truncatingIfNeeded: group >> 16)
                if remainder == 3 {
                    output[outIndex + 1] = UInt8(truncatingIfNeeded: group >> 8)
                    // Canonical form: the unused low bits of the last character are zero.
                    if group & 0xFF != 0 { bad |= 1 << 24 }
                } else if group & 0xFFFF != 0 {
                    bad |= 1 << 24
                }
            }
            return bad & (1 << 24) == 0
        }
    }
}
