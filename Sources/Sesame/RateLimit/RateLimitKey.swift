/// The keys rate limits count under, normalised so that one client or one mailbox cannot get a fresh bucket by
/// rewriting what it sends.
enum RateLimitKey {
    /// The key of a client address: an IPv4 address as it is, an IPv6 address by its /64 (the smallest block one
    /// subscriber is usually given, so rotating through it earns nothing), an IPv4-mapped or NAT64 IPv6 address as
    /// the IPv4 address it carries.
    ///
    /// - Parameter address: The client's IP address as text.
    /// - Returns: `ipv4:a.b.c.d`, `ipv6:xxxx:xxxx:xxxx:xxxx::/64`, or the lowercased text when it is no address.
    static func client(_ address: String) -> String {
        guard let bytes = IPNetwork.parseAddress(address) else { return "other:" + address.lowercased() }
        if bytes.count == 4 { return "ipv4:" + bytes.map(String.init).joined(separator: ".") }
        // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses count as the IPv4 client they carry.
        if bytes.prefix(12).elementsEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF])
            || bytes.prefix(12).elementsEqual([0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0]) {
            return "ipv4:" + bytes.suffix(4).map(String.init).joined(separator: ".")
        }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        return "ipv6:" + groups.joined(separator: ":") + "::/64"
    }

    /// The key of an email address: lowercased whole, and without a `+tag` in the local part, so that
    /// `Ada+1@Example.com` and `ada@example.com` share one bucket.
    ///
    /// - Parameter email: A normalised email address (see `EmailAddress.deliverable`).
    /// - Returns: The key.
    static func address(_ email: String) -> String {
        let lowered = email.lowercased()
        guard let at = lowered.lastIndex(of: "@") else { return lowered }
        let local = lowered[..<at].prefix { $0 != "+" }
        return String(local) + lowered[at...]
    }
}
