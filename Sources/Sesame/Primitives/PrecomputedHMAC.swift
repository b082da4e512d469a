import Crypto

/// HMAC (RFC 2104) with the key already absorbed.
///
/// The inner and outer hash states after the padded key blocks are computed once per key; each MAC then costs
/// only the message's blocks and two finalizations. The hashes are fed through `update(bufferPointer:)`, so
/// no generic `DataProtocol` iteration sits on the verification path.
struct PrecomputedHMAC<H: HashFunction>: Sendable {
    private let inner: H
    private let outer: H

    init(key: SymmetricKey) {
        var block = key.withUnsafeBytes { Array($0) }
        if block.count > H.blockByteCount { block = Array(H.hash(data: block)) }
        block += [UInt8](repeating: 0, count: H.blockByteCount - block.count)
        var inner = H(), outer = H()
        block.map { $0 ^ 0x36 }.withUnsafeBytes { inner.update(bufferPointer: $0) }
        block.map { $0 ^ 0x5C }.withUnsafeBytes { outer.update(bufferPointer: $0) }
        self.inner = inner
        self.outer = outer
    }

    /// The MAC of `message`.
    func authenticationCode(for message: UnsafeRawBufferPointer) -> [UInt8] {
        var inner = self.inner
        inner.update(bufferPointer: message)
        var outer = self.outer
        inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
        return outer.finalize().withUnsafeBytes { Array($0) }
    }
}
