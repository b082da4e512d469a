/// The cost of an scrypt password hash (RFC 7914): CPU/memory cost `N = 2^logN`, block size `r`, parallelism `p`.
///
/// The default is OWASP's recommendation (`N = 2^17, r = 8, p = 1`: 128 MiB and about a tenth of a second per
/// hash on a server core). A stored hash records its own parameters, so they can change: a sign-in with a hash made
/// with other parameters is rehashed with the current ones.
public struct ScryptParameters: Sendable, Hashable {
    /// `log2(N)`, the CPU/memory cost.
    public var logN: Int
    /// `r`, the block size.
    public var blockSize: Int
    /// `p`, the parallelism.
    public var parallelism: Int

    /// Creates parameters.
    ///
    /// - Parameters:
    ///   - logN: `log2(N)` (default 17).
    ///   - blockSize: `r` (default 8).
    ///   - parallelism: `p` (default 1).
    public init(logN: Int = 17, blockSize: Int = 8, parallelism: Int = 1) {
        self.logN = logN
        self.blockSize = blockSize
        self.parallelism = parallelism
    }

    /// OWASP's recommended parameters (`N = 2^17, r = 8, p = 1`).
    public static let owasp = ScryptParameters()

    /// The memory one hash needs, in bytes (`128 · r · N`).
    public var memoryBytes: Int { 128 * blockSize << logN }

    /// Whether a stored hash's parameters are within what Sesame computes: a hash naming absurd parameters (a
    /// cost an attacker chose to exhaust the server) is refused, not computed.
    var isWithinLimits: Bool {
        (1...22).contains(logN) && (1...32).contains(blockSize) && (1...16).contains(parallelism)
            && memoryBytes <= 1 << 30 && blockSize * parallelism < 1 << 30
    }
}
