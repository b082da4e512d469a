import Sesame
import Testing

/// The default redirect callback: this site's paths and the trusted origins, nothing else.
@Suite struct RedirectPolicyTests {
    static let policy = RedirectPolicy(baseURL: "https://app.example", trustedOrigins: ["https://admin.app.example"])

    @Test(arguments: [
        "/", "/dashboard", "/dashboard?tab=1#top", "/a/b/../c", "/%2F%2Fevil.example", "/search?q=//evil.example",
        "https://app.example/", "https://app.example:443/settings", "HTTPS://APP.EXAMPLE/Upper", "https://admin.app.example/users",
    ])
    func allowsThisSiteAndTrustedOrigins(_ target: String) {
        #expect(Self.policy.allowed(target) == target)
    }

    /// Open-redirect payloads from the usual lists (OWASP, PayloadsAllTheThings, Auth.js and SST reports).
    @Test(arguments: [
        "//evil.example", "///evil.example", "////evil.example/", "/\\evil.example", "\\/evil.example", "\\\\evil.example",
        "/\t/evil.example", "/\n/evil.example", " /evil.example", "/%09/evil.example ", "https:evil.example", "https:/evil.example",
        "http://app.example/", "https://evil.example", "https://app.example.evil.example/", "https://app.example@evil.example/",
        "https://evil.example\\@app.example/", "https://app.example\\.evil.example/", "https://evil.example#https://app.example",
        "javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)",
        "ftp://app.example/", "https://аpp.example/", "//%09/evil.example", "evil.example", "", "https://[::1]/",
        "https://app.example:8443/", "\u{2F}\u{2F}evil.example", "/\u{3000}/evil.example",
    ])
    func refusesEverythingElse(_ target: String) {
        #expect(Self.policy.allowed(target) == nil, "\(target.debugDescription) was allowed")
    }
}
