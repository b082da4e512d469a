import AsyncHTTPClient
import Foundation
@testable import Sesame
import Testing

/// The demo's flows over real HTTP, as a person would click through them: one behavioural suite that the
/// Hummingbird and the Vapor integration tests both run against their demo server.
public enum DemoFlows {
    /// Signs in through the demo's pages by magic link: the home page's form, the check-email page that shows
    /// the link in development, and the link itself. Returns the link's response (a redirect with the cookie)
    /// and the link.
    public static func signInByLink(client: HTTPClient, base: String, redirect: String = "/protected") async throws -> (LiveResponse, String) {
        let (link, binding) = try await requestLink(client: client, base: base, redirect: redirect)
        // Following the link in the browser that asked for it signs in: a session cookie and a redirect to where
        // the person was going.
        let signedIn = try await client.send(link, headers: [("Accept", "text/html"), ("Cookie", binding)])
        #expect(signedIn.status == .found)
        #expect(signedIn.headers["location"].first == base + redirect)
        return (signedIn, link)
    }

    /// Requests a link through the demo's pages (the home page's form and the check-email page that shows the
    /// link in development). Returns the link and the cookie that binds it to this browser (name=value).
    public static func requestLink(client: HTTPClient, base: String, redirect: String = "/protected") async throws -> (link: String, binding: String) {
        // The home page offers the sign-in form and a pending-sign-in cookie.
        let home = try await client.send(base + "/", headers: [("Accept", "text/html")])
        #expect(home.status == .ok)
        #expect(home.text.contains("Email me a sign-in link"))
        let pendingCookie = try #require(home.cookies.first { $0.hasPrefix("demo-pending=") }.map { String($0.prefix { $0 != ";" }) })
        let pending = String(pendingCookie.dropFirst("demo-pending=".count))

        // Requesting a link (a same-origin form post) redirects to the check-email page, which shows the
        // link in development.
        let sent = try await client.send(
            base + "/auth/link/authorize", method: .POST,
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", pendingCookie), ("Accept", "text/html"), ("Origin", base)],
            body: "email=ada%40example.com&pending=\(pending)&redirect=\(redirect.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)")
        #expect(sent.status == .seeOther)
        #expect(sent.headers["location"].first == "/check-email")
        let check = try await client.send(base + "/check-email", headers: [("Cookie", pendingCookie), ("Accept", "text/html")])
        let link = try #require(check.text.firstMatch(of: /href="(http[^"]+token=[^"]+)"/).map { String($0.1) })
        #expect(link.hasPrefix(base + "/auth/link/callback?token="))
        let binding = try #require(sent.cookies.first { $0.hasPrefix("sesame-link-link=") }.map { String($0.prefix { $0 != ";" }) })
        return (link, binding)
    }

    /// Tokens built from a valid, cached token's seal and anything else are refused by the running server: another
    /// payload (naming another user), an `alg: none` header, an extra leading segment, a space inside the payload.
    public static func forgeriesAreRefused(client: HTTPClient, base: String, token: String) async throws {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let payload = try JSONValue(parsing: try #require(Base64URL.decode(parts[1])))
        guard case .object(var claims) = payload else { Issue.record("not a JSON payload"); return }
        claims["properties"] = ["email": "mallory@example.com"]
        claims["sub"] = "user:email:mallory@example.com"
        let forgeries = [
            parts[0] + "." + Base64URL.encode(JSONValue.object(claims).jsonBytes) + "." + parts[2],
            Base64URL.encode(Array(#"{"alg":"none"}"#.utf8)) + "." + parts[1] + "." + parts[2],
            "." + token,
            parts[0] + "." + parts[1].prefix(10) + " " + parts[1].dropFirst(10) + "." + parts[2],
        ]
        for forged in forgeries {
            let byCookie = try await client.send(base + "/api/me", headers: [("Cookie", "sesame-session=" + forged)])
            #expect(byCookie.status == .unauthorized, "\(forged.prefix(40))…")
            let byBearer = try await client.send(base + "/api/me", headers: [("Authorization", "Bearer " + forged)])
            #expect(byBearer.status == .unauthorized, "\(forged.prefix(40))…")
        }
        #expect(try await client.send(base + "/api/me", headers: [("Cookie", "sesame-session=" + token)]).status == .ok)
    }

    /// A link opened in another browser (or fetched by a mail scanner) shows a confirmation page and redeems
    /// nothing; the page's same-origin POST signs in, once.
    public static func linkOpenedElsewhere(client: HTTPClient, base: String) async throws {
        let (link, _) = try await requestLink(client: client, base: base, redirect: "/protected")
        for _ in 0..<2 {
            let page = try await client.send(link, headers: [("Accept", "text/html")])
            #expect(page.status == .ok)
            #expect(page.sessionCookie == nil && !page.cookies.contains { $0.hasPrefix("sesame-sid=") })
            #expect(page.text.contains("Confirm sign-in") && page.text.contains("ada@example.com"))
        }
        let token = String(link.split(separator: "=", maxSplits: 1)[1])
        let form = [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "text/html")]
        let foreign = try await client.send(base + "/auth/link/callback", method: .POST, headers: form + [("Origin", "https://evil.example")], body: "token=\(token)")
        #expect(foreign.status == .seeOther || foreign.status == .found || foreign.status == .forbidden)
        #expect(foreign.sessionCookie == nil && !foreign.cookies.contains { $0.hasPrefix("sesame-sid=") })
        let confirmed = try await client.send(base + "/auth/link/callback", method: .POST, headers: form + [("Origin", base)], body: "token=\(token)")
        #expect(confirmed.status == .found)
        #expect(confirmed.headers["location"].first == base + "/protected")
        #expect(confirmed.sessionCookie != nil || confirmed.cookies.contains { $0.hasPrefix("sesame-sid=") })
        let again = try await client.send(base + "/auth/link/callback", method: .POST, headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Origin", base)], body: "token=\(token)")
        #expect(try JSONValue(parsing: again.text)["error"] == "used_token")
    }

    /// The whole magic-link flow: sign in, the protected page and the JSON API (cookie and bearer), the link
    /// used once, a cross-site sign-out refused and a same-origin one revoking the session.
    public static func magicLinkFlow(client: HTTPClient, base: String) async throws {
        let (signedIn, link) = try await signInByLink(client: client, base: base)
        let cookie = try #require(signedIn.sessionCookie)
        #expect(signedIn.cookies.allSatisfy { !$0.contains("Secure") })  // plain-http loopback development

        // The session reaches the protected page and the JSON API (through the task-local).
        let page = try await client.send(base + "/protected", headers: [("Cookie", cookie), ("Accept", "text/html")])
        #expect(page.status == .ok)
        #expect(page.text.contains("ada@example.com"))
        let me = try await client.send(base + "/api/me", headers: [("Cookie", cookie)])
        #expect(try JSONValue(parsing: me.text)["email"] == "ada@example.com")
        let bearer = try await client.send(base + "/api/me", headers: [("Authorization", "Bearer " + cookie.dropFirst("sesame-session=".count))])
        #expect(bearer.status == .ok)
        // The audit's forgeries around the seal of this (now cached) token: each is refused, by cookie and bearer.
        try await forgeriesAreRefused(client: client, base: base, token: String(cookie.dropFirst("sesame-session=".count)))

        // The link works once.
        let token = String(link.split(separator: "=", maxSplits: 1)[1])
        let again = try await client.send(
            base + "/auth/link/callback", method: .POST, headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Origin", base)], body: "token=\(token)")
        #expect(try JSONValue(parsing: again.text)["error"] == "used_token")

        // A cross-site sign-out is refused; a same-origin one revokes the session and clears the cookie.
        let foreign = try await client.send(base + "/signout", method: .POST, headers: [("Cookie", cookie), ("Origin", "https://evil.example")])
        #expect(foreign.status == .forbidden)
        let signOut = try await client.send(base + "/signout", method: .POST, headers: [("Cookie", cookie), ("Origin", base)])
        #expect(signOut.status == .seeOther)
        #expect(signOut.cookies.contains { $0.hasPrefix("sesame-session=;") })
        let after = try await client.send(base + "/api/me", headers: [("Cookie", cookie)])
        #expect(after.status == .unauthorized)
    }

    /// Signs in to the demo at the real provider (``OIDCTestProvider``, configured as the demo's `oidc`
    /// provider): the home page's button, the provider's login form, the callback, and the protected page with
    /// the new session.
    ///
    /// - Parameters:
    ///   - browser: A browser whose jar serves both the demo and the provider.
    ///   - base: The demo's origin.
    public static func signInAtProvider(browser: ProviderBrowser, base: String) async throws {
        let home = try await browser.send(base + "/?redirect=%2Fprotected")
        let button = try #require(home.text.firstMatch(of: /href="(\/auth\/oidc\/authorize\?returnTo=[^"]*)">Sign in with Django</).map { String($0.1) })
        let authorize = try await browser.send(base + button)
        #expect(authorize.status == .found)
        let back = try await browser.signIn(from: try #require(authorize.headers["location"].first), returningTo: base + "/")
        #expect(back.hasPrefix(base + "/auth/oidc/callback?code="))
        let signedIn = try await browser.send(back)
        #expect(signedIn.status == .found)
        #expect(signedIn.headers["location"].first == base + "/protected")
        #expect(signedIn.sessionCookie != nil)
        let page = try await browser.send(base + "/protected")
        #expect(page.status == .ok)
        #expect(page.text.contains("ada@example.com"))
        // Without the session (an empty jar, and no `Accept: text/html`: not a browser navigation), the protected
        // page is refused with 401.
        let refused = try await ProviderBrowser(http: browser.http, origin: base).send(base + "/protected")
        #expect(refused.status == .unauthorized)
    }

    /// After a sign-in at the provider named `oidc` (ada@example.com, verified there), a sign-in by link for the
    /// same address lands on the same user: the account page lists both sign-ins; one unlinks, the last one is
    /// refused; "sign out everywhere" ends the session.
    public static func accountsAcrossSignIns(client: HTTPClient, base: String) async throws {
        let (signedIn, _) = try await signInByLink(client: client, base: base)
        let cookie = try #require(signedIn.sessionCookie)
        let browser: [(String, String)] = [("Cookie", cookie), ("Accept", "text/html")]
        let page = try await client.send(base + "/account", headers: browser)
        #expect(page.status == .ok)
        #expect(page.text.contains("<span class=\"account\">oidc</span>") && page.text.contains("<span class=\"account\">link</span>"),
                "one user for the provider's and the link's sign-ins")

        let form: [(String, String)] = [("Cookie", cookie), ("Origin", base), ("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "text/html")]
        let unlinked = try await client.send(base + "/account/unlink", method: .POST, headers: form, body: "provider=link&issuer=&id=ada%40example.com")
        #expect(unlinked.status == .seeOther)
        let after = try await client.send(base + "/account", headers: browser)
        #expect(!after.text.contains("<span class=\"account\">link</span>") && after.text.contains("<span class=\"account\">oidc</span>"))
        let issuer = try #require(after.text.firstMatch(of: /name="issuer" value="([^"]*)"/).map { String($0.1) })
        let subject = try #require(after.text.firstMatch(of: /name="id" value="([^"]*)"/).map { String($0.1) })
        let last = try await client.send(
            base + "/account/unlink", method: .POST, headers: form,
            body: "provider=oidc&issuer=\(issuer.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)&id=\(subject)")
        #expect(last.status == .conflict)
        #expect(last.text.contains("last way to sign in"))
        // From another site, nothing happens.
        let crossSite = try await client.send(
            base + "/account/signout-everywhere", method: .POST,
            headers: [("Cookie", cookie), ("Origin", "https://evil.example"), ("Content-Type", "application/x-www-form-urlencoded")], body: "")
        #expect(crossSite.status == .forbidden)
        #expect(try await client.send(base + "/protected", headers: browser).status == .ok)

        let everywhere = try await client.send(base + "/account/signout-everywhere", method: .POST, headers: form, body: "")
        #expect(everywhere.status == .seeOther)
        #expect(try await client.send(base + "/protected", headers: [("Cookie", cookie)]).status == .unauthorized, "the session ended")
    }

    /// After ``accountsAcrossSignIns(client:base:)`` (ada@example.com linked to the provider named `oidc`): the
    /// account page offers no "link" for a linked provider; "delete my account" is refused from another site, and
    /// from the page it ends the session and deletes the user with its sign-ins, so that the next sign-in by link
    /// is a new user, offered to link the provider again.
    public static func accountDeleted(client: HTTPClient, base: String) async throws {
        try await waitForNextSecond()  // the last flow signed out everywhere
        let (signedIn, _) = try await signInByLink(client: client, base: base)
        let cookie = try #require(signedIn.sessionCookie)
        let browser: [(String, String)] = [("Cookie", cookie), ("Accept", "text/html")]
        let page = try await client.send(base + "/account", headers: browser)
        #expect(page.text.contains("<span class=\"account\">oidc</span>"))
        #expect(!page.text.contains("/auth/oidc/authorize?returnTo=%2Faccount"), "a linked provider is not offered again")
        #expect(page.text.contains("action=\"/account/delete\""))

        let crossSite = try await client.send(
            base + "/account/delete", method: .POST,
            headers: [("Cookie", cookie), ("Origin", "https://evil.example"), ("Content-Type", "application/x-www-form-urlencoded")], body: "")
        #expect(crossSite.status == .forbidden)
        #expect(try await client.send(base + "/account", headers: browser).text.contains("<span class=\"account\">oidc</span>"), "nothing deleted")

        let deleted = try await client.send(
            base + "/account/delete", method: .POST,
            headers: [("Cookie", cookie), ("Origin", base), ("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "text/html")], body: "")
        #expect(deleted.status == .seeOther)
        #expect(deleted.headers["location"].first == "/")
        #expect(try await client.send(base + "/protected", headers: [("Cookie", cookie)]).status == .unauthorized, "the session ended")

        // The next sign-in by link is a new user: only the link is listed, and the provider is offered to link.
        try await waitForNextSecond()
        let (again, _) = try await signInByLink(client: client, base: base)
        let fresh = try await client.send(base + "/account", headers: [("Cookie", try #require(again.sessionCookie)), ("Accept", "text/html")])
        #expect(fresh.status == .ok)
        #expect(fresh.text.contains("<span class=\"account\">link</span>") && !fresh.text.contains("<span class=\"account\">oidc</span>"))
        #expect(fresh.text.contains("href=\"/auth/oidc/authorize?returnTo=%2Faccount\">Link Django</a>"))
    }

    /// Waits until the clock is past the current whole second. Ending every session of a subject revokes the
    /// tokens issued up to the end of its second (token times are whole seconds, and the safe side of that
    /// ambiguity is to revoke), so a sign-in meant to outlive such a revocation comes in a later second.
    static func waitForNextSecond() async throws {
        let now = Date().timeIntervalSince1970
        try await Task.sleep(for: .milliseconds(Int(((now.rounded(.down) + 1 - now) * 1000).rounded(.up)) + 10))
    }

    /// With store-backed sessions: two sign-ins of the same person are two sessions on the account page; ending
    /// the other one from there ends it (its cookie stops working) and keeps this one.
    public static func storedSessionsListedAndEnded(client: HTTPClient, base: String) async throws {
        let (first, _) = try await signInByLink(client: client, base: base)
        let (second, _) = try await signInByLink(client: client, base: base)
        let one = try #require(first.cookies.first { $0.hasPrefix("sesame-sid=") }.map { String($0.prefix { $0 != ";" }) })
        let two = try #require(second.cookies.first { $0.hasPrefix("sesame-sid=") }.map { String($0.prefix { $0 != ";" }) })
        let page = try await client.send(base + "/account", headers: [("Cookie", two), ("Accept", "text/html")])
        #expect(page.status == .ok)
        let ids = page.text.matches(of: /name="id" value="([^"]+)"><button type="submit">Sign out this session/).map { String($0.1) }
        #expect(ids.count >= 2)
        #expect(page.text.contains("(this session)"))
        // The session listed without "(this session)" first is the older one: end it.
        let other = try #require(page.text.firstMatch(of: /<li class="session">Signed in [^<]*\n<form[^>]*>\n<input type="hidden" name="id" value="([^"]+)"/).map { String($0.1) })
        let ended = try await client.send(
            base + "/account/sessions/end", method: .POST,
            headers: [("Cookie", two), ("Origin", base), ("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "text/html")],
            body: "id=" + other)
        #expect(ended.status == .seeOther)
        #expect(try await client.send(base + "/protected", headers: [("Cookie", one)]).status == .unauthorized, "the other session ended")
        #expect(try await client.send(base + "/protected", headers: [("Cookie", two)]).status == .ok, "this one stays")
        // A session ID that is not the user's is not found.
        let foreign = try await client.send(
            base + "/account/sessions/end", method: .POST,
            headers: [("Cookie", two), ("Origin", base), ("Content-Type", "application/x-www-form-urlencoded")], body: "id=not-a-session")
        #expect(foreign.status == .notFound)
    }

    /// With store-backed sessions: signs in by link, then checks that the session is a store session (an
    /// opaque `sesame-sid` cookie, no token) and that the home page counts visits in its data (1, then 2).
    ///
    /// - Returns: The session cookie, as `name=value`.
    public static func storedSessionSignIn(client: HTTPClient, base: String) async throws -> String {
        let (signedIn, _) = try await signInByLink(client: client, base: base)
        let cookie = try #require(signedIn.cookies.first { $0.hasPrefix("sesame-sid=") }.map { String($0.prefix { $0 != ";" }) })
        #expect(!signedIn.cookies.contains { $0.hasPrefix("sesame-session=") && !$0.hasPrefix("sesame-session=;") })
        let page = try await client.send(base + "/protected", headers: [("Cookie", cookie), ("Accept", "text/html")])
        #expect(page.text.contains("ada@example.com"))
        #expect(try await client.send(base + "/", headers: [("Cookie", cookie)]).text.contains("visits in this session (kept in the session store): 1."))
        #expect(try await client.send(base + "/", headers: [("Cookie", cookie)]).text.contains("visits in this session (kept in the session store): 2."))
        return cookie
    }

    /// With store-backed sessions, after the app restarted on the same store: the session and its data are
    /// still there (the third visit), and signing out deletes it.
    ///
    /// - Parameter cookie: What ``storedSessionSignIn(client:base:)`` returned.
    public static func storedSessionAfterRestart(client: HTTPClient, base: String, cookie: String) async throws {
        let me = try await client.send(base + "/api/me", headers: [("Cookie", cookie)])
        #expect(try JSONValue(parsing: me.text)["email"] == "ada@example.com")
        #expect(try await client.send(base + "/", headers: [("Cookie", cookie)]).text.contains("session store): 3."))
        let signOut = try await client.send(base + "/signout", method: .POST, headers: [("Cookie", cookie), ("Origin", base)])
        #expect(signOut.status == .seeOther)
        #expect(signOut.cookies.contains { $0.hasPrefix("sesame-sid=;") })
        #expect(try await client.send(base + "/api/me", headers: [("Cookie", cookie)]).status == .unauthorized)
    }
}
