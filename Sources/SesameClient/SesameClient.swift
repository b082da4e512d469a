import Crypto
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A Sesame server's client for iOS and macOS apps and for Swift services: sign-in (password with a second factor,
/// magic link, any provider through the system browser), the session, sign-out, and access tokens that refresh
/// themselves.
///
/// The client signs in as a native app (`NativeAppSessions` on the server): it starts the sign-in with a PKCE
/// challenge, receives a one-time code at its redirect URI, and exchanges it for a 15-minute access token and a
/// refresh token, which rotates on every refresh. Nothing long-lived ever travels in a URL.
///
/// ```swift
/// let client = SesameClient(configuration: .init(
///     baseURL: URL(string: "https://app.example")!, clientID: "ios", redirectURI: "com.example.app:/signed-in"),
///     storage: KeychainTokenStorage())
/// try await client.signIn(email: "ada@example.com", password: password)
/// var request = URLRequest(url: URL(string: "https://app.example/api/me")!)
/// let (data, _) = try await client.data(for: request)   // Authorization: Bearer, refreshed when needed
/// for await state in await client.stateUpdates() { … }
/// ```
///
/// Built on Foundation's `URLSession` and swift-crypto (CryptoKit on Apple platforms): an app pulls in no server
/// packages.
public actor SesameClient {
    /// Where the server is and who this app is.
    public struct Configuration: Sendable {
        /// The server's base URL (scheme, host and port; no path).
        public var baseURL: URL
        /// The handler's prefix (default `/auth`).
        public var prefix: String
        /// The app's `client_id`, registered on the server.
        public var clientID: String
        /// The app's redirect URI, registered on the server (its custom scheme or claimed https URL).
        public var redirectURI: String
        /// Seconds before an access token's expiry from which it is refreshed before use (default 30).
        public var refreshMargin: TimeInterval

        /// Creates a configuration.
        public init(baseURL: URL, prefix: String = "/auth", clientID: String, redirectURI: String, refreshMargin: TimeInterval = 30) {
            self.baseURL = baseURL
            self.prefix = prefix
            self.clientID = clientID
            self.redirectURI = redirectURI
            self.refreshMargin = refreshMargin
        }
    }

    /// Whether the app is signed in.
    public enum State: Sendable, Equatable {
        /// Not known yet (before the stored tokens were read).
        case unknown
        /// No tokens, or they were revoked or expired.
        case signedOut
        /// Tokens, and the last session the server answered (`nil` until one was read).
        case signedIn(SesameSession?)
    }

    /// The configuration.
    public let configuration: Configuration
    private let storage: any SesameTokenStorage
    private let connection: ServerConnection
    private var tokens: SesameTokens?
    private var loaded = false
    private var loading: Task<SesameTokens?, any Error>?
    private var refreshing: Task<SesameTokens, any Error>?
    private var jar = CookieJar()
    private var pending: PendingSignIn?
    /// Whether a password sign-in waits for its second factor.
    private var awaitingSecondFactor = false
    private var listeners: [UUID: AsyncStream<State>.Continuation] = [:]
    /// The current state.
    public private(set) var state: State = .unknown

    /// A sign-in started here: its PKCE verifier and `state`.
    private struct PendingSignIn {
        let verifier: String
        let state: String
    }

    /// Creates a client.
    ///
    /// - Parameters:
    ///   - configuration: The server and the app.
    ///   - storage: Where tokens are kept (default: in memory).
    ///   - session: The `URLSession` to use; it must not follow redirects (default: an ephemeral session that does
    ///     not, and keeps no cookies).
    public init(configuration: Configuration, storage: any SesameTokenStorage = MemoryTokenStorage(), session: URLSession? = nil) {
        self.configuration = configuration
        self.storage = storage
        self.connection = ServerConnection(session: session)
    }

    // MARK: State

    /// The state now and on every change, until the stream is dropped.
    public func stateUpdates() async -> AsyncStream<State> {
        _ = try? await storedTokens()
        let (stream, continuation) = AsyncStream<State>.makeStream(bufferingPolicy: .bufferingNewest(8))
        let id = UUID()
        listeners[id] = continuation
        continuation.onTermination = { [weak self] _ in Task { await self?.removeListener(id) } }
        continuation.yield(state)
        return stream
    }

    private func removeListener(_ id: UUID) { listeners.removeValue(forKey: id) }

    private func publish(_ next: State) {
        guard next != state else { return }
        state = next
        for listener in listeners.values { listener.yield(next) }
    }

    /// The tokens, read from the storage once (concurrent first callers share the read; tokens stored meanwhile
    /// win over what it read).
    private func storedTokens() async throws -> SesameTokens? {
        if loaded { return tokens }
        let load = loading ?? Task { [storage] in try await storage.load() }
        loading = load
        let read = try await load.value
        if !loaded {
            loaded = true
            if let read, read.refreshTokenExpiresAt > Date() {
                tokens = read
            } else if read != nil {
                try await storage.save(nil)
            }
            if case .unknown = state { publish(tokens == nil ? .signedOut : .signedIn(nil)) }
        }
        return tokens
    }

    private func store(_ next: SesameTokens?) async throws {
        tokens = next
        loaded = true
        try await storage.save(next)
        if next == nil {
            publish(.signedOut)
        } else if case .signedIn = state {
        } else {
            publish(.signedIn(nil))
        }
    }

    // MARK: Reading

    /// The providers the server offers, by ID.
    public func providers() async throws -> [SesameProvider] {
        let response = try await send(get: "/providers")
        guard response.status == 200, let object = response.json else { throw response.refusal }
        return object.compactMap { id, value in
            guard let provider = value as? [String: Any] else { return nil }
            return SesameProvider(
                id: id, name: provider["name"] as? String ?? id, type: provider["type"] as? String ?? "",
                signInURL: (provider["signinUrl"] as? String).flatMap(URL.init(string:)))
        }.sorted { $0.id < $1.id }
    }

    /// The session the server sees for this app's access token (refreshed when needed), or `nil` when signed out.
    public func session() async throws -> SesameSession? {
        guard try await storedTokens() != nil else { return nil }
        let response: ServerResponse
        do {
            response = try await authorizedSend(path: "/session")
        } catch SesameClientError.notSignedIn {
            return nil
        }
        guard response.status == 200 else { throw response.refusal }
        guard let object = response.json else {
            // `null`: the server no longer knows the session (revoked): signed out.
            try await store(nil)
            return nil
        }
        let session = SesameSession(object)
        if tokens != nil { publish(.signedIn(session)) }
        return session
    }

    /// A valid access token, refreshed first when it expires within ``Configuration/refreshMargin`` (concurrent
    /// callers share one refresh).
    ///
    /// - Throws: ``SesameClientError/notSignedIn`` without tokens, or once the refresh token was refused.
    public func accessToken() async throws -> String {
        guard let current = try await storedTokens() else { throw SesameClientError.notSignedIn }
        if current.accessTokenExpiresAt.timeIntervalSinceNow > configuration.refreshMargin { return current.accessToken }
        return try await refresh(from: current).accessToken
    }

    /// Sends a request to the app's API with `Authorization: Bearer`; a 401 gets one refresh and one retry.
    ///
    /// - Parameter request: The request.
    /// - Returns: The body and the response.
    public func data(for request: URLRequest) async throws -> (Data, HTTPURLResponse) {
        var request = request
        let token = try await accessToken()
        request.setValue("Bearer " + token, forHTTPHeaderField: "Authorization")
        var (data, response) = try await connection.session.data(for: request)
        if (response as? HTTPURLResponse)?.statusCode == 401 {
            request.setValue("Bearer " + (try await refreshed(after: token)), forHTTPHeaderField: "Authorization")
            (data, response) = try await connection.session.data(for: request)
        }
        guard let http = response as? HTTPURLResponse else { throw SesameClientError.invalidResponse("not an HTTP response") }
        return (data, http)
    }

    // MARK: Refresh

    /// Refreshes unless another caller already did since `token` was read; answers the current access token.
    private func refreshed(after token: String) async throws -> String {
        guard let current = try await storedTokens() else { throw SesameClientError.notSignedIn }
        if current.accessToken != token { return current.accessToken }
        return try await refresh(from: current).accessToken
    }

    private func refresh(from current: SesameTokens, data: String? = nil) async throws -> SesameTokens {
        if let refreshing {
            let joined = try await refreshing.value
            // An update carries its data in a refresh of its own, after the one under way.
            if data == nil { return joined }
            return try await refresh(from: joined, data: data)
        }
        let task = Task { try await self.performRefresh(current.refreshToken, data: data) }
        refreshing = task
        defer { refreshing = nil }
        return try await task.value
    }

    private func performRefresh(_ refreshToken: String, data: String?) async throws -> SesameTokens {
        var form = [("grant_type", "refresh_token"), ("refresh_token", refreshToken), ("client_id", configuration.clientID)]
        if let data { form.append(("data", data)) }
        let response = try await send(post: "/token", form: form)
        // A sign-out or a new sign-in meanwhile: what this refresh answers is not the client's any more.
        let stillCurrent = tokens?.refreshToken == refreshToken
        guard response.status == 200 else {
            let refusal = response.refusal
            if refusal.code == "invalid_grant" {
                // Revoked, expired or reused: this app is signed out.
                if stillCurrent { try await store(nil) }
                throw SesameClientError.notSignedIn
            }
            throw refusal
        }
        let next = try Self.tokens(from: response)
        guard stillCurrent else { throw SesameClientError.notSignedIn }
        try await store(next)
        return next
    }

    // MARK: Sign-in

    /// Signs in with an email address and password.
    ///
    /// - Throws: ``SesameClientError/secondFactorRequired`` when the account has a second factor (then call
    ///   ``verifySecondFactor(code:provider:)``), ``SesameClientError/refused(code:message:status:)`` with the server's code
    ///   (`invalid_credentials`, `email_not_verified`, `rate_limited`, …).
    public func signIn(email: String, password: String, provider: String = "password") async throws {
        try await start()
        let response = try await sendForm("/callback/\(provider)", [("email", email), ("password", password)], withCSRF: true)
        if response.status == 200, response.json?["twoFactorRequired"] as? Bool == true {
            // The server's sealed challenge cookie waits in the jar for the code.
            jar.take(response.setCookies)
            awaitingSecondFactor = true
            throw SesameClientError.secondFactorRequired
        }
        try await finish(response)
    }

    /// Completes a password sign-in with an authenticator app's code or a recovery code.
    public func verifySecondFactor(code: String, provider: String = "password") async throws {
        guard pending != nil, awaitingSecondFactor else { throw SesameClientError.notSignedIn }
        try await finish(try await sendForm("/\(provider)/two-factor", [("code", code)], withCSRF: true))
        awaitingSecondFactor = false
    }

    /// Asks for a sign-in link by email; open it with ``signIn(link:)`` (for example from a universal link).
    public func requestSignInLink(email: String, provider: String = "link") async throws {
        try await start()
        let response = try await sendForm("/signin/\(provider)", [("email", email)], withCSRF: true)
        guard (200..<400).contains(response.status) else { throw response.refusal }
        jar.take(response.setCookies)
    }

    /// Completes a sign-in with the emailed link (requested by ``requestSignInLink(email:provider:)`` in this client).
    public func signIn(link: URL) async throws {
        guard pending != nil else { throw SesameClientError.notSignedIn }
        // The sign-in's cookies go to the server alone.
        guard Self.origin(of: link) == Self.origin(of: configuration.baseURL) else { throw SesameClientError.invalidCallback("the link is not the server's") }
        var request = URLRequest(url: link)
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let cookies = jar.header { request.setValue(cookies, forHTTPHeaderField: "Cookie") }
        try await finish(try await connection.send(request))
    }

    /// The URL to open in a browser (`ASWebAuthenticationSession` on Apple platforms) to sign in with any of the
    /// server's providers; the browser comes back to the redirect URI, which goes to ``completeSignIn(callbackURL:)``.
    public func authorizationURL() -> URL {
        let pending = PendingSignIn(verifier: Self.random(), state: Self.random())
        self.pending = pending
        return authorizeURL(pending)
    }

    /// Completes a browser sign-in: the redirect URI the browser came back to, with its code and `state`.
    ///
    /// - Throws: ``SesameClientError/invalidCallback(_:)`` for another sign-in's `state` or no code;
    ///   ``SesameClientError/refused(code:message:status:)`` when the server refuses the code.
    public func completeSignIn(callbackURL: URL) async throws {
        guard let pending else { throw SesameClientError.invalidCallback("no sign-in was started here") }
        guard var components = URLComponents(url: callbackURL, resolvingAgainstBaseURL: false) else { throw SesameClientError.invalidCallback("not a URL") }
        let items = components.queryItems ?? []
        components.query = nil
        components.fragment = nil
        guard components.string == configuration.redirectURI else { throw SesameClientError.invalidCallback("not the redirect URI") }
        guard let state = items.first(where: { $0.name == "state" })?.value, Self.constantTimeEquals(state, pending.state) else {
            throw SesameClientError.invalidCallback("the state is not this sign-in's")
        }
        if let error = items.first(where: { $0.name == "error" })?.value { throw SesameClientError.refused(code: error, message: nil, status: 0) }
        guard let code = items.first(where: { $0.name == "code" })?.value else { throw SesameClientError.invalidCallback("no code") }
        self.pending = nil
        jar.removeAll()
        let response = try await send(post: "/token", form: [
            ("grant_type", "authorization_code"), ("code", code), ("code_verifier", pending.verifier), ("client_id", configuration.clientID),
            ("redirect_uri", configuration.redirectURI),
        ])
        guard response.status == 200 else { throw response.refusal }
        try await store(try Self.tokens(from: response))
    }

    // MARK: Sign-out and update

    /// Signs out: the server revokes the refresh token's family and its access tokens; the tokens are forgotten here
    /// even when the server cannot be reached (then the error is thrown after).
    public func signOut() async throws {
        guard let current = try await storedTokens() else { return }
        try await store(nil)
        let response = try await send(post: "/revoke", form: [("token", current.refreshToken), ("client_id", configuration.clientID)])
        guard response.status == 200 else { throw response.refusal }
    }

    /// Auth.js's `update(data)` for apps: a refresh that carries `data` to the server's `update` closure
    /// (`NativeAppSessions`), which may change the session's subject; answers the session after it.
    public func update(_ data: [String: String]) async throws -> SesameSession? {
        guard let current = try await storedTokens() else { throw SesameClientError.notSignedIn }
        let text = String(decoding: try JSONSerialization.data(withJSONObject: data, options: [.sortedKeys]), as: UTF8.self)
        _ = try await refresh(from: current, data: text)
        return try await session()
    }

    // MARK: The sign-in's steps

    /// Starts a native sign-in in this client's cookie jar: PKCE, `state`, and the server's flow cookie.
    private func start() async throws {
        _ = try await storedTokens()
        awaitingSecondFactor = false
        jar.removeAll()
        let pending = PendingSignIn(verifier: Self.random(), state: Self.random())
        self.pending = pending
        let response = try await connection.send(URLRequest(url: authorizeURL(pending)))
        guard (300..<400).contains(response.status) else { throw response.refusal }
        jar.take(response.setCookies)
    }

    /// Follows a sign-in's answer through the server's redirects to the redirect URI, and exchanges the code.
    private func finish(_ first: ServerResponse) async throws {
        var response = first
        for _ in 0..<10 {
            jar.take(response.setCookies)
            guard (300..<400).contains(response.status), let location = response.headers["location"] else {
                throw response.status >= 400 ? response.refusal : SesameClientError.invalidResponse("the sign-in did not come back to the app")
            }
            if location.hasPrefix(configuration.redirectURI), let url = URL(string: location) {
                try await completeSignIn(callbackURL: url)
                return
            }
            guard let next = URL(string: location, relativeTo: configuration.baseURL)?.absoluteURL, Self.origin(of: next) == Self.origin(of: configuration.baseURL) else {
                throw SesameClientError.invalidResponse("a redirect away from the server")
            }
            var request = URLRequest(url: next)
            request.setValue("application/json", forHTTPHeaderField: "Accept")
            if let cookies = jar.header { request.setValue(cookies, forHTTPHeaderField: "Cookie") }
            response = try await connection.send(request)
        }
        throw SesameClientError.invalidResponse("too many redirects")
    }

    private func authorizeURL(_ pending: PendingSignIn) -> URL {
        var components = URLComponents(url: configuration.baseURL, resolvingAgainstBaseURL: false)!
        components.path = configuration.prefix + "/native/authorize"
        components.queryItems = [
            URLQueryItem(name: "response_type", value: "code"), URLQueryItem(name: "client_id", value: configuration.clientID),
            URLQueryItem(name: "redirect_uri", value: configuration.redirectURI), URLQueryItem(name: "code_challenge", value: Self.challenge(pending.verifier)),
            URLQueryItem(name: "code_challenge_method", value: "S256"), URLQueryItem(name: "state", value: pending.state),
        ]
        // `+` and `:` inside values: encoded strictly, as a form would.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B").replacingOccurrences(of: ":", with: "%3A")
        return components.url!
    }

    private func csrfToken() async throws -> String {
        // (The sign-in's cookie jar keeps the CSRF cookie this sets.)
        let response = try await send(get: "/csrf")
        jar.take(response.setCookies)
        guard response.status == 200, let token = response.json?["csrfToken"] as? String else { throw response.refusal }
        return token
    }

    // MARK: HTTP

    private func request(path: String) -> URLRequest {
        var request = URLRequest(url: configuration.baseURL.appendingPathComponent(String((configuration.prefix + path).dropFirst())))
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        // State-changing calls pass the server's origin check as the app's own requests.
        request.setValue(Self.origin(of: configuration.baseURL), forHTTPHeaderField: "Origin")
        if let cookies = jar.header { request.setValue(cookies, forHTTPHeaderField: "Cookie") }
        return request
    }

    private func send(get path: String) async throws -> ServerResponse {
        try await connection.send(request(path: path))
    }

    private func send(post path: String, form: [(String, String)]) async throws -> ServerResponse {
        var request = request(path: path)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(Self.formEncoded(form).utf8)
        return try await connection.send(request)
    }

    private func sendForm(_ path: String, _ fields: [(String, String)], withCSRF: Bool) async throws -> ServerResponse {
        var fields = fields
        if withCSRF { fields.append(("csrfToken", try await csrfToken())) }
        fields.append(("callbackUrl", configuration.prefix + "/native/complete"))
        return try await send(post: path, form: fields)
    }

    private func authorizedSend(path: String) async throws -> ServerResponse {
        let token = try await accessToken()
        var request = request(path: path)
        request.setValue(nil, forHTTPHeaderField: "Cookie")
        request.setValue("Bearer " + token, forHTTPHeaderField: "Authorization")
        let response = try await connection.send(request)
        guard response.status == 401 else { return response }
        request.setValue("Bearer " + (try await refreshed(after: token)), forHTTPHeaderField: "Authorization")
        return try await connection.send(request)
    }

    // MARK: Helpers

    static func tokens(from response: ServerResponse) throws -> SesameTokens {
        guard let object = response.json, let access = object["access_token"] as? String, let refresh = object["refresh_token"] as? String,
            let expiresIn = (object["expires_in"] as? NSNumber)?.doubleValue
        else { throw SesameClientError.invalidResponse("not a token response") }
        let refreshExpiresIn = (object["refresh_token_expires_in"] as? NSNumber)?.doubleValue ?? 30 * 86_400
        let now = Date()
        return SesameTokens(
            accessToken: access, accessTokenExpiresAt: now.addingTimeInterval(expiresIn), refreshToken: refresh,
            refreshTokenExpiresAt: now.addingTimeInterval(refreshExpiresIn))
    }

    /// 32 random bytes, base64url: a PKCE verifier or a `state`.
    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return base64url(Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }))
    }

    /// The S256 challenge of a verifier (RFC 7636).
    static func challenge(_ verifier: String) -> String { base64url(Data(SHA256.hash(data: Data(verifier.utf8)))) }

    static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func formEncoded(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { "\($0.0.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }
            .joined(separator: "&")
    }

    static func origin(of url: URL) -> String {
        var origin = "\(url.scheme ?? "https")://\(url.host ?? "")"
        if let port = url.port { origin += ":\(port)" }
        return origin
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// A provider the server offers.
public struct SesameProvider: Sendable, Equatable {
    /// The provider's ID (`password`, `link`, `passkey`, `github`, …).
    public let id: String
    /// Its name for people.
    public let name: String
    /// `oauth`, `oidc`, `email`, `credentials` or `webauthn`.
    public let type: String
    /// Its sign-in URL.
    public let signInURL: URL?
}

/// The session as the server's `session` action shows it: the user's fields the app chose, and its expiry.
public struct SesameSession: Sendable, Equatable {
    /// The user's string fields (`email`, `name`, `image`, …).
    public let user: [String: String]
    /// When the session (the access token) expires, as the server wrote it.
    public let expires: String?

    init(_ object: [String: Any]) {
        user = ((object["user"] as? [String: Any]) ?? [:]).compactMapValues { $0 as? String }
        expires = object["expires"] as? String
    }

    /// The user's email address, when the app shows it.
    public var email: String? { user["email"] }
}
