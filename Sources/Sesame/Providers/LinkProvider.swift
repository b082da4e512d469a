import Crypto
import Foundation
import HTTPTypes
import Logging

/// Sign-in by a link sent to an email address: SST's `LinkAdapter`, without its flaws.
///
/// - `GET|POST {prefix}/{name}/authorize?email=…` checks the address and the rate limits (per client first,
///   then per address), creates a link and hands it to the app's `onLink` to deliver. A request from another
///   site (by `Sec-Fetch-Site`, `Origin` or `Referer`) is refused and sends nothing. Only the parameters the
///   app allows by name (``Configuration/allowedParameters``, and `returnTo`) travel with the link as claims.
///   The response is the same whether or not the address belongs to anyone, and delivery runs in the
///   background by default, so neither the answer nor its timing reveals which addresses are known.
/// - The link is bound to the browser that asked for it, when the request proves it came from this site (an
///   allowed `Origin` or `Referer`, or `Sec-Fetch-Site: same-origin`): the response sets a short-lived cookie
///   whose SHA-256 the link carries. `GET {prefix}/{name}/callback?token=…` in that browser redeems the link once
///   and calls the app's `onSuccess` with the claims. Opened anywhere else (another browser, a mail scanner's
///   prefetch), and always for a link asked for without that proof (which another site could have made a
///   victim's browser ask for, to sign it in as the attacker), it redeems nothing and shows a confirmation page
///   naming the address, whose same-origin `POST` completes the sign-in.
///
/// A link token is a JWT typed `sesame-link+jwt`, bound to this provider's callback URL (`aud`), valid for
/// 10 minutes by default and single-use (``ReplayStore``). Session tokens carry no type and reject typed
/// tokens, so a link token is never a session and a session token is never a link.
public struct LinkProvider: AuthProvider {
    /// Limits, lifetimes and stores of a link provider.
    public struct Configuration: Sendable {
        /// How long a link is valid, in seconds (default 10 minutes).
        public var lifetime: Double
        /// Link requests allowed per email address (default: 5 at once, then one every 2 minutes).
        public var perAddress: any RateLimiter
        /// Link requests allowed per client IP address (default: 20 at once, then one every 15 seconds).
        public var perClient: any RateLimiter
        /// Where redeemed links are remembered (default: in memory).
        public var replay: any ReplayStore
        /// Whether `onLink` runs after the response is sent (default `true`), so that slow delivery for known
        /// addresses cannot be told apart from no delivery.
        public var deliversInBackground: Bool
        /// Where browsers go after requesting a link (a "check your email" page); `nil` shows a built-in page.
        public var sentURL: String?
        /// The most extra parameters a link request may carry as claims (default 16).
        public var maximumClaims: Int
        /// The request parameters, besides `email` and `returnTo`, that become claims of the link (default none:
        /// whatever else a requester adds is dropped, so it can never pose as a claim the app trusts).
        public var allowedParameters: Set<String>

        /// Creates a configuration.
        public init(
            lifetime: Double = 600,
            perAddress: any RateLimiter = MemoryRateLimiter(capacity: 5, refillInterval: 120),
            perClient: any RateLimiter = MemoryRateLimiter(capacity: 20, refillInterval: 15),
            replay: any ReplayStore = MemoryReplayStore(),
            deliversInBackground: Bool = true,
            sentURL: String? = nil,
            maximumClaims: Int = 16,
            allowedParameters: Set<String> = []
        ) {
            self.lifetime = lifetime
            self.perAddress = perAddress
            self.perClient = perClient
            self.replay = replay
            self.deliversInBackground = deliversInBackground
            self.sentURL = sentURL
            self.maximumClaims = maximumClaims
            self.allowedParameters = allowedParameters
        }
    }

    /// The JWT `typ` of link tokens.
    public static let tokenType = "sesame-link+jwt"

    public let type = "link"
    public let displayName: String
    /// The configuration.
    public let configuration: Configuration
    private let onLink: @Sendable (_ link: String, _ claims: JSONObject) async throws -> Void
    private let now: @Sendable () -> Double

    /// Creates a link provider.
    ///
    /// - Parameters:
    ///   - displayName: A name for people (default `Email link`).
    ///   - configuration: Limits, lifetime and stores.
    ///   - now: The clock, in seconds since 1970.
    ///   - onLink: Delivers the link, for example by email. `claims` holds `email` and the extra parameters.
    public init(
        displayName: String = "Email link",
        configuration: Configuration = Configuration(),
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
        onLink: @escaping @Sendable (_ link: String, _ claims: JSONObject) async throws -> Void
    ) {
        self.displayName = displayName
        self.configuration = configuration
        self.now = now
        self.onLink = onLink
    }

    // MARK: Authorize

    public func authorize(_ request: AuthRequest, context: AuthContext) async throws -> AuthResponse {
        // Another site cannot make us send mail, whatever the method (a cross-site `<img>` is a GET).
        guard !context.configuration.originPolicy.isCrossSite(request.head) else { throw AuthError.forbiddenOrigin }
        let parameters = request.parameters
        guard let email = parameters["email"].flatMap(EmailAddress.deliverable) else {
            throw AuthError.invalidRequest.with(detail: "a valid email address is required")
        }
        var claims: JSONObject = ["email": .string(email)]
        for (name, value) in parameters where name == "returnTo" || configuration.allowedParameters.contains(name) {
            guard name.utf8.count <= 64, value.utf8.count <= 512, claims.count <= configuration.maximumClaims else {
                throw AuthError.invalidRequest.with(detail: "too many or too long parameters")
            }
            if claims[name] == nil { claims[name] = .string(value) }
        }

        // The client's limit first: a client that is blocked cannot drain the bucket of someone else's address.
        if let client = request.clientAddress { try await limit(configuration.perClient, key: "client:" + RateLimitKey.client(client)) }
        try await limit(configuration.perAddress, key: "address:" + RateLimitKey.address(email))

        // The browser binding: a secret in a cookie, its hash in the link; only for a request from this site.
        let binding = context.configuration.originPolicy.provesAllowedOrigin(request.head) ? RandomToken.make(byteCount: 32) : nil
        let issuedAt = now().rounded(.down)
        var payload: JSONObject = ["claims": .object(claims)]
        if let binding { payload["bh"] = .string(LinkProvider.bindingHash(binding)) }
        RegisteredClaims(
            audience: [context.callbackURL], expiresAt: issuedAt + configuration.lifetime, issuedAt: issuedAt,
            tokenID: RandomToken.make(byteCount: 16)
        ).write(to: &payload)
        let token: String
        do {
            token = try JWT.issue(payload, key: context.keys.signingKey(), type: LinkProvider.tokenType)
        } catch {
            throw AuthError.serverError.with(detail: "no key to sign links with")
        }
        let link = URLEncodedForm.appending(name: "token", value: token, to: context.callbackURL)

        let deliver = onLink
        let logger = context.logger
        let provider = context.provider
        if configuration.deliversInBackground {
            Task {
                do { try await deliver(link, claims) } catch {
                    logger.error("Sign-in link delivery failed", metadata: ["provider": .string(provider), "error": .string(String(describing: Swift.type(of: error)))])
                }
            }
        } else {
            do { try await deliver(link, claims) } catch {
                logger.error("Sign-in link delivery failed", metadata: ["provider": .string(provider), "error": .string(String(describing: Swift.type(of: error)))])
                throw AuthError.unavailable.with(detail: "the link could not be sent")
            }
        }
        var response = sentResponse(for: request, context: context)
        if let binding {
            response.head.headerFields.append(HTTPField(name: .setCookie, value: bindingCookie(context).setCookie(binding, maxAge: Int(configuration.lifetime))))
        }
        return response
    }

    /// The cookie that binds links to the browser that asked for them: `__Host-sesame-link-{name}` on https.
    private func bindingCookie(_ context: AuthContext) -> SessionCookie {
        SessionCookie(name: "sesame-link-\(context.provider)", baseURL: context.configuration.baseURL)
    }

    /// The hash of a binding secret that a link carries: base64url(SHA-256(secret)).
    static func bindingHash(_ binding: String) -> String {
        Base64URL.encode(SHA256.hash(data: Array(binding.utf8)))
    }

    private func limit(_ limiter: any RateLimiter, key: String) async throws {
        try await limiter.take("link:" + key)
    }

    private func sentResponse(for request: AuthRequest, context: AuthContext) -> AuthResponse {
        // next-auth's client (`X-Auth-Return-Redirect: 1`) goes where Auth.js sends it: the check-your-email page.
        if request.head.headerFields[.xAuthReturnRedirect] == "1" {
            return .redirect(to: configuration.sentURL ?? context.configuration.url("/verify-request"), status: .seeOther)
        }
        guard request.isBrowserNavigation else { return .json(["sent": true]) }
        if let sentURL = configuration.sentURL { return .redirect(to: sentURL, status: .seeOther) }
        return context.pages.render(
            title: "Check your email",
            body: "<p>If the address can sign in, a sign-in link is on its way. It works once, for \(Int(configuration.lifetime / 60)) minutes.</p>")
    }

    // MARK: Callback

    public func callback(_ request: AuthRequest, context: AuthContext) async throws -> ProviderResult {
        guard let token = request.parameters["token"], !token.isEmpty else {
            throw AuthError.invalidRequest.with(detail: "the link has no token")
        }
        let validation = TokenValidation(audience: context.callbackURL, type: LinkProvider.tokenType, leeway: 5, now: now)
        let verified: JWT.Verified
        do {
            verified = try JWT.verify(token, keys: context.keys, validation: validation)
        } catch TokenError.expired {
            throw AuthError.expiredToken
        } catch {
            throw AuthError.invalidToken.with(detail: "the sign-in link is not valid (\(error.code))")
        }
        guard let tokenID = verified.claims.tokenID, let expiresAt = verified.claims.expiresAt,
            case .object(let claims)? = verified.claim("claims"), case .string(let email)? = claims["email"]
        else { throw AuthError.invalidToken }

        let cookie = bindingCookie(context)
        if request.head.method == .post {
            // The confirmation page's form: only from this site (an attacker's page cannot post its own link).
            guard context.configuration.originPolicy.allowsStrictly(request.head) else { throw AuthError.forbiddenOrigin }
        } else {
            // Opened in the browser that asked for the link, it signs in at once; anywhere else, nothing is
            // redeemed until the person confirms.
            let binding = request.cookie(named: cookie.effectiveName).map(LinkProvider.bindingHash)
            guard let binding, let expected = verified.claim("bh")?.stringValue, ConstantTime.equals(Array(binding.utf8), Array(expected.utf8)) else {
                return .respond(confirmationPage(token: token, email: email, context: context))
            }
        }

        let first: Bool
        do {
            first = try await context.configuration.metrics.measure(configuration.replay, "consume", tracer: context.configuration.tracer) {
                try await configuration.replay.consume(tokenID, expiresAt: Date(timeIntervalSince1970: expiresAt + 5))
            }
        } catch {
            throw AuthError.unavailable.with(detail: "used links cannot be checked")
        }
        guard first else { throw AuthError.usedToken }
        return .signedIn(ProviderIdentity(claims: claims))
    }

    /// The cookie that binds a link to the browser that asked for it.
    public func flowCookies(context: AuthContext) -> [SessionCookie] { [bindingCookie(context)] }

    /// The page a link opened outside the browser that asked for it shows: who is signing in, and one button that
    /// posts the link back (same origin). Nothing on the page runs by itself, so a scanner's prefetch redeems
    /// nothing.
    private func confirmationPage(token: String, email: String, context: AuthContext) -> AuthResponse {
        var response = context.pages.render(title: "Confirm sign-in", body: """
            <p>Sign in as <strong>\(HTML.escape(email))</strong>?</p>
            <p class="muted">This link was opened in a different browser from the one that asked for it. Continue only if you asked for it.</p>
            <form method="post" action="\(HTML.escape(context.callbackURL))">
            <input type="hidden" name="token" value="\(HTML.escape(token))">
            <button type="submit">Sign in</button>
            </form>
            """)
        response.head.headerFields[.cacheControl] = "no-store"
        return response
    }
}

