import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Sesame
import SesameHummingbird
import Synchronization

/// The session kinds of the app under test.
enum TestSession: SessionSubject, Equatable {
    case user(email: String)
    case service(name: String)
}

/// A clock tests can move.
final class TestClock: Sendable {
    private let storage: Mutex<Double>
    init() { storage = Mutex(Date().timeIntervalSince1970.rounded(.down)) }
    var now: Double { storage.withLock { $0 } }
    func advance(_ seconds: Double) { storage.withLock { $0 += seconds } }
    var function: @Sendable () -> Double { { self.now } }
}

/// Links the link provider "sent".
final class Outbox: Sendable {
    private let sent = Mutex<[(link: String, claims: JSONObject)]>([])
    func deliver(_ link: String, _ claims: JSONObject) { sent.withLock { $0.append((link, claims)) } }
    var all: [(link: String, claims: JSONObject)] { sent.withLock { $0 } }
    var last: (link: String, claims: JSONObject)? { all.last }
}

/// An app with a link provider, a multi-tenant custom provider, protected routes and a CORS route.
struct TestApp {
    static let baseURL = "http://127.0.0.1:8080"
    let clock = TestClock()
    let keys: KeySet
    let sessions: SessionTokens<TestSession>
    let outbox = Outbox()
    var linkConfiguration: LinkProvider.Configuration
    /// Where the handler logs (tests that check what is logged replace it).
    var logger = Logger(label: "test")

    init(perAddress: Int = 5, perClient: Int = 20) throws {
        keys = try KeySet(activeKey: JWK.generate(.es256))
        let clock = self.clock
        // Plain-http development (the test base URL): the cookie is `sesame-session`, without `Secure`.
        sessions = try SessionTokens<TestSession>(
            keys: keys, configuration: SessionConfiguration(cookie: SessionCookie(baseURL: TestApp.baseURL)),
            revocations: MemoryRevocationStore(now: clock.function), now: clock.function)
        linkConfiguration = LinkProvider.Configuration(
            perAddress: MemoryRateLimiter(capacity: perAddress, refillInterval: 60, now: clock.function),
            perClient: MemoryRateLimiter(capacity: perClient, refillInterval: 60, now: clock.function),
            replay: MemoryReplayStore(now: clock.function),
            deliversInBackground: false)
    }

    /// One tenant's identity provider, standing in for an OIDC provider: its callback trusts `?user=`.
    static func tenantProvider(_ tenant: String) -> CustomProvider {
        CustomProvider(displayName: "Tenant \(tenant)") { request, context in
            .redirect(to: URLEncodedForm.appending(name: "tenant", value: tenant, to: context.callbackURL))
        } callback: { request, context in
            guard let user = request.query["user"] else { throw AuthError.invalidRequest }
            return .signedIn(ProviderIdentity(claims: ["email": .string("\(user)@\(tenant).example"), "tenant": .string(tenant)]))
        }
    }

    var handler: AuthHandler {
        let outbox = self.outbox
        let sessions = self.sessions
        let tenants = ["acme": TestApp.tenantProvider("acme"), "globex": TestApp.tenantProvider("globex")]
        // A custom adapter: picks the tenant's provider by a query parameter and delegates to it.
        let multiTenant = CustomProvider(type: "sso", displayName: "Company sign-in") { request, context in
            guard let tenant = request.query["tenant"].flatMap({ tenants[$0] }) else { throw AuthError.invalidRequest.with(detail: "unknown tenant") }
            return try await tenant.authorize(request, context: context)
        } callback: { request, context in
            guard let tenant = request.query["tenant"].flatMap({ tenants[$0] }) else { throw AuthError.invalidRequest.with(detail: "unknown tenant") }
            return try await tenant.callback(request, context: context)
        }
        let link = LinkProvider(configuration: linkConfiguration, now: clock.function) { link, claims in outbox.deliver(link, claims) }
        return AuthHandler(
            providers: ["link": link, "sso": multiTenant],
            configuration: AuthConfiguration(baseURL: TestApp.baseURL),
            keys: keys,
            logger: logger
        ) { success in
            guard let email = success.claims["email"]?.stringValue else { throw AuthError.accessDenied }
            if email.hasPrefix("blocked@") { throw AuthError.accessDenied }
            return AuthResponse(try sessions.cookie(.user(email: email), redirect: TestApp.baseURL + "/"))
        }
    }

    func router() -> Router<BasicSesameRequestContext<TestSession>> {
        let router = Router(context: BasicSesameRequestContext<TestSession>.self)
        // CORS sits in front of routing, so that preflights for any path are answered.
        router.add(middleware: CORSPolicyMiddleware(CORSPolicy(allowedOrigins: ["https://app.example"])))
        router.addAuthHandler(handler)
        let site = router.group().add(middleware: SesameSessionMiddleware(sessions: sessions))
        site.get("/whoami") { _, context in
            // The context's identity and the task-local, read deep inside other code, agree.
            let fromContext = context.identity?.subjectID ?? "none"
            let fromTaskLocal = await DeepService.currentSubject()
            return "\(fromContext)|\(fromTaskLocal)"
        }
        router.group("api").add(middleware: SesameSessionMiddleware(sessions: sessions, requirement: SessionRequirement())).get("me") { _, context in
            try context.requireIdentity().subjectID
        }
        site.group("users").add(middleware: RequireSessionMiddleware(SessionRequirement(signInURL: "/signin") { session in
            if case .user = session.subject { return true }
            return false
        })).get("only") { _, _ in "welcome" }
        site.get("cors/data") { _, _ in "data" }
        return router
    }

    var application: some ApplicationProtocol { Application(router: router()) }
}

/// Code far from the route handler that still sees the request's session.
enum DeepService {
    static func currentSubject() async -> String {
        await Task.yield()
        return AuthSession<TestSession>.current?.subjectID ?? "none"
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var json: JSONValue? { try? JSONValue(parsing: Array(body.readableBytesView)) }
    /// The cookie that binds a requested link to this browser (name=value), if the response sets one.
    var linkBinding: String? {
        headers[values: .setCookie].first { ($0.hasPrefix("sesame-link-") || $0.hasPrefix("__Host-sesame-link-")) && !$0.contains("Max-Age=0") }
            .map { String($0.prefix { $0 != ";" }) }
    }
    /// The session cookie this response sets (name=value), if any.
    var sessionCookie: String? {
        headers[values: .setCookie].first { $0.hasPrefix("sesame-session=") || $0.hasPrefix("__Host-sesame-session=") }
            .map { String($0.prefix { $0 != ";" }) }
    }
}

extension HTTPFields {
    static let browser: HTTPFields = [.accept: "text/html,application/xhtml+xml", .secFetchModeTest: "navigate"]
    static func form() -> HTTPFields { [.contentType: "application/x-www-form-urlencoded"] }
    /// A form post from the app's own pages (its `Origin` proves it).
    static func sameOriginForm() -> HTTPFields { [.contentType: "application/x-www-form-urlencoded", .origin: TestApp.baseURL] }
    /// A navigation or request the browser marks as coming from the app itself.
    static let sameOrigin: HTTPFields = [HTTPField.Name("Sec-Fetch-Site")!: "same-origin"]

    /// These fields with one more.
    func with(_ name: HTTPField.Name, _ value: String) -> HTTPFields {
        var fields = self
        fields[name] = value
        return fields
    }
}

extension HTTPField.Name {
    static let secFetchModeTest = HTTPField.Name("Sec-Fetch-Mode")!
    static let secFetchSiteTest = HTTPField.Name("Sec-Fetch-Site")!
}

/// The path and query of an absolute URL (the test server listens elsewhere than the base URL).
func pathAndQuery(_ url: String) -> String {
    let afterScheme = url.range(of: "://").map { url[$0.upperBound...] } ?? url[...]
    return String(afterScheme.drop { $0 != "/" })
}
