import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Sesame
import ServiceLifecycle
import SesameHummingbird
import Synchronization

/// The demo's session kinds.
public enum DemoSession: SessionSubject, Equatable {
    /// A person signed in by email link.
    case user(email: String)
}

/// How the demo runs.
public struct DemoConfiguration: Sendable {
    /// The address to listen on (default `127.0.0.1`).
    public var host: String
    /// The port to listen on (default 8080; 0 picks a free one).
    public var port: Int
    /// The public base URL (default `http://127.0.0.1:{port}`).
    public var baseURL: String
    /// Development mode shows sign-in links on the page (as well as in the log).
    public var isDevelopment: Bool
    /// The native app that may sign in through the browser and hold refresh tokens (with stateless sessions):
    /// `sesame-demo-app`, redirected to `sesame-demo:/signed-in` by default.
    public var nativeApp: NativeAppClient
    /// The proxies in front of the demo, whose `X-Forwarded-For` names the client (rate limits are per client);
    /// none by default.
    public var trustedProxies: TrustedProxies = .none
    /// `GET /metrics` (Prometheus's text format), when the process installed a registry; off by default.
    public var metrics: DemoMetrics?
    /// Background services that run beside the server and stop with it (key reloading, the stores' cleanup); none
    /// by default.
    public var services: [any Service] = []
    /// How long a session lives, in seconds (default 30 days).
    public var sessionLifetime: Double = 30 * 24 * 60 * 60
    /// How long an idle stored session lives, in seconds, if limited (default: not limited).
    public var idleTimeout: Double?

    /// Creates a configuration.
    public init(
        host: String = "127.0.0.1", port: Int = 8080, baseURL: String? = nil, isDevelopment: Bool = true,
        nativeApp: NativeAppClient = NativeAppClient(id: "sesame-demo-app", redirectURIs: ["sesame-demo:/signed-in"])
    ) {
        self.host = host
        self.port = port
        self.baseURL = baseURL ?? "http://\(host):\(port)"
        self.isDevelopment = isDevelopment
        self.nativeApp = nativeApp
    }
}

/// Where the demo "sends" sign-in links: the log, and in development a mailbox the check-email page reads.
public final class DemoMailbox: Sendable {
    private let links = Mutex<[String: String]>([:])

    public init() {}

    /// Stores the latest link for a pending sign-in.
    public func deliver(_ link: String, pending: String) {
        links.withLock { links in
            if links.count > 1000 { links.removeAll() }
            links[pending] = link
        }
    }

    /// The latest link for a pending sign-in.
    public func link(pending: String) -> String? { links.withLock { $0[pending] } }

    private let letters = Mutex<[String: [PasswordProvider.Message]]>([:])

    /// Keeps a password message (a verification, a reset link) for the development outbox page.
    public func deliver(_ message: PasswordProvider.Message) {
        letters.withLock { letters in
            if letters.count > 1000 { letters.removeAll() }
            letters[message.recipient, default: []].append(message)
            if letters[message.recipient]!.count > Self.messagesPerAddress { letters[message.recipient]!.removeFirst() }
        }
    }

    /// The password messages sent to an address, oldest first.
    public func messages(to address: String) -> [PasswordProvider.Message] { letters.withLock { $0[address] ?? [] } }

    private let passkeyLetters = Mutex<[String: [PasskeyProvider.Message]]>([:])

    /// Keeps a passkey sign-up message (a code, or a notice to an address's owner) for the development outbox page.
    public func deliver(_ message: PasskeyProvider.Message) {
        let to: String
        switch message {
        case .code(let address, _), .addressInUse(let address): to = address
        }
        passkeyLetters.withLock { letters in
            if letters.count > 1000 { letters.removeAll() }
            letters[to, default: []].append(message)
            if letters[to]!.count > Self.messagesPerAddress { letters[to]!.removeFirst() }
        }
    }

    /// How many links and messages are kept now (at most 1,000 pending links, and 1,000 addresses of each kind
    /// with at most ``messagesPerAddress`` messages each).
    public var count: Int {
        links.withLock { $0.count } + letters.withLock { $0.values.reduce(0) { $0 + $1.count } }
            + passkeyLetters.withLock { $0.values.reduce(0) { $0 + $1.count } }
    }

    /// How many messages an address keeps (the newest).
    public static let messagesPerAddress = 20

    /// The passkey sign-up messages sent to an address, oldest first.
    public func passkeyMessages(to address: String) -> [PasskeyProvider.Message] { passkeyLetters.withLock { $0[address] ?? [] } }
}

extension PasswordProvider.Message {
    /// The address the message goes to.
    var recipient: String {
        switch self {
        case .verifyEmail(let to, _, _), .addressInUse(let to, _, _), .resetPassword(let to, _): to
        }
    }
}

/// What the demo keeps in a store-backed session besides the signed-in person: the last page they asked for.
public struct DemoData: Codable, Sendable, Equatable {
    /// How many times the home page was shown in this session.
    public var visits: Int
}

/// The demo's parts, so tests and benchmarks can build the app around their own keys, clock and session
/// strategy: stateless tokens (the default) or a store.
public struct Demo<Sessions: SessionStrategy>: Sendable where Sessions.Subject == DemoSession {
    public let configuration: DemoConfiguration
    public let sessions: Sessions
    public let auth: AuthHandler
    public let mailbox: DemoMailbox
    /// The sizes of what this process keeps in memory, for `GET /dev/memory`.
    public let gauges: DemoMemoryGauges
    let logger: Logger
    /// The extra providers' names and display names, for the home page's buttons.
    let providerButtons: [(name: String, displayName: String)]
    /// The session data that counts home page visits, with store-backed sessions.
    let visitData: StoredSessionData<DemoData>?
    /// The users and their linked sign-ins.
    public let accounts: Accounts
    /// Email-and-password accounts on the same store.
    public let passwords: PasswordAccounts
    /// Authenticator apps and recovery codes, asked for after a password.
    public let secondFactors: SecondFactors
    /// Passkeys: sign-up, sign-in, the second factor and the account page's list.
    public let passkeys: Passkeys
    /// With store-backed sessions: a subject's live sessions, and ending one of them.
    let sessionDirectory: DemoSessionDirectory?
    /// Each user's recent security events: the account page's recent sign-ins.
    let trail: AuditTrail
    /// Native apps' refresh-token families (with stateless sessions): ended with every other session of a user.
    let nativeApps: DemoNativeApps?

    /// Assembles the demo.
    ///
    /// - Parameters:
    ///   - configuration: Addresses and mode.
    ///   - keys: The key set for sessions and links.
    ///   - link: The link provider's configuration (rate limits, stores).
    ///   - providers: More sign-in providers (OAuth / OpenID Connect), each offered as a button on the home page.
    ///   - logger: The demo's logger.
    ///   - sessions: The session strategy.
    ///   - visitData: Where the home page counts visits (store-backed sessions only).
    ///   - accountStore: Where users and accounts live (default: in memory; `sesame-demo` uses SQLite).
    ///   - passwordConfiguration: The password accounts' rules and limits.
    public init(
        configuration: DemoConfiguration, keys: KeySet, sessions: Sessions, link: LinkProvider.Configuration? = nil,
        providers: [String: any AuthProvider] = [:], logger: Logger = Logger(label: "sesame.demo"), visitData: StoredSessionData<DemoData>? = nil,
        accountStore: (any AccountStore)? = nil, passwordConfiguration: PasswordAccounts.Configuration = PasswordAccounts.Configuration()
    ) throws {
        try self.init(
            configuration: configuration, keys: keys, sessions: sessions, link: link, providers: providers, logger: logger, visitData: visitData,
            accountStore: accountStore, sessionDirectory: nil, passwordConfiguration: passwordConfiguration)
    }

    init(
        configuration: DemoConfiguration, keys: KeySet, sessions: Sessions, link: LinkProvider.Configuration?,
        providers: [String: any AuthProvider], logger: Logger, visitData: StoredSessionData<DemoData>?,
        accountStore: (any AccountStore)?, sessionDirectory: DemoSessionDirectory?, nativeApps: DemoNativeApps? = nil,
        passwordConfiguration: PasswordAccounts.Configuration? = nil, shared: DemoSharedState = .inProcess()
    ) throws {
        self.visitData = visitData
        self.sessionDirectory = sessionDirectory
        self.nativeApps = nativeApps
        // Every account-store call timed, when the process has a metrics backend (the servers install Prometheus's).
        let store = SesameMetrics().measuring(accountStore ?? MemoryAccountStore())
        // Security events go to the log and to each user's trail (the account page's recent sign-ins).
        let audit = shared.audit
        self.trail = shared.trail
        let accounts = Accounts(store: store, keys: keys, audit: audit)
        self.accounts = accounts
        let passwords = PasswordAccounts(store: store, configuration: passwordConfiguration ?? shared.passwordConfiguration(), audit: audit)
        self.passwords = passwords
        let secondFactors = SecondFactors(store: store, keys: keys, issuer: "Sesame demo", perUser: shared.rateLimiter("second-factor", 5, 60), audit: audit)
        self.secondFactors = secondFactors
        // One replay store for the handler's flows, the links and the passkey ceremonies (in memory for one
        // process, in Redis or PostgreSQL for several).
        let replay = shared.replay
        let passkeys = Passkeys(
            store: store, keys: keys, baseURL: configuration.baseURL, replay: replay, configuration: PasskeyConfiguration(relyingPartyName: "Sesame demo"),
            audit: audit)
        self.passkeys = passkeys
        let types = providers.mapValues { AccountType(providerType: $0.type) }.merging(["link": .email, "password": .credentials, "passkey": .webauthn]) { _, own in own }
        self.configuration = configuration
        self.logger = logger
        let mailbox = DemoMailbox()
        gauges = shared.gauges
        gauges.register("mailbox: messages") { mailbox.count }
        var linkConfiguration = link ?? shared.linkConfiguration()
        // The demo's delivery does the same instant work for every address, so it can run before the response
        // without revealing anything, and the check-email page can show the link right away.
        linkConfiguration.deliversInBackground = false
        linkConfiguration.sentURL = "/check-email"
        // The home page's form sends these two along: they travel with the link (nothing else a requester adds does).
        linkConfiguration.allowedParameters.formUnion(["pending", "redirect"])
        let baseURL = configuration.baseURL
        let isDevelopment = configuration.isDevelopment
        let provider = LinkProvider(configuration: linkConfiguration) { link, claims in
            // A link is a credential: only a development server prints it, standing in for an email.
            guard isDevelopment else {
                logger.warning("No email delivery is configured; the sign-in link was not sent")
                return
            }
            logger.notice("Development sign-in link for \(claims["email"]?.stringValue ?? "?"): \(link)")
            if let pending = claims["pending"]?.stringValue { mailbox.deliver(link, pending: pending) }
        }
        // Password messages: in development, the outbox page stands in for an inbox; a message is a credential,
        // so nothing is delivered anywhere else.
        // Passkey sign-up codes go to the same outbox.
        let passkey = PasskeyProvider(passkeys: passkeys, deliversInBackground: false) { message in
            guard isDevelopment else {
                logger.warning("No email delivery is configured; a passkey sign-up code was not sent")
                return
            }
            logger.notice("Development passkey sign-up message: see /dev/outbox")
            mailbox.deliver(message)
        }
        let password = PasswordProvider(passwords: passwords, secondFactors: secondFactors, passkeys: passkeys, deliversInBackground: false) { message in
            guard isDevelopment else {
                logger.warning("No email delivery is configured; a password message was not sent")
                return
            }
            logger.notice("Development password message for \(message.recipient): see /dev/outbox")
            mailbox.deliver(message)
        }
        self.auth = AuthHandler(
            providers: providers.merging(["link": provider, "password": password, "passkey": passkey]) { _, own in own },
            configuration: AuthConfiguration(baseURL: baseURL, trustedProxies: configuration.trustedProxies, audit: audit),
            keys: keys,
            replay: replay,
            // The Auth.js actions (`/auth/session`, `/auth/signout`) and the built-in pages use the same sessions.
            sessions: SessionAccess(sessions) { session in
                guard case .user(let email) = session.subject else { return nil }
                return ["email": .string(email), "name": .string(String(email.prefix { $0 != "@" }))]
            },
            pages: AuthPages(brandColor: "#6b3fa0"),
            // A password reset signs the user out everywhere.
            endSessions: { user in
                guard let email = user.email else { return }
                let subjectID = DemoSession.user(email: email).subjectIdentifier
                try await sessions.endAllSessions(subjectID: subjectID)
                try await nativeApps?.revokeAll(subjectID)
            },
            nativeApps: nativeApps?.access,
            logger: logger
        ) { success in
            let email: String
            if let profile = success.profile {
                // OAuth / OpenID Connect: only an address the provider verified names the user.
                guard let verified = profile.email, profile.emailVerified == true else { throw AuthError.accessDenied.with(detail: "the provider has no verified email address for this account") }
                email = verified
            } else {
                guard let linked = success.claims["email"]?.stringValue else { throw AuthError.accessDenied }
                email = linked
            }
            // The user and their linked sign-ins: a link and a provider that both verify an address land on one user.
            var signedInUserID: String? = nil
            if let session = await sessions.resolve(success.request.head).session, case .user(let signedInEmail) = session.subject {
                signedInUserID = try await accounts.store.user(email: signedInEmail)?.id
            }
            let signIn = try await accounts.signIn(
                provider: success.provider, type: types[success.provider] ?? .oauth, identity: success.identity, signedInUserID: signedInUserID)
            let target = (success.returnTo ?? success.claims["redirect"]?.stringValue).flatMap(RedirectPolicy.localPath) ?? "/"
            return AuthResponse(try await sessions.signIn(.user(email: signIn.user.email ?? email), request: success.request.head, redirect: baseURL + target))
        }
        self.providerButtons = providers.sorted { $0.key < $1.key }.map { (name: $0.key, displayName: $0.value.displayName) }
        self.sessions = sessions
        self.mailbox = mailbox
    }

    /// The record of what the demo shows on its home page for store-backed sessions.
    /// Counts a home page visit in the session's data; `nil` with stateless sessions, which have no data.
    func countVisit() -> Int? {
        guard let visitData else { return nil }
        let visits = (visitData.current?.visits ?? 0) + 1
        do {
            try visitData.set(DemoData(visits: visits))
        } catch {
            return nil
        }
        return visits
    }

    /// The cookie that ties the check-email page to the browser that asked for a link (Sesame's cookie policy).
    var pendingCookie: SessionCookie { SessionCookie(name: "demo-pending", baseURL: configuration.baseURL) }

    /// The demo's routes.
    ///
    /// - Parameter benchmarkSession: When given, adds `/bench/plain`, which renders this session the way
    ///   `/api/me` renders the request's, but without any Sesame middleware (for the HTTP benchmark).
    public func router(benchmarkSession: AuthSession<DemoSession>? = nil) -> Router<BasicSesameRequestContext<DemoSession>> {
        let router = Router(context: BasicSesameRequestContext<DemoSession>.self)
        // Hummingbird's own refusals (an unmatched route, a body over the limit) in Sesame's shape.
        router.add(middleware: SesameErrorMiddleware())
        router.addAuthHandler(auth)
        if let benchmarkSession {
            // The protected API route's twin: the same rendering of a (pre-verified) session, without Sesame.
            router.get("/bench/plain") { _, _ in DemoAPI.render(benchmarkSession) }
        }
        // The site's pages run with the client's address and user agent at hand for the audit log.
        let site = router.group().add(middleware: SesameSessionMiddleware(sessions: sessions))
            .add(middleware: SesameAuditMiddleware(trustedProxies: configuration.trustedProxies))
        site.get("/") { request, _ in Response(self.home(request.head)) }
        site.get("/check-email") { request, _ in Response(self.checkEmail(request.head)) }
        site.get("/dev/outbox") { request, _ in Response(self.outbox(request.head)) }
        router.get("/dev/memory") { _, _ in Response(self.memoryReport()) }
        router.get("/metrics") { request, _ in Response(self.metricsReport(request.head)) }
        site.get("/client") { _, _ in Response(self.clientPage()) }
        site.get("/client.js") { _, _ in Response(self.clientPageScript()) }
        site.post("/signout") { request, _ in Response(try await self.signOut(request.head)) }
        let signedIn = site.group().add(middleware: RequireSessionMiddleware(SessionRequirement(signInURL: "/")))
        signedIn.get("/protected") { _, _ in Response(self.protectedPage()) }
        signedIn.get("/account") { _, _ in Response(await self.accountPage()) }
        // Unlinking, deleting, the password and the second factor need a sign-in within the last ten minutes.
        let recent = site.group().add(middleware: RequireSessionMiddleware(SessionRequirement(signInURL: "/", maxAge: Demo.recentSignIn)))
        recent.post("/account/unlink") { request, context in
            let body = try await request.body.collect(upTo: 4096)
            return Response(await self.unlink(request.head, form: URLEncodedForm(parsing: String(buffer: body))))
        }
        signedIn.post("/account/signout-everywhere") { request, _ in Response(await self.signOutEverywhere(request.head)) }
        recent.post("/account/delete") { request, _ in Response(await self.deleteAccount(request.head)) }
        recent.get("/account/two-factor") { _, _ in Response(await self.twoFactorPage()) }
        recent.get("/account/security") { _, _ in Response(await self.securityPage()) }
        recent.post("/account/password") { request, _ in
            let body = try await request.body.collect(upTo: 4096)
            return Response(await self.changePassword(request.head, form: URLEncodedForm(parsing: String(buffer: body))))
        }
        recent.post("/account/passkeys/options") { request, _ in Response(await self.passkeyOptions(request.head)) }
        recent.post("/account/passkeys") { request, _ in
            let body = try await request.body.collect(upTo: 64 * 1024)
            return Response(await self.addPasskey(request.head, body: Array(buffer: body)))
        }
        recent.post("/account/passkeys/rename") { request, _ in
            let body = try await request.body.collect(upTo: 4096)
            return Response(await self.changePasskey(request.head, form: URLEncodedForm(parsing: String(buffer: body)), remove: false))
        }
        recent.post("/account/passkeys/delete") { request, _ in
            let body = try await request.body.collect(upTo: 4096)
            return Response(await self.changePasskey(request.head, form: URLEncodedForm(parsing: String(buffer: body)), remove: true))
        }
        recent.post("/account/two-factor") { request, _ in
            let body = try await request.body.collect(upTo: 4096)
            return Response(await self.twoFactorChange(request.head, form: URLEncodedForm(parsing: String(buffer: body))))
        }
        signedIn.post("/account/sessions/end") { request, context in
            let body = try await request.body.collect(upTo: 4096)
            return Response(await self.endSession(request.head, form: URLEncodedForm(parsing: String(buffer: body))))
        }
        // The API resolves and requires the session in one step.
        router.group("api")
            .add(middleware: SesameSessionMiddleware(sessions: sessions, requirement: SessionRequirement(signInURL: "/")))
            .get("me") { _, _ in try await DemoAPI.me() }
        return router
    }

    /// The demo application, listening on the configured address.
    ///
    /// - Parameter benchmarkSession: See ``router(benchmarkSession:)``.
    public func application(benchmarkSession: AuthSession<DemoSession>? = nil) -> some ApplicationProtocol {
        Application(
            router: router(benchmarkSession: benchmarkSession),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port)), services: configuration.services, logger: logger)
    }

    // MARK: Pages (framework-agnostic: the Hummingbird and Vapor demos serve the same ones)

    /// The home page: who is signed in, or the sign-in form.
    public func home(_ request: HTTPRequest) -> AuthResponse {
        if let session = AuthSession<DemoSession>.current, case .user(let email) = session.subject {
            return .html(HTML.page(title: "Sesame demo", body: """
                <h1>Sesame demo</h1>
                <p>Signed in as <strong>\(HTML.escape(email))</strong>.\(countVisit().map { " Home page visits in this session (kept in the session store): \($0)." } ?? "")</p>
                <ul>
                <li><a href="/protected">A protected page</a></li>
                <li><a href="/account">Your account</a>: linked sign-ins, sign out everywhere</li>
                <li><a href="/api/me">The JSON API</a> (cookie or <code>Authorization: Bearer</code>)</li>
                <li><a href="/client">The browser client</a> (<code>/auth/client.js</code>)</li>
                </ul>
                <form method="post" action="/signout"><button type="submit">Sign out</button></form>
                <p><a href="/auth/signout?callbackUrl=%2F">Sign out with the built-in page</a> · <a href="/auth/session">the session as Auth.js clients see it</a></p>
                """))
        }
        let pending = RandomPending.make()
        let redirect = AuthRequest(head: request).query["redirect"].flatMap(RedirectPolicy.localPath) ?? "/"
        var response = AuthResponse.html(HTML.page(title: "Sesame demo", body: """
            <h1>Sesame demo</h1>
            <p>Not signed in. Sign in with a link sent to your email address\(configuration.isDevelopment ? " (in development the link is shown on the next page and in the server log)" : "").</p>
            <form method="post" action="/auth/link/authorize">
            <label for="email">Email address</label>
            <input id="email" name="email" type="email" autocomplete="email" required autofocus>
            <input type="hidden" name="pending" value="\(pending)">
            <input type="hidden" name="redirect" value="\(HTML.escape(redirect))">
            <button type="submit">Email me a sign-in link</button>
            </form>
            <p>Or <a id="password-signin" href="/auth/signin?callbackUrl=%2F">sign in with a password</a>
            (<a id="signup" href="/auth/password/signup">create an account</a>), on Sesame's built-in pages,
            or on <a href="/client">a page of your own</a> with the browser client.</p>
            \(providerButtons.map { provider in
                "<p><a class=\"button\" href=\"/auth/\(HTML.escape(provider.name))/authorize?returnTo=\(HTML.escape(redirect.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "%2F"))\">Sign in with \(HTML.escape(provider.displayName))</a></p>"
            }.joined(separator: "\n"))
            """))
        response.head.headerFields.append(HTTPField(name: .setCookie, value: pendingCookie.setCookie(pending, maxAge: 600)))
        return response
    }

    /// After a link was requested: in development, the link itself.
    public func checkEmail(_ request: HTTPRequest) -> AuthResponse {
        var body = "<h1>Check your email</h1><p>If the address can sign in, a link is on its way. It works once, for 10 minutes.</p>"
        if configuration.isDevelopment, let pending = AuthRequest(head: request).cookie(named: pendingCookie.effectiveName), let link = mailbox.link(pending: pending) {
            body += "<p class=\"muted\">Development mode: <a id=\"link\" href=\"\(HTML.escape(link))\">open your sign-in link</a>.</p>"
        }
        body += "<p><a href=\"/\">Back</a></p>"
        return .html(HTML.page(title: "Check your email", body: body))
    }

    /// Development only: how many entries each bounded in-memory structure holds now, as JSON
    /// (`{"counts": {name: entries}}`), for the bounded-memory flood (`scripts/memory-flood.py`).
    /// `GET /metrics`: see ``DemoMetrics``; 404 without a registry.
    public func metricsReport(_ request: HTTPRequest) -> AuthResponse {
        configuration.metrics?.response(to: request, isDevelopment: configuration.isDevelopment) ?? AuthResponse(HTTPResponse(status: .notFound))
    }

    public func memoryReport() -> AuthResponse {
        guard configuration.isDevelopment else { return AuthResponse(HTTPResponse(status: .notFound)) }
        var counts = JSONObject()
        for (name, count) in gauges.snapshot().sorted(by: { $0.key < $1.key }) { counts[name] = .integer(Int64(count)) }
        return .json(.object(["counts": .object(counts)]))
    }

    /// Development only: the password messages sent to an address (`?to=`), standing in for an inbox.
    public func outbox(_ request: HTTPRequest) -> AuthResponse {
        guard configuration.isDevelopment else { return AuthResponse(HTTPResponse(status: .notFound)) }
        let address = AuthRequest(head: request).query["to"]?.lowercased() ?? ""
        var items = ""
        for (index, message) in mailbox.messages(to: address).enumerated() {
            switch message {
            case .verifyEmail(_, let link, let code):
                items += "<li>Verify your address: <a id=\"verify-\(index)\" href=\"\(HTML.escape(link))\">link</a>, or code <code id=\"code-\(index)\">\(HTML.escape(code))</code></li>"
            case .addressInUse(_, let signIn, let forgot):
                items += "<li>Someone tried to sign up with your address. <a href=\"\(HTML.escape(signIn))\">Sign in</a> or <a href=\"\(HTML.escape(forgot))\">reset your password</a>.</li>"
            case .resetPassword(_, let link):
                items += "<li>Reset your password: <a id=\"reset-\(index)\" href=\"\(HTML.escape(link))\">link</a></li>"
            }
        }
        for (index, message) in mailbox.passkeyMessages(to: address).enumerated() {
            switch message {
            case .code(_, let code):
                items += "<li>Your passkey sign-up code: <code id=\"passkey-code-\(index)\">\(HTML.escape(code))</code></li>"
            case .addressInUse:
                items += "<li>Someone tried to create a passkey account with your address. If it was you, sign in instead.</li>"
            }
        }
        return .html(HTML.page(title: "Outbox", body: """
            <h1>Outbox</h1><p class="muted">Development mode: the messages sent to <strong>\(HTML.escape(address))</strong>, newest last.</p>
            <ol id="messages">\(items)</ol><p><a href="/">Home</a></p>
            """))
    }

    /// A page only signed-in people see.
    public func protectedPage() -> AuthResponse {
        guard let session = AuthSession<DemoSession>.current, case .user(let email) = session.subject else { return AuthResponse(HTTPResponse(status: .unauthorized)) }
        return .html(HTML.page(title: "Protected", body: "<h1>Protected</h1><p>Only signed-in people see this, \(HTML.escape(email)).</p><p><a href=\"/\">Home</a></p>"))
    }

    /// The signed-in user's page: their linked sign-ins (each with "unlink"), providers to link, their sessions,
    /// "sign out everywhere" and "delete my account".
    public func accountPage(notice: String? = nil) async -> AuthResponse {
        guard let session = AuthSession<DemoSession>.current, case .user(let email) = session.subject else { return AuthResponse(HTTPResponse(status: .unauthorized)) }
        let linked: [AuthAccount]
        let user: AuthUser
        do {
            guard let found = try await accounts.store.user(email: email) else {
                return .html(HTML.page(title: "Account", body: "<h1>Account</h1><p>No account for this session.</p>"), status: .notFound)
            }
            user = found
            linked = try await accounts.linkedAccounts(userID: user.id)
        } catch {
            return .html(HTML.page(title: "Account", body: "<h1>Account</h1><p>The account store is unavailable. Try again shortly.</p>"), status: .serviceUnavailable)
        }
        var sessionRows = ""
        let live = try? await sessionDirectory?.list(session.subjectID)
        if let live {
            sessionRows = "<h2>Sessions</h2><ul>" + live.map { other in
                let this = other.id == session.id
                return """
                    <li class="session">Signed in \(other.issuedAt.formatted(.iso8601))\(this ? " <strong>(this session)</strong>" : "")
                    <form method="post" action="/account/sessions/end" style="display:inline">
                    <input type="hidden" name="id" value="\(HTML.escape(other.id))"><button type="submit">Sign out this session</button></form></li>
                    """
            }.joined(separator: "\n") + "</ul>"
        }
        let recent = await recentSignIns(userID: user.id, current: session, live: live)
        let rows = linked.map { account in
            """
            <li><span class="account">\(HTML.escape(account.key.provider))</span> (\(account.type.rawValue), since \(account.createdAt.formatted(.iso8601)))
            <form method="post" action="/account/unlink" style="display:inline">
            <input type="hidden" name="provider" value="\(HTML.escape(account.key.provider))">
            <input type="hidden" name="issuer" value="\(HTML.escape(account.key.issuer))">
            <input type="hidden" name="id" value="\(HTML.escape(account.key.providerAccountID))">
            <button type="submit">Unlink</button></form></li>
            """
        }.joined(separator: "\n")
        // Signing in with another provider while signed in links it (a sign-in link never links: see `Accounts`).
        let linkable = providerButtons.filter { provider in !linked.contains { $0.key.provider == provider.name } }
        let linkRows = linkable.map { provider in
            "<li><a class=\"button link-provider\" href=\"/auth/\(HTML.escape(provider.name))/authorize?returnTo=%2Faccount\">Link \(HTML.escape(provider.displayName))</a></li>"
        }.joined(separator: "\n")
        return .html(HTML.page(title: "Account", body: """
            <h1>Account</h1>
            \(notice.map { "<p class=\"notice\">\(HTML.escape($0))</p>" } ?? "")
            <p>Signed in as <strong>\(HTML.escape(email))</strong>.</p>
            <h2>Linked sign-ins</h2>
            <ul>\(rows)</ul>
            \(linkRows.isEmpty ? "" : "<h2>Link another sign-in</h2><ul>\(linkRows)</ul>")
            \(sessionRows)
            \(recent)
            <h2>Security</h2>
            <p><a id="security" href="/account/security">Password and two-step verification</a></p>
            <form method="post" action="/signout"><button type="submit">Sign out</button></form>
            <form method="post" action="/account/signout-everywhere"><button type="submit">Sign out everywhere</button></form>
            <h2>Delete account</h2>
            <p>Deletes your user, its linked sign-ins and stored provider tokens, and ends every session.</p>
            <form method="post" action="/account/delete"><button type="submit" class="danger">Delete my account</button></form>
            <p><a href="/">Home</a></p>
            """))
    }

    /// The account page's "Recent sign-ins": the user's last sign-ins and refused attempts from the audit trail,
    /// each with its time, way in, address and browser; a sign-in whose session is still live (and is not this one)
    /// can be signed out from here.
    func recentSignIns(userID: String, current: AuthSession<DemoSession>, live: [AuthSession<DemoSession>]?) async -> String {
        guard let events = try? await trail.events(for: userID, kinds: [.signIn, .signInFailed], limit: 10) else {
            return "<h2>Recent sign-ins</h2><p class=\"muted\">The sign-in history is unavailable right now.</p>"
        }
        guard !events.isEmpty else { return "" }
        let liveIDs = Set((live ?? []).map(\.id))
        let items = events.map { event in
            let outcome = event.kind == .signIn ? "Signed in" : "Refused sign-in (\(HTML.escape(event.detail ?? "error")))"
            var item = "<li class=\"sign-in\" data-kind=\"\(event.kind.rawValue)\">\(outcome) with \(HTML.escape(event.provider ?? "?")) at \(event.time.formatted(.iso8601))"
            item += " from <span class=\"address\">\(HTML.escape(event.clientAddress ?? "an unknown address"))</span>"
            item += ", <span class=\"agent\">\(HTML.escape(event.userAgent ?? "an unknown browser"))</span>"
            if let id = event.sessionID {
                if id == current.id {
                    item += " <strong>(this session)</strong>"
                } else if liveIDs.contains(id) {
                    item += " <form method=\"post\" action=\"/account/sessions/end\" style=\"display:inline\">"
                        + "<input type=\"hidden\" name=\"id\" value=\"\(HTML.escape(id))\"><button type=\"submit\" class=\"end-device\">Sign out that device</button></form>"
                }
            }
            return item + "</li>"
        }
        return "<h2>Recent sign-ins</h2><ul id=\"recent-sign-ins\">" + items.joined(separator: "\n") + "</ul>"
    }

    /// Sets or changes the signed-in user's password (a same-origin form post, after a recent sign-in): with a
    /// password already, the current one is needed too.
    public func changePassword(_ request: HTTPRequest, form: URLEncodedForm) async -> AuthResponse {
        guard auth.configuration.originPolicy.allows(request) else { return .json(["error": "forbidden_origin"], status: .forbidden) }
        do {
            guard let user = try await currentUser() else { return AuthResponse(HTTPResponse(status: .unauthorized)) }
            if try await passwords.hasPassword(userID: user.id) {
                try await passwords.changePassword(userID: user.id, current: form["current"] ?? "", new: form["new"] ?? "")
            } else {
                try await passwords.setPassword(userID: user.id, password: form["new"] ?? "")
            }
            return await securityPage(notice: "Your password was saved.")
        } catch let error as AuthError {
            var page = await securityPage(notice: error.detail ?? error.code)
            page.head.status = error.status
            return page
        } catch {
            return .json(["error": "temporarily_unavailable"], status: .serviceUnavailable)
        }
    }

    /// The built-in security page for the signed-in user: the password form and the second factor's state.
    public func securityPage(notice: String? = nil) async -> AuthResponse {
        do {
            guard let user = try await currentUser() else { return AuthResponse(HTTPResponse(status: .unauthorized)) }
            let enrolled = try await secondFactors.isEnrolled(userID: user.id)
            return auth.pages.accountSecurity(
                email: user.email ?? user.id, hasPassword: try await passwords.hasPassword(userID: user.id),
                recoveryCodesLeft: enrolled ? try await secondFactors.recoveryCodesLeft(userID: user.id) : nil,
                passwordAction: "/account/password", twoFactorURL: "/account/two-factor", notice: notice,
                passkeys: try await passkeys.passkeys(userID: user.id), passkeysURL: "/account/passkeys", configuration: auth.configuration)
        } catch {
            return .html(HTML.page(title: "Security", body: "<h1>Security</h1><p>The account store is unavailable.</p>"), status: .serviceUnavailable)
        }
    }

    /// A new passkey's options for the signed-in user (a same-origin `POST`, after a recent sign-in).
    public func passkeyOptions(_ request: HTTPRequest) async -> AuthResponse {
        await passkeyJSON(request) { user in try await passkeys.registrationOptions(for: user).response }
    }

    /// Verifies and stores the signed-in user's new passkey (the browser's credential JSON, with an optional `name`).
    public func addPasskey(_ request: HTTPRequest, body: [UInt8]) async -> AuthResponse {
        await passkeyJSON(request) { user in
            let name = (try? JSONValue(parsing: body))?.objectValue?["name"]?.stringValue
            _ = try await passkeys.register(AuthRequest(head: request, body: body), user: user, name: name)
            return .json(["url": "/account/security"])
        }
    }

    /// Renames (`action` rename) or removes one of the signed-in user's passkeys (`id`, base64url), from the security
    /// page's forms.
    public func changePasskey(_ request: HTTPRequest, form: URLEncodedForm, remove: Bool) async -> AuthResponse {
        guard auth.configuration.originPolicy.allows(request) else { return .json(["error": "forbidden_origin"], status: .forbidden) }
        do {
            guard let user = try await currentUser() else { return AuthResponse(HTTPResponse(status: .unauthorized)) }
            guard let id = form["id"].flatMap(PasskeyAuthenticator.credentialID(from:)) else { throw AuthError.invalidRequest }
            if remove {
                try await passkeys.delete(credentialID: id, userID: user.id)
                return await securityPage(notice: "The passkey was removed.")
            }
            try await passkeys.rename(credentialID: id, userID: user.id, name: form["name"])
            return await securityPage(notice: "The passkey was renamed.")
        } catch let error as AuthError {
            var page = await securityPage(notice: error.message)
            page.head.status = error.status
            return page
        } catch {
            return .json(["error": "temporarily_unavailable"], status: .serviceUnavailable)
        }
    }

    /// Runs a passkey step for the signed-in user and answers JSON (errors with their code).
    private func passkeyJSON(_ request: HTTPRequest, _ work: (AuthUser) async throws -> AuthResponse) async -> AuthResponse {
        guard auth.configuration.originPolicy.allows(request) else { return .json(["error": "forbidden_origin"], status: .forbidden) }
        do {
            guard let user = try await currentUser() else { return .json(["error": "unauthorized"], status: .unauthorized) }
            return try await work(user)
        } catch let error as AuthError {
            return .json(["error": .string(error.code), "error_description": .string(error.detail ?? error.code)], status: error.status)
        } catch {
            return .json(["error": "temporarily_unavailable"], status: .serviceUnavailable)
        }
    }

    /// How recent a sign-in must be to change the password or enrol or remove a second factor.
    public static var recentSignIn: Duration { .seconds(600) }

    /// The signed-in user (from the session's address).
    private func currentUser() async throws -> AuthUser? {
        guard let session = AuthSession<DemoSession>.current, case .user(let email) = session.subject else { return nil }
        return try await accounts.store.user(email: email)
    }

    /// Two-step verification: enrolment with the QR code, or (once enrolled) new recovery codes and turning it off.
    public func twoFactorPage(error: String? = nil) async -> AuthResponse {
        do {
            guard let user = try await currentUser() else { return AuthResponse(HTTPResponse(status: .unauthorized)) }
            if try await secondFactors.isEnrolled(userID: user.id) {
                let left = try await secondFactors.recoveryCodesLeft(userID: user.id)
                return .html(HTML.page(title: "Two-step verification", body: """
                    <h1>Two-step verification</h1>
                    <p id="two-factor-status">On: password sign-ins ask for a code from your authenticator app. \(left) recovery codes left.</p>
                    <form method="post" action="/account/two-factor"><input type="hidden" name="action" value="recovery-codes">
                    <button type="submit" id="new-recovery-codes">Make new recovery codes</button></form>
                    <form method="post" action="/account/two-factor"><input type="hidden" name="action" value="disable">
                    <button type="submit" id="disable-two-factor" class="danger">Turn off</button></form>
                    <p><a href="/account">Account</a></p>
                    """))
            }
            return auth.pages.twoFactorSetup(try secondFactors.beginEnrolment(userID: user.id, account: user.email ?? user.id), action: "/account/two-factor", error: error)
        } catch {
            return twoFactorFailure(error)
        }
    }

    /// The two-step page's answer to a refusal (its status and description) or to a store that is down (503).
    private func twoFactorFailure(_ error: any Error) -> AuthResponse {
        guard let error = error as? AuthError else {
            return .html(HTML.page(title: "Two-step verification", body: "<h1>Two-step verification</h1><p>The account store is unavailable.</p>"), status: .serviceUnavailable)
        }
        return .html(
            HTML.page(title: "Two-step verification", body: "<h1>Two-step verification</h1><p role=\"alert\">\(HTML.escape(error.detail ?? error.code))</p>"),
            status: error.status)
    }

    /// Confirms an enrolment (`secret`, `code`), makes new recovery codes (`action=recovery-codes`) or turns the
    /// factor off (`action=disable`); a same-origin form post.
    public func twoFactorChange(_ request: HTTPRequest, form: URLEncodedForm) async -> AuthResponse {
        guard auth.configuration.originPolicy.allows(request) else { return .json(["error": "forbidden_origin"], status: .forbidden) }
        do {
            guard let user = try await currentUser() else { return AuthResponse(HTTPResponse(status: .unauthorized)) }
            switch form["action"] {
            case "recovery-codes":
                return auth.pages.recoveryCodes(try await secondFactors.regenerateRecoveryCodes(userID: user.id), continueURL: "/account/two-factor")
            case "disable":
                try await secondFactors.disable(userID: user.id)
                return .redirect(to: "/account/two-factor", status: .seeOther)
            default:
                let codes = try await secondFactors.confirmEnrolment(userID: user.id, sealedSecret: form["secret"] ?? "", code: form["code"] ?? "")
                return auth.pages.recoveryCodes(codes, continueURL: "/account")
            }
        } catch let error as AuthError where error == .invalidCode {
            var page = await twoFactorPage(error: error.code)
            page.head.status = .badRequest
            return page
        } catch {
            return twoFactorFailure(error)
        }
    }

    /// Unlinks one of the signed-in user's sign-ins (a same-origin form post); never the last one.
    public func unlink(_ request: HTTPRequest, form: URLEncodedForm) async -> AuthResponse {
        guard auth.configuration.originPolicy.allows(request) else { return .json(["error": "forbidden_origin"], status: .forbidden) }
        guard let session = AuthSession<DemoSession>.current, case .user(let email) = session.subject,
            let provider = form["provider"], let id = form["id"]
        else { return .json(["error": "invalid_request"], status: .badRequest) }
        do {
            guard let user = try await accounts.store.user(email: email) else { return .json(["error": "not_found"], status: .notFound) }
            try await accounts.unlink(AccountKey(provider: provider, issuer: form["issuer"] ?? "", providerAccountID: id), userID: user.id)
            return .redirect(to: "/account", status: .seeOther)
        } catch let error as AuthError {
            var page = await accountPage(notice: error.detail ?? error.code)
            page.head.status = error.status
            return page
        } catch {
            return .json(["error": "temporarily_unavailable"], status: .serviceUnavailable)
        }
    }

    /// Ends one of the signed-in user's stored sessions (a same-origin form post from the account page).
    public func endSession(_ request: HTTPRequest, form: URLEncodedForm) async -> AuthResponse {
        guard auth.configuration.originPolicy.allows(request) else { return .json(["error": "forbidden_origin"], status: .forbidden) }
        guard let session = AuthSession<DemoSession>.current, let sessionDirectory, let id = form["id"] else {
            return .json(["error": "invalid_request"], status: .badRequest)
        }
        do {
            // Only the user's own sessions are listed, so only they can be ended.
            guard let target = try await sessionDirectory.list(session.subjectID).first(where: { $0.id == id }) else {
                return .json(["error": "not_found"], status: .notFound)
            }
            try await sessionDirectory.end(target)
            return .redirect(to: target.id == session.id ? "/" : "/account", status: .seeOther)
        } catch {
            return .json(["error": "temporarily_unavailable"], status: .serviceUnavailable)
        }
    }

    /// Deletes the signed-in user (a same-origin form post): every session of theirs ends first, then the user
    /// goes with their linked sign-ins and tokens; the browser is signed out.
    public func deleteAccount(_ request: HTTPRequest) async -> AuthResponse {
        guard auth.configuration.originPolicy.allows(request) else { return .json(["error": "forbidden_origin"], status: .forbidden) }
        guard let session = AuthSession<DemoSession>.current, case .user(let email) = session.subject else {
            return .json(["error": "unauthorized"], status: .unauthorized)
        }
        do {
            guard let user = try await accounts.store.user(email: email) else { return .json(["error": "not_found"], status: .notFound) }
            let sessions = sessions, subjectID = session.subjectID
            let nativeApps = nativeApps
            try await accounts.deleteUser(id: user.id) { _ in
                try await sessions.endAllSessions(subjectID: subjectID)
                try await nativeApps?.revokeAll(subjectID)
            }
            return AuthResponse(try await sessions.signOut(request, redirect: "/"))
        } catch {
            return .json(["error": "temporarily_unavailable"], status: .serviceUnavailable)
        }
    }

    /// Ends every session of the signed-in user (stored ones deleted, stateless ones revoked), this one included.
    public func signOutEverywhere(_ request: HTTPRequest) async -> AuthResponse {
        guard auth.configuration.originPolicy.allows(request) else { return .json(["error": "forbidden_origin"], status: .forbidden) }
        guard let session = AuthSession<DemoSession>.current else { return .json(["error": "unauthorized"], status: .unauthorized) }
        do {
            try await sessions.endAllSessions(subjectID: session.subjectID)
            try await nativeApps?.revokeAll(session.subjectID)
            return AuthResponse(try await sessions.signOut(request, redirect: "/"))
        } catch {
            return .json(["error": "temporarily_unavailable"], status: .serviceUnavailable)
        }
    }

    /// A same-origin sign-out form post.
    public func signOut(_ request: HTTPRequest) async throws -> AuthResponse {
        guard auth.configuration.originPolicy.allows(request) else {
            return .json(["error": "forbidden_origin"], status: .forbidden)
        }
        return AuthResponse(try await sessions.signOut(request, redirect: "/"))
    }
}

/// The demo's JSON API.
public enum DemoAPI {
    /// Reads the session through the task-local, as code deep inside a request (a GraphQL resolver, a service) would.
    public static func me() async throws -> Response {
        Response(meResponse())
    }

    /// The same, framework-agnostic.
    public static func meResponse() -> AuthResponse {
        guard let session = AuthSession<DemoSession>.current else {
            return .json(["error": "unauthorized"], status: .unauthorized)
        }
        return json(session)
    }

    /// The API's view of a session.
    public static func render(_ session: AuthSession<DemoSession>) -> Response {
        Response(json(session))
    }

    /// The API's view of a session, framework-agnostic.
    public static func json(_ session: AuthSession<DemoSession>) -> AuthResponse {
        guard case .user(let email) = session.subject else { return .json(["error": "forbidden"], status: .forbidden) }
        return .json([
            "email": .string(email),
            "session": .string(session.id),
            "expiresAt": .integer(Int64(session.expiresAt.timeIntervalSince1970)),
        ])
    }
}

enum RandomPending {
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(UInt8.random(in: 0...255, using: &generator), radix: 16) }.joined()
    }
}

extension Response {
    static func html(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(AuthResponse.html(html, status: status))
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(AuthResponse.json(value, status: status))
    }
}

extension Demo where Sessions == SessionTokens<DemoSession> {
    /// Assembles the demo with stateless session tokens signed by `keys`.
    ///
    /// - Parameters:
    ///   - configuration: Addresses and mode.
    ///   - keys: The key set for sessions and links.
    ///   - link: The link provider's configuration (rate limits, stores).
    ///   - providers: More sign-in providers (OAuth / OpenID Connect), each offered as a button on the home page.
    ///   - logger: The demo's logger.
    ///   - accountStore: Where users and accounts live (default: in memory).
    ///   - passwordConfiguration: The password accounts' rules and limits.
    ///   - nativeAppStore: Where native apps' refresh-token families live (default: in memory).
    public init(
        configuration: DemoConfiguration, keys: KeySet, link: LinkProvider.Configuration? = nil,
        providers: [String: any AuthProvider] = [:], logger: Logger = Logger(label: "sesame.demo"), accountStore: (any AccountStore)? = nil,
        passwordConfiguration: PasswordAccounts.Configuration? = nil, nativeAppStore: any SessionStore = MemorySessionStore()
    ) throws {
        try self.init(
            configuration: configuration, keys: keys, link: link, providers: providers, logger: logger, accountStore: accountStore,
            passwordConfiguration: passwordConfiguration, nativeAppStore: nativeAppStore, shared: .inProcess())
    }

    init(
        configuration: DemoConfiguration, keys: KeySet, link: LinkProvider.Configuration? = nil,
        providers: [String: any AuthProvider] = [:], logger: Logger, accountStore: (any AccountStore)?,
        passwordConfiguration: PasswordAccounts.Configuration? = nil, nativeAppStore: any SessionStore, shared: DemoSharedState
    ) throws {
        let sessions = try SessionTokens<DemoSession>(
            keys: keys,
            configuration: SessionConfiguration(lifetime: configuration.sessionLifetime, cookie: SessionCookie(baseURL: configuration.baseURL), audit: shared.audit),
            revocations: shared.revocations)
        shared.gauges.register("session tokens: verified-token cache") { sessions.cacheStatistics.entries }
        // Native apps: the same session tokens as access tokens (15 minutes), refresh tokens in the store.
        let native = try NativeAppSessions(
            tokens: sessions, store: nativeAppStore, configuration: NativeAppConfiguration(clients: [configuration.nativeApp], audit: shared.audit), logger: logger)
        try self.init(
            configuration: configuration, keys: keys, sessions: sessions, link: link,
            providers: providers, logger: logger, visitData: nil, accountStore: accountStore, sessionDirectory: nil,
            nativeApps: DemoNativeApps(access: NativeAppAccess(native), revokeAll: { try await native.revokeAll(subjectID: $0) }),
            passwordConfiguration: passwordConfiguration, shared: shared)
    }
}

extension Demo where Sessions == StoredSessions<DemoSession, DemoData> {
    /// Assembles the demo on store-backed sessions, which count the home page's visits in the session's data.
    ///
    /// - Parameters: As the general initializer.
    public init(
        configuration: DemoConfiguration, keys: KeySet, sessions: Sessions, link: LinkProvider.Configuration? = nil,
        providers: [String: any AuthProvider] = [:], logger: Logger = Logger(label: "sesame.demo"), accountStore: (any AccountStore)? = nil
    ) throws {
        try self.init(configuration: configuration, keys: keys, sessions: sessions, link: link, providers: providers, logger: logger, accountStore: accountStore, shared: .inProcess())
    }

    init(
        configuration: DemoConfiguration, keys: KeySet, sessions: Sessions, link: LinkProvider.Configuration? = nil,
        providers: [String: any AuthProvider] = [:], logger: Logger, accountStore: (any AccountStore)?, shared: DemoSharedState
    ) throws {
        shared.gauges.register("stored sessions: caches") { sessions.cacheEntryCount }
        try self.init(
            configuration: configuration, keys: keys, sessions: sessions, link: link, providers: providers, logger: logger, visitData: sessions.data,
            accountStore: accountStore,
            sessionDirectory: DemoSessionDirectory(list: { try await sessions.sessions(subjectID: $0) }, end: { try await sessions.terminate($0) }),
            shared: shared)
    }
}

/// Native apps' sessions as the demo needs them: the handler's routes, and ending a subject's families.
struct DemoNativeApps: Sendable {
    let access: NativeAppAccess
    let revokeAll: @Sendable (String) async throws -> Void
}

/// A subject's live store-backed sessions, and ending one (what the account page's session list needs).
struct DemoSessionDirectory: Sendable {
    let list: @Sendable (String) async throws -> [AuthSession<DemoSession>]
    let end: @Sendable (AuthSession<DemoSession>) async throws -> Void
}
