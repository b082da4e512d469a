import HTTPTypes
@testable import Sesame
import Testing

/// Which address counts as the client's: the socket peer unless configured proxies forwarded the request.
@Suite struct TrustedProxiesTests {
    static func fields(_ pairs: [(HTTPField.Name, String)]) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in pairs { fields.append(HTTPField(name: name, value: value)) }
        return fields
    }

    @Test(arguments: [
        ("192.0.2.7", [192, 0, 2, 7] as [UInt8]),
        ("0.0.0.0", [0, 0, 0, 0]),
        ("::1", [UInt8](repeating: 0, count: 15) + [1]),
        ("::", [UInt8](repeating: 0, count: 16)),
        ("2001:db8::8a2e:370:7334", [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0x8a, 0x2e, 0x03, 0x70, 0x73, 0x34]),
        ("2001:DB8:0:0:0:0:0:1", [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
        ("fe80::1%eth0", [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
        ("::ffff:192.0.2.7", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7]),
    ])
    func parsesAddresses(_ text: String, _ bytes: [UInt8]) {
        #expect(IPNetwork.parseAddress(text) == bytes)
    }

    @Test(arguments: [
        "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.-4", "1.2.3.4 ", "١.2.3.4", "unknown", "_hidden",
        "1::2::3", ":::", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "::1:", "g::1", "::ffff:1.2.3", "１::",
    ])
    func rejectsMalformedAddresses(_ text: String) {
        #expect(IPNetwork.parseAddress(text) == nil)
    }

    @Test func configurationTextWithAnyBadEntryIsRefusedWhole() throws {
        // From an environment variable: one bad entry refuses the whole list instead of trusting the rest.
        for bad in [["10.0.0.0/8", "not-an-ip"], ["10.0.0.0/33"], [""], ["127.0.0.1", "::1/129"], ["1.2.3.4 "]] {
            #expect(TrustedProxies(parsing: bad) == nil, "\(bad)")
        }
        let proxies = try #require(TrustedProxies(parsing: ["127.0.0.1", "10.0.0.0/8"]))
        var fields = HTTPFields()
        fields[HTTPField.Name("X-Forwarded-For")!] = "203.0.113.9, 10.1.1.1"
        #expect(proxies.clientAddress(peer: "127.0.0.1", fields: fields) == "203.0.113.9")
        #expect(proxies.clientAddress(peer: "198.51.100.7", fields: fields) == "198.51.100.7")
    }

    @Test func networksMatchByPrefix() throws {
        let ten = try #require(IPNetwork("10.0.0.0/8"))
        #expect(ten.contains([10, 200, 3, 4]))
        #expect(!ten.contains([11, 0, 0, 1]))
        #expect(ten.contains(IPNetwork.parseAddress("::ffff:10.1.2.3")!))
        let odd = try #require(IPNetwork("192.168.0.0/23"))
        #expect(odd.contains([192, 168, 1, 255]))
        #expect(!odd.contains([192, 168, 2, 0]))
        let six = try #require(IPNetwork("2001:db8::/32"))
        #expect(six.contains(IPNetwork.parseAddress("2001:db8:ffff::1")!))
        #expect(!six.contains(IPNetwork.parseAddress("2001:db9::1")!))
        #expect(!six.contains([10, 0, 0, 1]))
        #expect(IPNetwork("10.0.0.0/33") == nil)
        #expect(IPNetwork("10.0.0.0/") == nil)
        #expect(IPNetwork("::/129") == nil)
        #expect(IPNetwork("0.0.0.0/0")?.contains([203, 0, 113, 9]) == true)
    }

    @Test func headersAreIgnoredByDefault() {
        let fields = Self.fields([(.xForwardedFor, "203.0.113.9"), (.forwarded, "for=203.0.113.9")])
        #expect(TrustedProxies.none.clientAddress(peer: "198.51.100.1", fields: fields) == "198.51.100.1")
    }

    @Test func headersFromAnUntrustedPeerAreIgnored() {
        let proxies = TrustedProxies(["10.0.0.0/8"])
        let fields = Self.fields([(.xForwardedFor, "203.0.113.9")])
        #expect(proxies.clientAddress(peer: "198.51.100.1", fields: fields) == "198.51.100.1")
    }

    @Test func theRightmostUntrustedHopIsTheClient() {
        let proxies = TrustedProxies(["10.0.0.0/8", "::1"])
        // The client wrote "1.1.1.1, 2.2.2.2" itself; the edge proxy appended its real address, 203.0.113.9.
        let spoofed = Self.fields([(.xForwardedFor, "1.1.1.1, 2.2.2.2"), (.xForwardedFor, "203.0.113.9, 10.0.0.5")])
        #expect(proxies.clientAddress(peer: "10.0.0.1", fields: spoofed) == "203.0.113.9")
        #expect(proxies.clientAddress(peer: "::1", fields: spoofed) == "203.0.113.9")
        // Every hop trusted: the leftmost is the best there is.
        #expect(proxies.clientAddress(peer: "10.0.0.1", fields: Self.fields([(.xForwardedFor, "10.9.9.9")])) == "10.9.9.9")
        // No header: the proxy itself.
        #expect(proxies.clientAddress(peer: "10.0.0.1", fields: HTTPFields()) == "10.0.0.1")
        // Garbage a trusted proxy passed on stops the walk at the last good address.
        #expect(proxies.clientAddress(peer: "10.0.0.1", fields: Self.fields([(.xForwardedFor, "1.1.1.1, garbage")])) == "10.0.0.1")
    }

    @Test func forwardedHeaderIsReadWhenChosen() {
        let proxies = TrustedProxies(["10.0.0.0/8"], header: .forwarded)
        let fields = Self.fields([(.forwarded, #"for=1.1.1.1, for="[2001:db8::7]:4711";proto=https, for=192.0.2.60:8080;by=10.0.0.2, for=10.0.0.3"#)])
        #expect(proxies.clientAddress(peer: "10.0.0.1", fields: fields) == "192.0.2.60")
        let six = Self.fields([(.forwarded, #"for="[2001:db8::7]:4711""#)])
        #expect(proxies.clientAddress(peer: "10.0.0.1", fields: six) == "2001:db8::7")
        // The X-Forwarded-For header is not read in this mode.
        #expect(proxies.clientAddress(peer: "10.0.0.1", fields: Self.fields([(.xForwardedFor, "203.0.113.9")])) == "10.0.0.1")
    }

    /// The handler hands providers the forwarded address only when the peer is a configured proxy, and builds
    /// its URLs from the base URL even when a proxy sends `X-Forwarded-Host`.
    @Test func handlerUsesTheConfiguredProxies() async throws {
        let echo = CustomProvider(displayName: "Echo") { request, context in
            .json(["client": request.clientAddress.map(JSONValue.string) ?? .null, "callback": .string(context.callbackURL)])
        } callback: { _, _ in throw AuthError.invalidRequest }
        let keys = try KeySet(activeKey: JWK.generate(.es256))
        func handler(_ proxies: TrustedProxies) -> AuthHandler {
            AuthHandler(providers: ["echo": echo], configuration: AuthConfiguration(baseURL: "https://app.example", trustedProxies: proxies), keys: keys) { _ in
                AuthResponse(HTTPResponse(status: .noContent))
            }
        }
        var head = HTTPRequest(method: .get, scheme: "https", authority: "evil.example", path: "/auth/echo/authorize")
        head.headerFields = Self.fields([(.xForwardedFor, "203.0.113.9"), (HTTPField.Name("X-Forwarded-Host")!, "evil.example")])
        let request = AuthRequest(head: head, clientAddress: "127.0.0.1")

        let trusting = try JSONValue(parsing: await handler(TrustedProxies(["127.0.0.1"])).handle(request).body)
        #expect(trusting["client"] == "203.0.113.9")
        #expect(trusting["callback"] == "https://app.example/auth/echo/callback")
        let untrusting = try JSONValue(parsing: await handler(.none).handle(request).body)
        #expect(untrusting["client"] == "127.0.0.1")
    }
}

extension TrustedProxiesTests {
    /// Entries are read as ASCII bytes from the right: an entry with any other byte names no address and ends the
    /// walk there (a combining mark cannot hide a comma, a bracket or a port's colon), and the rest of a long chain
    /// is never read.
    @Test func entriesOutsideASCIIEndTheWalk() {
        let xff = TrustedProxies(["10.0.0.0/8"])
        let forwarded = TrustedProxies(["10.0.0.0/8"], header: .forwarded)
        let xffName = HTTPField.Name("X-Forwarded-For")!, forwardedName = HTTPField.Name("Forwarded")!
        // A combining acute accent after the comma, after the bracket, after the port's colon, in the address.
        for value in ["203.0.113.9,\u{301}10.0.0.2", "203.0.113.9, 10.0.0.2\u{301}", "２03.0.113.9"] {
            #expect(xff.clientAddress(peer: "10.0.0.1", fields: Self.fields([(xffName, value)])) == "10.0.0.1", "\(value)")
        }
        #expect(xff.clientAddress(peer: "10.0.0.1", fields: Self.fields([(xffName, "\u{301}203.0.113.9, 10.0.0.2")])) == "10.0.0.2")
        for value in ["for=\"[203.0.113.9]:\u{301}\"", "for=\"[203.0.113.9]\u{301}\"", "for=203.0.113.9:\u{301}", "for\u{301}=203.0.113.9", "for=203.0.113.9\u{301}"] {
            #expect(forwarded.clientAddress(peer: "10.0.0.1", fields: Self.fields([(forwardedName, value)])) == "10.0.0.1", "\(value)")
        }
        // The same entries in ASCII are read.
        #expect(forwarded.clientAddress(peer: "10.0.0.1", fields: Self.fields([(forwardedName, "for=\"[2001:db8::9]:4711\"")])) == "2001:db8::9")
        #expect(forwarded.clientAddress(peer: "10.0.0.1", fields: Self.fields([(forwardedName, "FOR=203.0.113.9:80;proto=https")])) == "203.0.113.9")
        // A long chain of trusted hops ending in a client: the client, wherever the chain began.
        let chain = Array(repeating: "garbage\u{301}", count: 5_000).joined(separator: ",") + ", 198.51.100.4, 10.0.0.3, 10.0.0.2"
        #expect(xff.clientAddress(peer: "10.0.0.1", fields: Self.fields([(xffName, chain)])) == "198.51.100.4")
    }
}
