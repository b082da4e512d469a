/// The integers of a PKCS#1 `RSAPrivateKey` (RFC 8017 §A.1.2), read from its DER encoding.
///
/// swift-crypto does not expose the CRT components of an RSA private key, which a private JWK needs; this
/// reads them from the key's PKCS#1 DER. Only the minimal DER subset that structure uses is accepted.
struct RSAPrivateKeyComponents {
    var n: [UInt8], e: [UInt8], d: [UInt8], p: [UInt8], q: [UInt8], dp: [UInt8], dq: [UInt8], qi: [UInt8]

    init?(pkcs1DER der: [UInt8]) {
        var reader = DERReader(bytes: der[...])
        guard var sequence = reader.read(tag: 0x30), reader.isAtEnd else { return nil }
        var integers: [[UInt8]] = []
        while !sequence.isAtEnd {
            guard let integer = sequence.read(tag: 0x02) else { return nil }
            integers.append(Array(integer.bytes.drop(while: { $0 == 0 })))
        }
        // version, n, e, d, p, q, dp, dq, qi (two-prime keys only)
        guard integers.count == 9, integers[0].isEmpty else { return nil }
        (n, e, d, p, q, dp, dq, qi) = (integers[1], integers[2], integers[3], integers[4], integers[5], integers[6], integers[7], integers[8])
    }
}

/// A reader of definite-length DER tag-length-value items.
struct DERReader {
    var bytes: ArraySlice<UInt8>

    var isAtEnd: Bool { bytes.isEmpty }

    /// Reads one item with the given tag and returns a reader over its contents.
    mutating func read(tag: UInt8) -> DERReader? {
        guard bytes.count >= 2, bytes.first == tag else { return nil }
        var index = bytes.startIndex + 1
        var length = Int(bytes[index])
        index += 1
        if length & 0x80 != 0 {
            let lengthBytes = length & 0x7F
            guard lengthBytes >= 1, lengthBytes <= 4, bytes.endIndex - index >= lengthBytes else { return nil }
            length = 0
            for _ in 0..<lengthBytes {
                length = length << 8 | Int(bytes[index])
                index += 1
            }
        }
        guard length >= 0, bytes.endIndex - index >= length else { return nil }
        let contents = bytes[index..<(index + length)]
        bytes = bytes[(index + length)...]
        return DERReader(bytes: contents)
    }
}
