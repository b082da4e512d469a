import Foundation
@testable import Sesame
import Testing

/// The secrets of one OAuth / OpenID Connect sign-in: how much entropy they carry and how the PKCE challenge is
/// derived.
@Suite struct FlowStateTests {
    static let flows = (0..<4_000).map { _ in FlowState.start(provider: "p", issuer: nil, returnTo: nil, usesNonce: true) }

    /// Each secret decodes to at least 16 random bytes (128 bits); Sesame uses 32.
    @Test(arguments: [\FlowState.state, \.verifier, \.nonce!])
    func secretsCarryAtLeast128Bits(_ secret: KeyPath<FlowState, String> & Sendable) throws {
        for flow in Self.flows.prefix(100) {
            let bytes = try #require(Base64URL.decode(flow[keyPath: secret]))
            #expect(bytes.count >= 16)
            #expect(bytes.count == 32)
        }
        // No two flows share a value.
        #expect(Set(Self.flows.map { $0[keyPath: secret] }).count == Self.flows.count)
    }

    /// Every bit position is set in about half of the values: a stuck or biased bit would show here (the bound
    /// is more than 12 standard deviations wide, so a correct generator never fails it).
    @Test(arguments: [\FlowState.state, \.verifier, \.nonce!])
    func secretsHaveNoStuckOrBiasedBits(_ secret: KeyPath<FlowState, String> & Sendable) throws {
        var ones = [Int](repeating: 0, count: 256)
        for flow in Self.flows {
            let bytes = try #require(Base64URL.decode(flow[keyPath: secret]))
            for (index, byte) in bytes.enumerated() {
                for bit in 0..<8 where byte & (1 << bit) != 0 { ones[index * 8 + bit] += 1 }
            }
        }
        for count in ones {
            #expect((1_600...2_400).contains(count))
        }
    }

    /// The verifier uses only RFC 7636's unreserved characters, within its 43–128 length bounds.
    @Test func verifierFollowsRFC7636() {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        for flow in Self.flows.prefix(100) {
            #expect((43...128).contains(flow.verifier.count))
            #expect(flow.verifier.allSatisfy(allowed.contains))
        }
    }

    /// The S256 challenge from RFC 7636 Appendix B.
    @Test func challengeIsS256OfTheVerifier() {
        var flow = FlowState.start(provider: "p", issuer: nil, returnTo: nil, usesNonce: false)
        flow.verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        #expect(flow.challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        #expect(flow.nonce == nil)
    }
}
