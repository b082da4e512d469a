import Foundation
import HTTPTypes
import Testing
@testable import Sesame

/// The link provider's rate limits: keys that cannot be dodged by rewriting an address, and an order that lets
/// no blocked client spend someone else's allowance.
@Suite struct LinkRateLimitTests {
    final class Outbox: Sendable {
        let links = Mutex<[String]>([])
    }

    let outbox = Outbox()

    func handler(perAddress: Int, perClient: Int) -> AuthHandler {
        let outbox = self.outbox
        let link = LinkProvider(configuration: LinkProvider.Configuration(
            perAddress: MemoryRateLimiter(capacity: perAddress, refillInterval: 3_600),
            perClient: MemoryRateLimiter(capacity: perClient, refillInterval: 3_600),
            deliversInBackground: false)
        ) { link, _ in outbox.links.withLock { $0.append(link) } }
        return AuthHandler(providers: ["link": link], configuration: AuthConfiguration(baseURL: "https://app.example"), keys: try! KeySet(activeKey: JWK.generate(.es256))) { _ in .json([:]) }
    }

    func request(_ handler: AuthHandler, email: String, from client: String) async -> HTTPResponse.Status {
        let query = "email=" + email.addingPercentEncodingForQuery()
        let head = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/auth/link/authorize?" + query)
        return await handler.handle(AuthRequest(head: head, clientAddress: client)).head.status
    }

    @Test func clientKeysGroupIPv6By64AndIPv4MappedAddresses() {
        #expect(RateLimitKey.client("2001:db8:1:2::1") == "ipv6:2001:db8:1:2::/64")
        #expect(RateLimitKey.client("2001:DB8:1:2:ffff:ffff:ffff:ffff") == "ipv6:2001:db8:1:2::/64")
        #expect(RateLimitKey.client("2001:db8:1:3::1") == "ipv6:2001:db8:1:3::/64")
        #expect(RateLimitKey.client("203.0.113.9") == "ipv4:203.0.113.9")
        #expect(RateLimitKey.client("::ffff:203.0.113.9") == "ipv4:203.0.113.9")
        #expect(RateLimitKey.client("not an address") == "other:not an address")
    }

    @Test func addressKeysIgnoreCaseAndPlusTags() {
        for variant in ["ada@example.com", "Ada@Example.com", "ADA+news@EXAMPLE.COM", "ada+1@example.com", "ada+@example.com"] {
            #expect(RateLimitKey.address(variant) == "ada@example.com", "\(variant)")
        }
        #expect(RateLimitKey.address("bob@example.com") != RateLimitKey.address("ada@example.com"))
    }

    @Test func rotatingThroughAnIPv6BlockEarnsNothing() async {
        let handler = handler(perAddress: 100, perClient: 2)
        #expect(await request(handler, email: "a@example.com", from: "2001:db8:1:2::1") == .ok)
        #expect(await request(handler, email: "b@example.com", from: "2001:db8:1:2::2") == .ok)
        #expect(await request(handler, email: "c@example.com", from: "2001:db8:1:2:ffff::3") == .tooManyRequests)
        #expect(await request(handler, email: "d@example.com", from: "2001:db8:1:3::1") == .ok)
    }

    @Test func rewritingTheAddressEarnsNothing() async {
        let handler = handler(perAddress: 2, perClient: 100)
        #expect(await request(handler, email: "Ada+1@Example.com", from: "198.51.100.1") == .ok)
        #expect(await request(handler, email: "ada+2@example.com", from: "198.51.100.2") == .ok)
        #expect(await request(handler, email: "ADA@EXAMPLE.COM", from: "198.51.100.3") == .tooManyRequests)
        #expect(outbox.links.withLock { $0.count } == 2)
    }

    /// The client's limit is checked first: once an attacker's client is blocked, its further requests for the
    /// victim's address take nothing from the address's bucket, and the victim can still sign in.
    @Test func aBlockedClientCannotDrainAVictimsAddress() async {
        let handler = handler(perAddress: 3, perClient: 2)
        var statuses: [HTTPResponse.Status] = []
        for _ in 0..<10 { statuses.append(await request(handler, email: "victim@example.com", from: "203.0.113.9")) }
        #expect(statuses.filter { $0 == .ok }.count == 2)
        #expect(statuses.dropFirst(2).allSatisfy { $0 == .tooManyRequests })
        #expect(await request(handler, email: "victim@example.com", from: "198.51.100.7") == .ok)
    }
}

import Synchronization
