import Crypto
import Foundation
import HTTPTypes

/// The state of one OAuth / OpenID Connect sign-in between its authorize and callback steps.
///
/// It travels in a short-lived cookie, encrypted (JWE `dir` + A256GCM with a key derived from the handler's
/// keys), typed `sesame-flow+jwt`, bound to the provider's callback URL and named after the provider, so that
/// a flow started with one provider can never complete at another. The cookie is cleared by the callback, and
/// its ID is redeemed once, so a replayed callback fails even with a copy of the cookie.
struct FlowState: Sendable {
    var provider: String
    var state: String
    var verifier: String
    var nonce: String?
    var issuer: String?
    var returnTo: String?
    var id: String

    static let tokenType = "sesame-flow+jwt"
    static let lifetime: Double = 600

    /// A new flow: 256-bit state, PKCE verifier and nonce.
    static func start(provider: String, issuer: String?, returnTo: String?, usesNonce: Bool) -> FlowState {
        FlowState(
            provider: provider, state: RandomToken.make(byteCount: 32), verifier: RandomToken.make(byteCount: 32),
            nonce: usesNonce ? RandomToken.make(byteCount: 32) : nil, issuer: issuer, returnTo: returnTo,
            id: RandomToken.make(byteCount: 16))
    }

    /// The PKCE S256 challenge: base64url(SHA-256(verifier)) (RFC 7636 §4.2).
    var challenge: String { Base64URL.encode(SHA256.hash(data: Array(verifier.utf8))) }

    /// The cookie the flow travels in: `__Host-sesame-flow-{provider}` at `/` on https (set and read only under
    /// that name, so no sibling subdomain or plain-http attacker can plant a flow), `sesame-flow-{provider}` under
    /// the handler's prefix in plain-http development. A provider that posts its response back (`form_post`) is a
    /// cross-site POST, which only `SameSite=None` reaches (on https; browsers want it `Secure`).
    static func cookie(for provider: String, configuration: AuthConfiguration, crossSite: Bool = false) -> SessionCookie {
        var cookie = SessionCookie(name: "sesame-flow-\(provider)", baseURL: configuration.baseURL)
        cookie.path = cookie.secure || configuration.prefix.isEmpty ? "/" : configuration.prefix
        cookie.sameSite = crossSite && cookie.secure ? .none : .lax
        return cookie
    }

    /// The `Set-Cookie` value carrying the flow.
    func setCookie(context: AuthContext, now: Double, crossSite: Bool) throws(AuthError) -> String {
        var payload: JSONObject = ["prv": .string(provider), "st": .string(state), "cv": .string(verifier)]
        if let nonce { payload["nn"] = .string(nonce) }
        if let issuer { payload["is"] = .string(issuer) }
        if let returnTo { payload["rt"] = .string(returnTo) }
        RegisteredClaims(audience: [context.callbackURL], expiresAt: now + FlowState.lifetime, issuedAt: now.rounded(.down), tokenID: id)
            .write(to: &payload)
        let token: String
        do {
            token = try JWT.issue(payload, key: context.flowKeys[0], type: FlowState.tokenType)
        } catch {
            throw AuthError.serverError.with(detail: "the flow state cannot be sealed")
        }
        return FlowState.cookie(for: provider, configuration: context.configuration, crossSite: crossSite).setCookie(token, maxAge: Int(FlowState.lifetime))
    }

    /// The `Set-Cookie` value that removes the flow cookie.

    /// Reads and checks the flow cookie of a callback.
    ///
    /// - Throws: ``AuthError/invalidState`` when the cookie is missing, forged, expired, or belongs to another
    ///   provider or callback.
    static func read(from request: AuthRequest, context: AuthContext, now: @escaping @Sendable () -> Double) throws(AuthError) -> FlowState {
        guard let token = CookieHeader.value(named: cookie(for: context.provider, configuration: context.configuration).effectiveName, in: request.head.headerFields) else {
            throw AuthError.invalidState.with(detail: "no sign-in is in progress in this browser")
        }
        let validation = TokenValidation(audience: context.callbackURL, type: tokenType, leeway: 0, now: now)
        // Every key is tried: a flow that began before a rotation was sealed under the previous active key's.
        let opened = context.flowKeys.lazy.compactMap { key in try? JWT.verify(token, keys: KeySet(verificationKeys: [key]), validation: validation) }.first
        guard let verified = opened,
            case let payload = verified.payload, payload["prv"]?.stringValue == context.provider,
            let state = payload["st"]?.stringValue, let verifier = payload["cv"]?.stringValue, let id = verified.claims.tokenID
        else { throw AuthError.invalidState.with(detail: "the sign-in state is not valid") }
        return FlowState(
            provider: context.provider, state: state, verifier: verifier, nonce: payload["nn"]?.stringValue,
            issuer: payload["is"]?.stringValue, returnTo: payload["rt"]?.stringValue, id: id)
    }

    /// The content-encryption keys for flow cookies, derived (HKDF-SHA-256) from each of the handler's private or
    /// secret keys, the active key's first; a verification-only set gets a per-process key.
    static func keys(from keys: KeySet) -> [JWK] {
        keys.rotatingDerivedKeys(purpose: "sesame/flow-state/v1").map { material in
            try! JWK(symmetricKey: material, algorithm: .a256gcm, keyID: "flow")
        }
    }
}
