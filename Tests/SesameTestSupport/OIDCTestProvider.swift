import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Sesame
import Synchronization
import Testing

/// A real OpenID Connect provider nobody on the team wrote: django-oauth-toolkit, started on a loopback port by
/// `Tests/OIDCProvider/provider.py` (its Python packages are installed by `scripts/test`), with one user, `ada`.
public enum OIDCTestProvider {
    /// The client the provider knows Sesame as.
    public static let clientID = "sesame"
    /// That client's secret.
    public static let clientSecret = "sesame-secret-for-tests"

    /// Runs `test` while the provider runs, its data in a temporary directory removed afterwards.
    ///
    /// - Parameters:
    ///   - redirectURI: The one callback URL the provider accepts for Sesame.
    ///   - test: The test, given the provider's issuer and an HTTP client that does not follow redirects.
    public static func run(redirectURI: String, _ test: @Sendable (_ issuer: String, _ http: HTTPClient) async throws -> Void) async throws {
        let port = try await LivePorts.free()
        let data = NSTemporaryDirectory() + "sesame-oidc-" + UUID().uuidString
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("OIDCProvider/provider.py")
        process.arguments = ["python3", script.path, "--port", String(port), "--data", data, "--redirect-uri", redirectURI, "--exit-with-stdin"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let input = Pipe()
        process.standardInput = input
        try process.run()
        defer {
            try? input.fileHandleForWriting.close()
            process.terminate()
            process.waitUntilExit()
            try? FileManager.default.removeItem(atPath: data)
        }
        // Wait for "ready" (migrations and key generation take a few seconds), on a Dispatch thread: not on one of
        // the cooperative pool's few threads, which the suites running at the same time need.
        let ready = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: output.fileHandleForReading.readData(ofLength: 6)) }
        }
        #expect(String(decoding: ready, as: UTF8.self) == "ready\n", "the provider did not start; are Django and django-oauth-toolkit installed?")
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        do {
            try await test("http://127.0.0.1:\(port)/o", http)
        } catch {
            try await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    /// Sesame's configuration of the provider.
    ///
    /// - Parameter issuer: The issuer `run` gave.
    public static func provider(issuer: String) -> OIDCProvider {
        OIDCProvider(displayName: "Django", configuration: .init(issuer: issuer, credentials: ClientCredentials(id: clientID, secret: clientSecret)))
    }
}

/// A browser for the tests' servers: one cookie jar for every server (cookies ignore ports), relative redirects
/// resolved against one origin, and the provider's login form filled in when asked.
public final class ProviderBrowser: Sendable {
    /// The client that sends the requests.
    public let http: HTTPClient
    /// The origin relative redirects are resolved against.
    public let origin: String
    private let jar = Mutex<[String: String]>([:])

    /// Creates a browser with an empty cookie jar.
    public init(http: HTTPClient, origin: String) {
        self.http = http
        self.origin = origin
    }

    /// `location` as an absolute URL.
    public func absolute(_ location: String) -> String { location.hasPrefix("/") ? origin + location : location }

    /// Sends a request with the jar's cookies (and a form, if given) and keeps the cookies the response sets.
    public func send(_ url: String, method: HTTPMethod = .GET, form: [(String, String)]? = nil) async throws -> LiveResponse {
        var headers: [(String, String)] = []
        let cookies = jar.withLock { $0.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        if !cookies.isEmpty { headers.append(("Cookie", cookies)) }
        if form != nil { headers.append(("Content-Type", "application/x-www-form-urlencoded")) }
        let body = form.map { URLEncodedForm($0.map { (name: $0.0, value: $0.1) }).encoded }
        let response = try await http.send(absolute(url), method: method, headers: headers, body: body)
        for cookie in response.cookies {
            let pair = cookie.prefix { $0 != ";" }
            guard let equals = pair.firstIndex(of: "=") else { continue }
            jar.withLock { $0[String(pair[..<equals])] = String(pair[pair.index(after: equals)...]) }
        }
        return response
    }

    /// Follows the provider's redirects, signing in at its login form when asked, until it redirects to `app`.
    ///
    /// - Returns: The URL the provider sent the browser back to.
    public func signIn(from location: String, returningTo app: String = "http://127.0.0.1:8080/", username: String = "ada", password: String = "correct-horse-battery-staple") async throws -> String {
        var next = location
        for _ in 0..<6 {
            let response = try await send(next)
            #expect(response.status == .found, "unexpected \(response.status) at \(next)")
            let target = try #require(response.headers["location"].first)
            if target.hasPrefix(app) { return target }
            if target.contains("/accounts/login/") {
                let page = try await send(target)
                let token = try #require(page.text.firstMatch(of: /name="csrfmiddlewaretoken" value="([^"]+)"/).map { String($0.1) })
                let posted = try await send(target, method: .POST, form: [("csrfmiddlewaretoken", token), ("username", username), ("password", password)])
                #expect(posted.status == .found, "the login form was refused")
                next = try #require(posted.headers["location"].first)
            } else {
                next = target
            }
        }
        Issue.record("the provider did not redirect back to Sesame")
        return ""
    }
}
