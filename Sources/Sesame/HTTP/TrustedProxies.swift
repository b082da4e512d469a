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
        for hop in chain(in: fields).reversed() {
            guard let bytes = IPNetwork.parseAddress(hop) else { break }
            client = hop
            if !trusts(bytes) { break }
        }
        return client
    }

    /// The chain's entries, left to right, from every instance of the header.
    private func chain(in fields: HTTPFields) -> [String] {
        switch header.kind {
        case .xForwardedFor:
            return fields[values: .xForwardedFor].flatMap { $0.split(separator: ",") }.map { trim(Substring($0)) }
        case .forwarded:
            return fields[values: .forwarded].flatMap { $0.split(separator: ",") }.compactMap { element in
                for pair in element.split(separator: ";") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2, trim(parts[0]).lowercased() == "for" else { continue }
                    var value = trim(parts[1])
                    if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
                    // `[2001:db8::1]:4711` and `192.0.2.1:4711` carry ports; an address alone does not.
                    if value.hasPrefix("["), let close = value.firstIndex(of: "]") { return String(value[value.index(after: value.startIndex)..<close]) }
                    if value.filter({ $0 == ":" }).count == 1 { return String(value.prefix { $0 != ":" }) }
                    return value
                }
                return ""
            }
        }
    }

    private func trim(_ text: Substring) -> String {
        String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

extension HTTPField.Name {
    /// `X-Forwarded-For`.
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    /// `Forwarded` (RFC 7239).
    static let forwarded = HTTPField.Name("Forwarded")!
}
