import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Sesame
import SesameTestSupport
import Synchronization
import Testing

/// The Pwned Passwords range check against a loopback server that speaks the API's format: only a 5-digit prefix
/// of the SHA-1 leaves, a listed password is refused with its count, and every way the check can fail refuses too.
@Suite(.timeLimit(.minutes(1))) struct PwnedPasswordsRangeTests {
    static let breached = "violet kettle under 7 moons"
    static let clean = "a sentence nobody has leaked, 2026"

    static func sha1(_ password: String) -> String {
        Insecure.SHA1.hash(data: Array(password.utf8)).map { String(format: "%02X", $0) }.joined()
    }

    /// Serves `/range/{prefix}`: the breached password's suffix with count 42 among decoys and zero-count padding;
    /// `/broken/…` answers 500 and `/garbled/…` a body that is not `SUFFIX:COUNT` lines. Records what it was asked.
    final class RangeServer: Sendable {
        let requests = Mutex<[(path: String, padding: String?)]>([])

        func router() -> Router<BasicRequestContext> {
            let router = Router()
            let breached = PwnedPasswordsRangeTests.sha1(PwnedPasswordsRangeTests.breached)
            router.get("/range/:prefix") { request, context in
                self.requests.withLock { $0.append((request.uri.path, request.headers[HTTPField.Name("Add-Padding")!])) }
                let prefix = context.parameters.get("prefix") ?? ""
                var lines = ["0018A45C4D1DEF81644B54AB7F969B88D65:1", "00D4F6E8FA6EECAD2A3AA415EEC418D38EC:2"]
                if breached.hasPrefix(prefix) { lines.append(String(breached.dropFirst(5)) + ":42") }
                lines += ["011053FD0102E94D6AE2F8B83D76FAF94F6:0", "012A7CA357541F0AC487871FEEC1891C49C:0"]
                return lines.joined(separator: "\r\n")
            }
            router.get("/broken/:prefix") { _, _ -> Response in Response(status: .internalServerError) }
            router.get("/garbled/:prefix") { _, _ in "<html>rate limited</html>" }
            return router
        }
    }

    @Test func onlyAPrefixLeavesAndAListedPasswordIsRefused() async throws {
        let server = RangeServer()
        let port = try await LiveServer.freePort()
        let app = Application(router: server.router(), configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: Logger(label: "test"))
        try await LiveServer.run(app) { client async throws in
            // The server starts beside the test: wait until it answers (on a route that records nothing).
            #expect(try await client.send("http://127.0.0.1:\(port)/broken/00000").status == .internalServerError)
            let check = PwnedPasswordsRange(baseURL: "http://127.0.0.1:\(port)/range/")
            #expect(try await check.breachCount(of: Self.breached) == 42)
            #expect(try await check.breachCount(of: Self.clean) == 0)
            let policy = PasswordPolicy()
            #expect(await policy.violation(of: Self.breached, checking: check) == .breached(count: 42))
            #expect(await policy.violation(of: Self.clean, checking: check) == nil)
            // The local checks come first: a short password never reaches the API.
            let before = server.requests.withLock { $0.count }
            #expect(await policy.violation(of: "short", checking: check) == .tooShort(minimum: 8))
            #expect(server.requests.withLock { $0.count } == before)

            let requests = server.requests.withLock { $0 }
            let breachedPath = "/range/" + String(Self.sha1(Self.breached).prefix(5))
            let cleanPath = "/range/" + String(Self.sha1(Self.clean).prefix(5))
            let expected: [String] = [breachedPath, cleanPath, breachedPath, cleanPath]
            #expect(requests.map(\.path) == expected)
            #expect(requests.allSatisfy { $0.padding == "true" })

            // An answer that is an error or cannot be read refuses the password (fail closed).
            let broken = PwnedPasswordsRange(baseURL: "http://127.0.0.1:\(port)/broken/")
            #expect(await policy.violation(of: Self.clean, checking: broken) == .breachCheckUnavailable)
            let garbled = PwnedPasswordsRange(baseURL: "http://127.0.0.1:\(port)/garbled/")
            #expect(await policy.violation(of: Self.clean, checking: garbled) == .breachCheckUnavailable)
            #expect(PasswordPolicy.Violation.breachCheckUnavailable.authError.status == .serviceUnavailable)
        }
    }

    @Test func anUnreachableServiceRefusesThePassword() async throws {
        let port = try await LiveServer.freePort()  // nothing listens there
        let check = PwnedPasswordsRange(baseURL: "http://127.0.0.1:\(port)/range/")
        #expect(await PasswordPolicy().violation(of: Self.clean, checking: check) == .breachCheckUnavailable)
    }
}
