import HTTPTypes

/// The reverse proxies whose forwarding headers Sesame believes, for finding the client's address.
///
/// By default none: the client is the socket's peer and `X-Forwarded-For` is ignored, because any client can send
/// it. Behind a load balancer, name its addresses or networks; Sesame then walks the forwarding chain from the
/// right, skipping trusted hops, and takes the first address that is not a trusted proxy. Entries a client wrote
/// itself sit left of that address and are never reached.
///
/// Only the client address (used for rate limits) comes from proxies. URLs are always built from
/// ``AuthConfiguration/baseURL``; `Host`, `X-Forwarded-Host` and `X-Forwarded-Proto` are never read.
public struct TrustedProxies: Sendable {
    /// Which header carries the chain.
    public struct Header: Sendable, Equatable {
        enum Kind: Sendable, Equatable { case xForwardedFor, forwarded }
        let kind: Kind

        /// `X-Forwarded-For: client, proxy1, proxy2`.
        public static let xForwardedFor = Header(kind: .xForwardedFor)
        /// RFC 7239 `Forwarded: for=client, for=proxy1`.
        public static let forwarded = Header(kind: .forwarded)
    }

    let networks: [IPNetwork]
    let header: Header

    /// Trusts no proxy (the default).
    public static let none = TrustedProxies(networks: [], header: .xForwardedFor)

    /// Trusts proxies at the given addresses or networks.
    ///
    /// - Parameters:
    ///   - addresses: IPv4 or IPv6 addresses (`10.0.0.7`, `::1`) or networks in CIDR notation (`10.0.0.0/8`).
    ///   - header: The header the proxies append to (default `X-Forwarded-For`).
    /// - Precondition: Every entry is an address or a network (a typo must not silently trust nothing, or everything).
    public init(_ addresses: [String], header: Header = .xForwardedFor) {
        let networks = addresses.map { entry in
            guard let network = IPNetwork(entry) else { preconditionFailure("not an IP address or network: \(entry)") }
            return network
        }
        self.init(networks: networks, header: header)
    }

    /// Creates the list from configuration text, or `nil` when an entry is not an address or a CIDR network.
    ///
    /// - Parameters:
    ///   - addresses: Addresses or networks, as in ``init(_:header:)``.
    ///   - header: Which header carries the chain.
    public init?(parsing addresses: [String], header: Header = .xForwardedFor) {
        var networks: [IPNetwork] = []
        for entry in addresses {
            guard let network = IPNetwork(entry) else { return nil }
            networks.append(network)
        }
        self.init(networks: networks, header: header)
    }

    init(networks: [IPNetwork], header: Header) {
        self.networks = networks
        self.header = header
    }

    /// Whether an address belongs to a trusted proxy.
    func trusts(_ address: [UInt8]) -> Bool { networks.contains { $0.contains(address) } }

    /// The client's address for a request whose socket peer is `peer`.
    ///
    /// - Parameters:
    ///   - peer: The socket peer's address as text, if known.
    ///   - fields: The request's header fields.
    /// - Returns: The peer itself unless it is a trusted proxy; otherwise the rightmost untrusted address in the
    ///   forwarding chain (or the leftmost one when every hop is trusted).
    public func clientAddress(peer: String?, fields: HTTPFields) -> String? {
        guard !networks.isEmpty, let peer, let peerBytes = IPNetwork.parseAddress(peer), trusts(peerBytes) else { return peer }
        var client = peer
        // From the right: the last instance of the header first, each one's last entry first; entries left of the
        // first untrusted (or unreadable) hop are never even decoded.
        for value in fields[values: header.kind == .forwarded ? .forwarded : .xForwardedFor].reversed() {
            for element in Array(value.utf8).split(separator: Self.comma).reversed() {
                let hop = self.hop(in: element)
                guard let bytes = IPNetwork.parseAddress(hop) else { return client }
                client = hop
                if !trusts(bytes) { return client }
            }
        }
        return client
    }

    private static let comma = UInt8(ascii: ","), semicolon = UInt8(ascii: ";"), equals = UInt8(ascii: "=")
    private static let quote = UInt8(ascii: "\""), colon = UInt8(ascii: ":"), open = UInt8(ascii: "["), close = UInt8(ascii: "]")

    /// The address text of one entry of the chain (`""` when it has none). An entry with a byte outside ASCII
    /// names no address: addresses, ports and RFC 7239's parameters are ASCII.
    private func hop(in element: ArraySlice<UInt8>) -> String {
        guard element.allSatisfy({ $0 < 0x80 }) else { return "" }
        switch header.kind {
        case .xForwardedFor:
            return String(decoding: Self.trim(element), as: UTF8.self)
        case .forwarded:
            for pair in element.split(separator: Self.semicolon) {
                let parts = pair.split(separator: Self.equals, maxSplits: 1)
                guard parts.count == 2, Self.isFor(Self.trim(parts[0])) else { continue }
                var value = Self.trim(parts[1])
                if value.count >= 2, value.first == Self.quote, value.last == Self.quote { value = value.dropFirst().dropLast() }
                // `[2001:db8::1]:4711` and `192.0.2.1:4711` carry ports; an address alone does not.
                if value.first == Self.open, let close = value.firstIndex(of: Self.close) {
                    return String(decoding: value[value.index(after: value.startIndex)..<close], as: UTF8.self)
                }
                if value.lazy.filter({ $0 == Self.colon }).count == 1 { return String(decoding: value.prefix { $0 != Self.colon }, as: UTF8.self) }
                return String(decoding: value, as: UTF8.self)
            }
            return ""
        }
    }

    /// `for`, in any case.
    private static func isFor(_ name: ArraySlice<UInt8>) -> Bool {
        name.count == 3 && name.elementsEqual("for".utf8) { $0 | 0x20 == $1 }
    }

    private static func trim(_ text: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let blank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        guard let first = text.firstIndex(where: { !blank($0) }), let last = text.lastIndex(where: { !blank($0) }) else { return [] }
        return text[first...last]
    }
}

extension HTTPField.Name {
    /// `X-Forwarded-For`.
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    /// `Forwarded` (RFC 7239).
    static let forwarded = HTTPField.Name("Forwarded")!
}
