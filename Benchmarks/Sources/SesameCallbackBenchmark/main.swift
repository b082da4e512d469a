import BenchmarkSupport
import Crypto
import Foundation
import HTTPTypes
import AsyncHTTPClient
import Hummingbird
import Sesame
import SesameSQLite
import Logging
import Synchronization

// The OpenID Connect callback, timed step by step: state check (flow cookie decryption, state and `iss`
// comparison, single-use redemption), code exchange (an HTTP round trip over loopback to an in-process provider),
// ID token verification (RS256, as most providers sign), and session issue (the app's onSuccess creating an
// ES256 session cookie). The provider prepares each token response before the callback (signing the ID token
// then), and its handler times itself; that time is subtracted from the exchange and from the total, so what
// remains is Sesame's work plus the HTTP client and loopback transport. For scale, the same token request is also
// sent with a bare AsyncHTTPClient (the limit for the exchange step), alternating with the callbacks. And the same
// callback once more per round through a handler that keeps users and accounts (`Accounts` on the embedded SQLite
// store: the account found by issuer and subject, its tokens sealed and replaced, its user read) with the session
// issued by the handler: target, accounts add at most 25 % to Sesame's part of the callback.
// Usage: swift run -c release --package-path Benchmarks sesame-callback-benchmark [callbacks] [warm-up]

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let callbacks = arguments.first ?? 10_000
let warmUp = arguments.dropFirst().first ?? 500

/// The in-process provider: discovery, JWKS and a token endpoint that answers from responses prepared in advance.
final class BenchmarkProvider: Sendable {
    let key: JWK
    let clientID = "bench-client"
    let clientSecret = "bench-secret-with-enough-entropy"
    let issuer = Mutex("")
    /// Code → (PKCE challenge, prepared token response).
    private let prepared = Mutex<[String: (challenge: String, body: [UInt8])]>([:])
    /// How long the token endpoint's handler took for the last request, in nanoseconds.
    let lastHandlerTime = Atomic<Int64>(0)

    init() throws {
        key = try JWK.generate(.rs256, keyID: "bench-rs256")
    }

    /// Signs the ID token for a code ahead of the callback (not timed).
    func prepare(code: String, challenge: String, nonce: String) throws {
        let issuer = self.issuer.withLock { $0 }
        let now = Int64(Date().timeIntervalSince1970)
        let claims: JSONObject = [
            "iss": .string(issuer), "sub": "248289761001", "aud": .string(clientID), "exp": .integer(now + 300),
            "iat": .integer(now), "nonce": .string(nonce), "email": "ada@example.com", "email_verified": true, "name": "Ada Lovelace",
        ]
        let idToken = try JWS.sign(JSONValue.object(claims).jsonBytes, key: key, type: "JWT")
        let body: JSONObject = [
            "access_token": .string("at-" + code), "token_type": "Bearer", "expires_in": 3600, "id_token": .string(idToken),
            "scope": "openid email profile", "refresh_token": .string("rt-" + code),
        ]
        prepared.withLock { $0[code] = (challenge, JSONValue.object(body).jsonBytes) }
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/.well-known/openid-configuration") { _, _ in
            let issuer = self.issuer.withLock { $0 }
            return Self.json([
                "issuer": .string(issuer), "authorization_endpoint": .string(issuer + "/authorize"),
                "token_endpoint": .string(issuer + "/token"), "jwks_uri": .string(issuer + "/jwks"),
                "response_types_supported": ["code"], "id_token_signing_alg_values_supported": ["RS256"],
                "authorization_response_iss_parameter_supported": true,
            ])
        }
        router.get("/jwks") { _, _ in
            Self.json(["keys": [.object(try self.key.publicKey!.jsonObject())]])
        }
        router.post("/token") { request, _ in
            // The request body is read before the clock starts: that is transport, on the provider's side.
            let body = try await request.body.collect(upTo: 16 * 1024)
            let clock = ContinuousClock()
            let start = clock.now
            let form = URLEncodedForm(parsing: String(buffer: body))
            let expected = "Basic " + Data("\(self.clientID):\(self.clientSecret)".utf8).base64EncodedString()
            var response: Response
            if request.headers[.authorization] == expected, let code = form["code"], let verifier = form["code_verifier"],
                let entry = self.prepared.withLock({ $0.removeValue(forKey: code) }),
                Base64URLText.encode(SHA256.hash(data: Array(verifier.utf8))) == entry.challenge
            {
                response = Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: entry.body)))
            } else {
                response = Self.json(["error": "invalid_grant"], status: .badRequest)
            }
            let elapsed = clock.now - start
            self.lastHandlerTime.store(Int64(elapsed.components.seconds) * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000, ordering: .relaxed)
            return response
        }
        return router
    }

    static func json(_ object: JSONObject, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: JSONValue.object(object).jsonBytes)))
    }
}

enum AccountSession: SessionSubject {
    case user(id: String)
}

enum BenchSession: SessionSubject {
    case user(email: String)
}

/// Durations of the steps of one callback.
final class StepLog: Sendable {
    let steps = Mutex<[FlowStep: Duration]>([:])
}

func nanoseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

/// The whole run, off the main actor (top-level code runs on it, and every await would hop back to it).
nonisolated func run(callbacks: Int, warmUp: Int) async throws {
    let provider = try BenchmarkProvider()
    let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
    let server = Application(
        router: provider.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) },
        logger: { var logger = Logger(label: "bench-idp"); logger.logLevel = .error; return logger }())

    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.runService() }
        var ports = portStream.makeAsyncIterator()
        let port = await ports.next()!
        let issuer = "http://127.0.0.1:\(port)"
        provider.issuer.withLock { $0 = issuer }

        let keys = try KeySet(activeKey: JWK.generate(.es256))
        let sessions = try SessionTokens<BenchSession>(keys: keys)
        let log = StepLog()
        let oidc = OIDCProvider(displayName: "Bench", configuration: .init(
            issuer: issuer, credentials: ClientCredentials(id: provider.clientID, secret: provider.clientSecret)))
        let configuration = AuthConfiguration(baseURL: "https://app.example", stepObserver: { step, duration in
            log.steps.withLock { $0[step] = duration }
        })
        let handler = AuthHandler(providers: ["bench": oidc], configuration: configuration, keys: keys) { success in
            guard let email = success.profile?.email else { throw AuthError.accessDenied }
            return AuthResponse(try sessions.cookie(.user(email: email), redirect: "https://app.example/"))
        }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sesame-callback-bench-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let accountSessions = try SessionTokens<AccountSession>(keys: keys)
        // SESAME_BENCH_ACCOUNTS=memory measures the accounts logic without a database.
        let inMemory = ProcessInfo.processInfo.environment["SESAME_BENCH_ACCOUNTS"] == "memory"
        let accountStore: any AccountStore = inMemory ? MemoryAccountStore() : SQLiteAccountStore(path: directory.appendingPathComponent("accounts.sqlite").path)
        let withAccounts = AuthHandler(
            providers: ["bench": oidc], configuration: AuthConfiguration(baseURL: "https://app.example"), keys: keys,
            accounts: Accounts(store: accountStore, keys: keys),
            sessions: accountSessions, subject: { .user(id: $0.id) }, userID: { if case .user(let id) = $0 { id } else { nil } },
            defaultRedirect: "https://app.example/")
        var accountTotals: [Double] = []
        var plainTotals: [Double] = []

        let clock = ContinuousClock()
        /// Authorize (not timed), then the provider approves: the callback request for a code whose token response
        /// is prepared.
        func approvedCallback(_ handler: AuthHandler, code: String) async throws -> AuthRequest {
            let authorize = await handler.handle(AuthRequest(head: HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/auth/bench/authorize")))
            guard let location = authorize.head.headerFields[.location], let setCookie = authorize.head.headerFields[.setCookie],
                let query = location.split(separator: "?", maxSplits: 1).last.map({ URLEncodedForm(parsing: $0) }),
                let state = query["state"], let nonce = query["nonce"], let challenge = query["code_challenge"]
            else { fatalError("authorize failed: \(authorize.head.status)") }
            try provider.prepare(code: code, challenge: challenge, nonce: nonce)
            let callbackQuery = URLEncodedForm([("code", code), ("state", state), ("iss", issuer)]).encoded
            var head = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/auth/bench/callback?" + callbackQuery)
            head.headerFields[.cookie] = String(setCookie.prefix { $0 != ";" })
            return AuthRequest(head: head, clientAddress: "127.0.0.1")
        }

        /// One callback, timed: Sesame's part (the provider's handler time subtracted) and the provider's time, read
        /// before any other request reaches the provider. Stops the run unless it signed in.
        func timedCallback(_ handler: AuthHandler, _ request: AuthRequest) async -> (own: Double, provider: Double) {
            let start = clock.now
            let response = await handler.handle(request)
            let total = nanoseconds(clock.now - start)
            guard response.head.status == .found, response.head.headerFields[values: .setCookie].contains(where: { $0.contains("sesame-session=") }) else {
                fatalError("callback failed: \(response.head.status) \(String(decoding: response.body, as: UTF8.self))")
            }
            let providerTime = Double(provider.lastHandlerTime.load(ordering: .relaxed))
            return (total - providerTime, providerTime)
        }

        let bare = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        let basic = "Basic " + Data("\(provider.clientID):\(provider.clientSecret)".utf8).base64EncodedString()
        /// One bare token request for a fresh code: its round trip with the provider's time subtracted.
        func bareExchange(_ index: Int) async throws -> Double {
            let code = "bare-\(index)-" + UUID().uuidString
            let verifier = Base64URLText.encode(Array(UUID().uuidString.utf8) + Array(UUID().uuidString.utf8))
            try provider.prepare(code: code, challenge: Base64URLText.encode(SHA256.hash(data: Array(verifier.utf8))), nonce: "n")
            var request = HTTPClientRequest(url: issuer + "/token")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.headers.add(name: "Accept", value: "application/json")
            request.headers.add(name: "Authorization", value: basic)
            let form = URLEncodedForm([("grant_type", "authorization_code"), ("code", code), ("redirect_uri", "https://app.example/auth/bench/callback"), ("code_verifier", verifier)])
            request.body = .bytes(ByteBuffer(string: form.encoded))
            let start = clock.now
            let response = try await bare.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 20)
            let elapsed = nanoseconds(clock.now - start)
            guard response.status == .ok, body.readableBytes > 100 else { fatalError("bare exchange failed: \(response.status)") }
            return elapsed - Double(provider.lastHandlerTime.load(ordering: .relaxed))
        }

        var totals: [Double] = []
        var bareTimes: [Double] = []
        var stepTimes: [FlowStep: [Double]] = [:]
        var providerTimes: [Double] = []
        let order: [FlowStep] = [.stateCheck, .codeExchange, .idTokenVerification, .signIn]
        for index in 0..<(warmUp + callbacks) {
            if index.isMultiple(of: 2) { bareTimes.append(try await bareExchange(index)) }
            let request = try await approvedCallback(handler, code: "code-\(index)-" + UUID().uuidString)
            log.steps.withLock { $0.removeAll() }
            let (own, providerTime) = await timedCallback(handler, request)
            // This callback's steps, before another callback through the same handler reports its own.
            let steps = log.steps.withLock { $0 }
            if !index.isMultiple(of: 2) { bareTimes.append(try await bareExchange(index)) }
            // With and without accounts, in alternating order.
            let accountRequest = try await approvedCallback(withAccounts, code: "accounts-\(index)-" + UUID().uuidString)
            let plainRequest = try await approvedCallback(handler, code: "plain-\(index)-" + UUID().uuidString)
            let accountTime: Double, plainTime: Double
            if index.isMultiple(of: 2) {
                accountTime = await timedCallback(withAccounts, accountRequest).own
                plainTime = await timedCallback(handler, plainRequest).own
            } else {
                plainTime = await timedCallback(handler, plainRequest).own
                accountTime = await timedCallback(withAccounts, accountRequest).own
            }
            guard index >= warmUp else { continue }
            accountTotals.append(accountTime)
            plainTotals.append(plainTime)
            providerTimes.append(providerTime)
            totals.append(own)
            for step in order {
                guard let duration = steps[step] else { fatalError("step \(step) not reported") }
                stepTimes[step, default: []].append(nanoseconds(duration) - (step == .codeExchange ? providerTime : 0))
            }
        }
        group.cancelAll()
        try await bare.shutdown()
        bareTimes.removeFirst(warmUp)

        let sorted = totals.sorted()
        let sum = totals.reduce(0, +)
        print("callbacks: \(callbacks) (after \(warmUp) warm-up), OIDC, RS256 ID token, ES256 session, provider on 127.0.0.1")
        print(String(format: "callback, provider time excluded: median %.1f µs, p99 %.1f µs, mean %.1f µs", percentile(sorted, 0.5) / 1000, percentile(sorted, 0.99) / 1000, sum / Double(totals.count) / 1000))
        print(String(format: "provider handler time (subtracted): median %.1f µs", percentile(providerTimes.sorted(), 0.5) / 1000))
        func row(_ name: String, _ median: String, _ p99: String, _ share: String) {
            print(name.padding(toLength: 26, withPad: " ", startingAt: 0) + [median, p99, share].map { String(repeating: " ", count: max(0, 11 - $0.count)) + $0 }.joined())
        }
        func micro(_ value: Double) -> String { String(format: "%.1f", value / 1000) }
        row("step", "median µs", "p99 µs", "share")
        var accounted = 0.0
        for step in order {
            let times = stepTimes[step]!
            let stepSorted = times.sorted()
            let stepSum = times.reduce(0, +)
            accounted += stepSum
            row(step.description, micro(percentile(stepSorted, 0.5)), micro(percentile(stepSorted, 0.99)), String(format: "%.1f %%", stepSum / sum * 100))
        }
        row("other (routing, profile)", "", "", String(format: "%.1f %%", (sum - accounted) / sum * 100))
        let bareSorted = bareTimes.sorted()
        let exchangeMedian = percentile(stepTimes[.codeExchange]!.sorted(), 0.5)
        row("bare AHC token request", micro(percentile(bareSorted, 0.5)), micro(percentile(bareSorted, 0.99)), "")
        print(String(format: "code exchange ÷ bare AsyncHTTPClient request (medians): %.2f×", exchangeMedian / percentile(bareSorted, 0.5)))
        let withMedian = percentile(accountTotals.sorted(), 0.5), withoutMedian = percentile(plainTotals.sorted(), 0.5)
        print(String(format: "with accounts (\(inMemory ? "memory" : "SQLite")): median %.1f µs; without, same rounds: median %.1f µs; accounts add %.1f %% (target ≤ 25 %%)",
                     withMedian / 1000, withoutMedian / 1000, (withMedian / withoutMedian - 1) * 100))
    }
}

try await run(callbacks: callbacks, warmUp: warmUp)
