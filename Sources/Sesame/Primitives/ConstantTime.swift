/// Comparisons whose running time does not depend on where the inputs differ.
enum ConstantTime {
    /// Whether two byte sequences are equal, in time that depends only on their lengths.
    static func equals(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(lhs, rhs) { difference |= a ^ b }
        return difference == 0
    }
}
