/// A QR code (ISO/IEC 18004) for short text such as an `otpauth://` URI: byte mode, error correction level M,
/// versions 1 to 10 (up to 213 bytes), the mask with the lowest penalty. Rendered as SVG (``svg(moduleSize:)``)
/// for the two-factor enrolment page.
public struct QRCode: Sendable {
    /// The version (1…10); the code is `17 + 4 · version` modules wide.
    public let version: Int
    /// The number of modules per side.
    public var size: Int { 17 + 4 * version }
    /// Row-major dark modules (`true` is dark), without the quiet zone.
    public let modules: [[Bool]]

    // Per version at level M: total codewords, error-correction blocks, error-correction codewords per block.
    private static let totalCodewords = [26, 44, 70, 100, 134, 172, 196, 242, 292, 346]
    private static let blocks = [1, 1, 1, 2, 2, 4, 4, 4, 5, 5]
    private static let eccPerBlock = [10, 16, 26, 18, 24, 16, 18, 22, 22, 26]
    private static let alignment: [[Int]] = [[], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50]]

    /// Encodes text (its UTF-8 bytes).
    ///
    /// - Parameter text: The text.
    /// - Returns: The code, or `nil` when the text needs more than version 10 holds (213 bytes).
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard let version = (1...10).first(where: { Self.dataCapacity($0) * 8 >= 4 + ($0 < 10 ? 8 : 16) + bytes.count * 8 }) else { return nil }
        self.version = version
        var matrix = Matrix(version: version)
        matrix.drawFunctionPatterns(alignment: Self.alignment[version - 1])
        matrix.drawCodewords(Self.codewords(bytes, version: version))
        // The mask with the lowest penalty (ISO 18004 §7.8.3).
        var best: (penalty: Int, matrix: Matrix)? = nil
        for mask in 0..<8 {
            var candidate = matrix
            candidate.apply(mask: mask)
            candidate.drawFormatBits(mask: mask)
            let penalty = candidate.penalty()
            if best == nil || penalty < best!.penalty { best = (penalty, candidate) }
        }
        modules = best!.matrix.dark
    }

    /// Data codewords a version holds at level M.
    private static func dataCapacity(_ version: Int) -> Int {
        totalCodewords[version - 1] - blocks[version - 1] * eccPerBlock[version - 1]
    }

    /// The data (mode, count, bytes, terminator, padding) with error correction, interleaved.
    private static func codewords(_ bytes: [UInt8], version: Int) -> [UInt8] {
        var bits: [Bool] = []
        func append(_ value: Int, _ count: Int) { for i in (0..<count).reversed() { bits.append((value >> i) & 1 == 1) } }
        append(0b0100, 4)
        append(bytes.count, version < 10 ? 8 : 16)
        for byte in bytes { append(Int(byte), 8) }
        let capacity = dataCapacity(version) * 8
        append(0, min(4, capacity - bits.count))
        append(0, (8 - bits.count % 8) % 8)
        var data: [UInt8] = stride(from: 0, to: bits.count, by: 8).map { start in
            bits[start..<start + 8].reduce(0) { $0 << 1 | ($1 ? 1 : 0) }
        }
        var pad: UInt8 = 0xEC
        while data.count < dataCapacity(version) {
            data.append(pad)
            pad ^= 0xEC ^ 0x11
        }
        // Split into blocks (the short ones first), add each block's error correction, interleave.
        let blockCount = blocks[version - 1], ecc = eccPerBlock[version - 1]
        let shortLength = data.count / blockCount, longBlocks = data.count % blockCount
        var dataBlocks: [[UInt8]] = []
        var offset = 0
        for index in 0..<blockCount {
            let length = shortLength + (index >= blockCount - longBlocks ? 1 : 0)
            dataBlocks.append(Array(data[offset..<offset + length]))
            offset += length
        }
        let divisor = ReedSolomon.divisor(degree: ecc)
        let eccBlocks = dataBlocks.map { ReedSolomon.remainder($0, divisor: divisor) }
        var result: [UInt8] = []
        for i in 0...shortLength { for block in dataBlocks where i < block.count { result.append(block[i]) } }
        for i in 0..<ecc { for block in eccBlocks { result.append(block[i]) } }
        return result
    }

    /// The code as an SVG image: dark modules as one path, a 4-module light quiet zone around.
    ///
    /// - Parameter moduleSize: The displayed size of a module in CSS pixels (default 6).
    public func svg(moduleSize: Int = 6) -> String {
        let side = size + 8
        var path = ""
        for (y, row) in modules.enumerated() {
            for (x, dark) in row.enumerated() where dark { path += "M\(x + 4) \(y + 4)h1v1h-1z" }
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(side) \(side)" width="\(side * moduleSize)" height="\(side * moduleSize)" \
            shape-rendering="crispEdges" role="img" aria-label="QR code"><rect width="\(side)" height="\(side)" fill="#fff"/>\
            <path fill="#000" d="\(path)"/></svg>
            """
    }
}

/// The module grid while a code is built: which modules are dark, and which belong to function patterns.
private struct Matrix {
    let size: Int
    let version: Int
    var dark: [[Bool]]
    var isFunction: [[Bool]]

    init(version: Int) {
        self.version = version
        size = 17 + 4 * version
        dark = Array(repeating: Array(repeating: false, count: size), count: size)
        isFunction = dark
    }

    mutating func set(_ x: Int, _ y: Int, _ value: Bool) {
        dark[y][x] = value
        isFunction[y][x] = true
    }

    mutating func drawFunctionPatterns(alignment: [Int]) {
        for i in 0..<size {
            set(6, i, i % 2 == 0)
            set(i, 6, i % 2 == 0)
        }
        for (cx, cy) in [(3, 3), (size - 4, 3), (3, size - 4)] {
            for dy in -4...4 {
                for dx in -4...4 {
                    let (x, y) = (cx + dx, cy + dy)
                    guard (0..<size).contains(x), (0..<size).contains(y) else { continue }
                    let distance = max(abs(dx), abs(dy))
                    set(x, y, distance != 2 && distance != 4)
                }
            }
        }
        let last = alignment.count - 1
        for (i, cx) in alignment.enumerated() {
            for (j, cy) in alignment.enumerated() where !(i == 0 && j == 0) && !(i == 0 && j == last) && !(i == last && j == 0) {
                for dy in -2...2 { for dx in -2...2 { set(cx + dx, cy + dy, max(abs(dx), abs(dy)) != 1) } }
            }
        }
        drawFormatBits(mask: 0)  // reserves the format areas; the real bits are drawn after masking
        if version >= 7 {
            var remainder = version
            for _ in 0..<12 { remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25) }
            let bits = version << 12 | remainder
            for i in 0..<18 {
                let bit = (bits >> i) & 1 == 1
                let (a, b) = (size - 11 + i % 3, i / 3)
                set(a, b, bit)
                set(b, a, bit)
            }
        }
    }

    /// The 15 format bits (level M, the mask) in both places, and the dark module.
    mutating func drawFormatBits(mask: Int) {
        let data = 0b00 << 3 | mask  // level M is 00
        var remainder = data
        for _ in 0..<10 { remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537) }
        let bits = (data << 10 | remainder) ^ 0x5412
        func bit(_ i: Int) -> Bool { (bits >> i) & 1 == 1 }
        for i in 0...5 { set(8, i, bit(i)) }
        set(8, 7, bit(6))
        set(8, 8, bit(7))
        set(7, 8, bit(8))
        for i in 9..<15 { set(14 - i, 8, bit(i)) }
        for i in 0..<8 { set(size - 1 - i, 8, bit(i)) }
        for i in 8..<15 { set(8, size - 15 + i, bit(i)) }
        set(8, size - 8, true)
    }

    /// Places the codewords in the two-column zigzag from the bottom right, skipping function modules.
    mutating func drawCodewords(_ codewords: [UInt8]) {
        var index = 0
        var right = size - 1
        while right >= 1 {
            if right == 6 { right = 5 }
            for vertical in 0..<size {
                for j in 0..<2 {
                    let x = right - j
                    let upward = (right + 1) & 2 == 0
                    let y = upward ? size - 1 - vertical : vertical
                    guard !isFunction[y][x] else { continue }
                    if index < codewords.count * 8 {
                        dark[y][x] = (codewords[index >> 3] >> (7 - (index & 7))) & 1 == 1
                        index += 1
                    }
                }
            }
            right -= 2
        }
    }

    mutating func apply(mask: Int) {
        for y in 0..<size {
            for x in 0..<size where !isFunction[y][x] {
                let flip: Bool
                switch mask {
                case 0: flip = (x + y) % 2 == 0
                case 1: flip = y % 2 == 0
                case 2: flip = x % 3 == 0
                case 3: flip = (x + y) % 3 == 0
                case 4: flip = (x / 3 + y / 2) % 2 == 0
                case 5: flip = x * y % 2 + x * y % 3 == 0
                case 6: flip = (x * y % 2 + x * y % 3) % 2 == 0
                default: flip = ((x + y) % 2 + x * y % 3) % 2 == 0
                }
                if flip { dark[y][x].toggle() }
            }
        }
    }

    /// ISO 18004's penalty: runs of five or more, 2×2 blocks, finder-like patterns, dark/light imbalance.
    func penalty() -> Int {
        var total = 0
        let lines = dark + (0..<size).map { x in (0..<size).map { y in dark[y][x] } }
        let finderLike: [Bool] = [true, false, true, true, true, false, true]
        for line in lines {
            var run = 1
            for i in 1..<size {
                if line[i] == line[i - 1] {
                    run += 1
                } else {
                    if run >= 5 { total += run - 2 }
                    run = 1
                }
            }
            if run >= 5 { total += run - 2 }
            for i in 0...(size - 7) where Array(line[i..<i + 7]) == finderLike {
                let before = i >= 4 && line[(i - 4)..<i].allSatisfy { !$0 }
                let after = i + 11 <= size && line[(i + 7)..<(i + 11)].allSatisfy { !$0 }
                if before || after { total += 40 }
            }
        }
        for y in 0..<(size - 1) {
            for x in 0..<(size - 1) where dark[y][x] == dark[y][x + 1] && dark[y][x] == dark[y + 1][x] && dark[y][x] == dark[y + 1][x + 1] {
                total += 3
            }
        }
        let darkCount = dark.reduce(0) { $0 + $1.filter { $0 }.count }
        let percent = darkCount * 100 / (size * size)
        total += abs(percent - 50) / 5 * 10
        return total
    }
}

/// Reed–Solomon error correction over GF(256) with the polynomial x^8 + x^4 + x^3 + x^2 + 1.
private enum ReedSolomon {
    static func multiply(_ x: UInt8, _ y: UInt8) -> UInt8 {
        var product = 0
        for i in (0..<8).reversed() {
            product = (product << 1) ^ ((product >> 7) * 0x11D)
            product ^= ((Int(y) >> i) & 1) * Int(x)
        }
        return UInt8(product)
    }

    /// The generator polynomial's coefficients (highest first, the leading 1 omitted).
    static func divisor(degree: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: degree)
        result[degree - 1] = 1
        var root: UInt8 = 1
        for _ in 0..<degree {
            for j in 0..<degree {
                result[j] = multiply(result[j], root)
                if j + 1 < degree { result[j] ^= result[j + 1] }
            }
            root = multiply(root, 0x02)
        }
        return result
    }

    static func remainder(_ data: [UInt8], divisor: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: divisor.count)
        for byte in data {
            let factor = byte ^ result.removeFirst()
            result.append(0)
            for i in 0..<result.count { result[i] ^= multiply(divisor[i], factor) }
        }
        return result
    }
}
