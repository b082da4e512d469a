import HTTPTypes
import Testing

@testable import Sesame

/// The cross-site refusal's rules, one request at a time (the adapters' behaviour suite runs them over HTTP).
@Suite struct CrossSiteProtectionTests {
    static func request(_ fields: [(HTTPField.Name, String)], method: HTTPRequest.Method = .post, authority: String? = "app.example", path: String = "/cart") -> HTTPRequest {
        var request = HTTPRequest(method: method, scheme: "https", authority: authority, path: path)
        for (name, value) in fields { request.headerFields.append(HTTPField(name: name, value: value)) }
        return request
    }

    static let protection = CrossSiteProtection(trustedOrigins: ["https://front.example/app"], exemptPaths: ["/hooks/*", "/paid"])

    @Test func foreignOriginsAreRefused() {
        let refused: [[(HTTPField.Name, String)]] = [
            [(.origin, "https://evil.example")],
            [(.origin, "null")],
            [(.origin, "not a url")],
            [(.origin, "https://app.example:8443")],
            [(.origin, "https://sub.app.example")],
            [(.origin, "https://app.example.evil.example")],
            [(.secFetchSite, "cross-site")],
            [(.secFetchSite, "same-site")],
            [(.secFetchSite, "something new")],
            [(.referer, "https://evil.example/app.example")],
            [(.referer, "/relative")],
            [(.origin, "https://evil.example"), (.secFetchSite, "same-origin"), (.referer, "https://app.example/")],
        ]
        for fields in refused {
            let response = Self.protection.refusal(for: Self.request(fields))
            #expect(response?.head.status == .forbidden, "\(fields)")
            #expect(response.map { String(decoding: $0.body, as: UTF8.self).contains("\"cross_site_request\"") } == true)
        }
    }

    @Test func thisSiteTrustedOriginsAndNonBrowsersPass() {
        let allowed: [[(HTTPField.Name, String)]] = [
            [(.origin, "https://app.example")],
            [(.origin, "HTTPS://APP.EXAMPLE:443")],
            [(.origin, "https://front.example")],
            [(.secFetchSite, "same-origin")],
            [(.secFetchSite, "none")],
            [(.referer, "https://app.example/page?x=1")],
            [],
        ]
        for fields in allowed {
            #expect(Self.protection.refusal(for: Self.request(fields)) == nil, "\(fields)")
        }
        // The request's host with its default port written out is the same origin.
        #expect(Self.protection.refusal(for: Self.request([(.origin, "https://app.example")], authority: "app.example:443")) == nil)
        // Without a host to compare with, only a trusted origin passes.
        #expect(Self.protection.refusal(for: Self.request([(.origin, "https://app.example")], authority: nil)) != nil)
    }

    @Test func readsExemptPathsAndDisabledProtectionPass() {
        let evil: [(HTTPField.Name, String)] = [(.origin, "https://evil.example")]
        for method in [HTTPRequest.Method.get, .head, .options] {
            #expect(Self.protection.refusal(for: Self.request(evil, method: method)) == nil, "\(method)")
        }
        for method in [HTTPRequest.Method.post, .put, .patch, .delete, HTTPRequest.Method("PROPFIND")!] {
            #expect(Self.protection.refusal(for: Self.request(evil, method: method)) != nil, "\(method)")
        }
        #expect(Self.protection.refusal(for: Self.request(evil, path: "/hooks/stripe?x=1")) == nil)
        #expect(Self.protection.refusal(for: Self.request(evil, path: "/paid")) == nil)
        #expect(Self.protection.refusal(for: Self.request(evil, path: "/paid/more")) != nil)
        #expect(Self.protection.refusal(for: Self.request(evil, path: "/hookshot")) != nil)
        #expect(CrossSiteProtection.disabled.refusal(for: Self.request(evil)) == nil)
    }
}
