import HTTPTypes

/// The Auth.js REST actions, under the same prefix as the provider routes: `providers`, `csrf`, `session`,
/// `signin`, `signin/{provider}`, `callback/{provider}`, `signout`, `verify-request` and `error`.
///
/// State-changing actions (`POST signin/{provider}`, `POST signout`, `POST session`) need the double-submit CSRF
/// token (`csrfToken`, from `GET csrf` or the built-in pages) and pass the strict origin check (Origin or
/// Referer, and Fetch Metadata). With `X-Auth-Return-Redirect: 1`, a redirect is answered as `{"url": …}`.
extension AuthHandler {
    func action(_ action: AuthRoute.Action, request: AuthRequest) async throws -> AuthResponse {
        let method = request.head.method
        switch (action, method) {
        case (.error, .get), (.error, .head):
            return pages.error(code: request.query["error"], configuration: configuration)
        case (.providers, .get), (.providers, .head):
            return providersResponse()
        case (.csrf, .get), (.csrf, .head):
            return csrf.responding(to: request.head) { token in .json(["csrfToken": .string(token)]) }
        case (.session, .get), (.session, .head):
            return try await sessionResponse(request)
        case (.session, .post):
            try checkStateChange(request, token: request.parameters["csrfToken"] ?? request.jsonBody?["csrfToken"]?.stringValue)
            if let sessions, let data = request.jsonBody?["data"] {
                let updated: (fields: [HTTPField], session: JSONObject?)?
                do {
                    updated = try await sessions.update(request.head, data)
                } catch let error as AuthError {
                    throw error
                } catch {
                    throw AuthError.invalidRequest.with(detail: "the session update was refused")
                }
                if let updated {
                    var response = AuthResponse.json(updated.session.map(JSONValue.object) ?? .null)
                    response.head.headerFields.append(contentsOf: updated.fields)
                    return response
                }
            }
            return try await sessionResponse(request)
        case (.signin, .get), (.signin, .head):
            if let custom = pages.signInURL { return .redirect(to: custom) }
            var response = csrf.responding(to: request.head) { token in
                pages.signIn(
                    providers: providers.sorted { $0.key < $1.key }.map { (name: $0.key, provider: $0.value) }, csrfToken: token,
                    // `redirect` is what `RequireSessionMiddleware` appends when it sends a browser here.
                    callbackURL: allowedCallbackURL(request.query["callbackUrl"] ?? request.query["redirect"]), error: request.query["error"],
                    message: request.query["verified"] == "1" ? "Your email address is verified. Sign in to continue."
                        : request.query["reset"] == "1" ? "Your password was changed and every other session signed out. Sign in with the new password." : nil,
                    configuration: configuration)
            }
            // A passkey provider's button needs its script (of this origin, no inline script) and its requests.
            response.head.headerFields[.contentSecurityPolicy] = providers.values.contains { $0 is PasskeyProvider }
                ? AuthPages.contentSecurityPolicyWithScripts(formActions: formActionOrigins, configuration: configuration)
                : AuthPages.contentSecurityPolicy(formActions: formActionOrigins)
            return response
        case (.signout, .get), (.signout, .head):
            if let custom = pages.signOutURL { return .redirect(to: custom) }
            return csrf.responding(to: request.head) { token in
                pages.signOut(csrfToken: token, callbackURL: allowedCallbackURL(request.query["callbackUrl"]), configuration: configuration)
            }
        case (.signout, .post):
            try checkStateChange(request, token: request.parameters["csrfToken"])
            return try await signOut(request)
        case (.verifyRequest, .get), (.verifyRequest, .head):
            if let custom = pages.verifyRequestURL { return .redirect(to: custom) }
            return pages.verifyRequest(configuration: configuration)
        case (.passkeyScript, .get), (.passkeyScript, .head):
            return PasskeyScript.script.response(to: request.head)
        case (.token, .post), (.revoke, .post):
            guard let nativeApps else { throw AuthError.notFound }
            // (Refusals are JSON, which is never cached: RFC 6749 §5.1 holds for them too.)
            return action == .token ? try await nativeApps.token(request, nativeAppContext) : try await nativeApps.revoke(request, nativeAppContext)
        case (.token, _), (.revoke, _):
            guard nativeApps != nil else { throw AuthError.notFound }
            throw AuthError.methodNotAllowed
        case (.clientScript, .get), (.clientScript, .head):
            return BrowserClientScript.module.response(to: request.head)
        case (.clientDeclarations, .get), (.clientDeclarations, .head):
            return BrowserClientScript.typeDeclarations.response(to: request.head)
        case (.callback, _):
            // `callback` names a route only as `callback/{provider}`.
            throw AuthError.notFound
        case (.error, _), (.providers, _), (.csrf, _), (.session, _), (.signin, _), (.signout, _), (.verifyRequest, _), (.passkeyScript, _),
            (.clientScript, _), (.clientDeclarations, _):
            throw AuthError.methodNotAllowed
        }
    }

    /// `POST signin/{provider}`: starts that provider's flow, with `callbackUrl` (if allowed) as where to go after.
    func startSignIn(_ name: String, request: AuthRequest) async throws -> AuthResponse {
        guard let provider = providers[name] else { throw AuthError.unknownProvider }
        if provider.submitsForms {
            // Auth.js's credentials sign-in: the form is the callback's.
            try checkFormSubmission(to: provider, request)
            return try await countingSignIn(provider: name) { try await callback(name, request: request) }
        }
        let form = request.parameters
        try checkStateChange(request, token: form["csrfToken"])
        // The provider sees the form without the CSRF token, and the allowed callbackUrl as `returnTo`.
        var forwarded = form.pairs.filter { $0.name != "csrfToken" && $0.name != "callbackUrl" && $0.name != "returnTo" }
        if let target = allowedCallbackURL(form["callbackUrl"]) { forwarded.append((name: "returnTo", value: target)) }
        var head = request.head
        head.headerFields[.contentType] = "application/x-www-form-urlencoded"
        let inner = AuthRequest(head: head, body: Array(URLEncodedForm(forwarded).encoded.utf8), clientAddress: request.clientAddress)
        var response = try await provider.authorize(inner, context: context(for: name, request: inner))
        // A link was sent: browsers go to the verify-request page, as in Auth.js.
        if provider.type == "link", response.head.status.code < 400, request.isBrowserNavigation {
            let target = pages.verifyRequestURL ?? configuration.url("/verify-request")
            var redirect = AuthResponse.redirect(to: target, status: .seeOther)
            redirect.head.headerFields.append(contentsOf: response.head.headerFields[fields: .setCookie])
            response = redirect
        }
        return response
    }

    /// `POST signout`: ends the session (cookie cleared, store entry deleted or token revoked).
    func signOut(_ request: AuthRequest) async throws -> AuthResponse {
        guard let sessions else { throw AuthError.notFound.with(detail: "no sessions are configured for sign-out") }
        let resolved = await sessions.resolve(request.head)
        // A store that could not say whose session this is cannot end it either: answer now (the cookie stays, so
        // the sign-out can be tried again), rather than wait for the store a second time.
        if let error = resolved.unavailableError { throw error }
        let target = allowedCallbackURL(request.parameters["callbackUrl"]) ?? configuration.baseURL + "/"
        let response: HTTPResponse
        do {
            response = try await sessions.signOut(request.head, target)
        } catch let error as AuthError {
            throw error
        } catch {
            throw AuthError.unavailable.with(detail: "the session could not be ended")
        }
        let event = AuthEvent(name: "signOut", subjectID: resolved.subjectID)
        logger.info("Signed out", metadata: event.metadata)
        await callbacks.event(event)
        return AuthResponse(response)
    }

    /// `GET|POST session`: the client-safe session, or `null`.
    func sessionResponse(_ request: AuthRequest) async throws -> AuthResponse {
        guard let sessions else { return .json(.null) }
        let resolved = await sessions.resolve(request.head)
        if resolved.isUnavailable { throw AuthError.unavailable.with(detail: "sessions cannot be checked right now") }
        var response = AuthResponse.json(resolved.session.map(JSONValue.object) ?? .null)
        for field in resolved.responseFields { response.head.headerFields.append(field) }
        if resolved.session != nil {
            let event = AuthEvent(name: "session", subjectID: resolved.subjectID)
            logger.debug("Session read", metadata: event.metadata)
            await callbacks.event(event)
        }
        return response
    }

    /// `GET providers`: Auth.js's `{id: {id, name, type, signinUrl, callbackUrl}}`.
    func providersResponse() -> AuthResponse {
        var object = JSONObject()
        for (name, provider) in providers.sorted(by: { $0.key < $1.key }) {
            object[name] = [
                "id": .string(name), "name": .string(provider.displayName), "type": .string(provider.type == "link" ? "email" : provider.type),
                "signinUrl": .string(configuration.url("/signin/\(name)")), "callbackUrl": .string(configuration.url("/\(name)/callback")),
            ]
        }
        return .json(.object(object))
    }

    /// Refuses a `POST` to a form-submitting provider (``AuthProvider/submitsForms``) without the CSRF token
    /// (`csrfToken` in the form or JSON body) or from another origin; other requests pass.
    func checkFormSubmission(to provider: any AuthProvider, _ request: AuthRequest) throws {
        guard request.head.method == .post, provider.submitsForms else { return }
        try checkStateChange(request, token: request.formOrJSON["csrfToken"])
    }

    /// Refuses a state-changing request without a valid CSRF token, or from another origin.
    func checkStateChange(_ request: AuthRequest, token: String?) throws {
        guard configuration.originPolicy.allowsStrictly(request.head) else { throw AuthError.forbiddenOrigin }
        guard csrf.verify(request.head, submitted: token) else { throw AuthError.invalidCSRFToken }
    }

    /// With `X-Auth-Return-Redirect: 1`, a redirect becomes `{"url": …}` with the absolute URL (its cookies kept), as
    /// in Auth.js: next-auth's client reads `new URL(data.url)`.
    func returningRedirect(_ response: AuthResponse, for request: AuthRequest) -> AuthResponse {
        guard request.head.headerFields[.xAuthReturnRedirect] == "1", let location = response.head.headerFields[.location],
            (300..<400).contains(response.head.status.code)
        else { return response }
        var json = AuthResponse.json(["url": .string(configuration.absolute(location))])
        json.head.headerFields.append(contentsOf: response.head.headerFields[fields: .setCookie])
        return json
    }

    /// A `callbackUrl` the `redirect` callback allows, or `nil`.
    func allowedCallbackURL(_ target: String?) -> String? {
        target.flatMap { callbacks.redirect($0, configuration.redirectPolicy) }
    }

    /// The origins the sign-in page's forms may lead to (the providers' authorization servers).
    var formActionOrigins: [String] { providers.values.compactMap { ($0 as? any RedirectingProvider)?.authorizationOrigin } }
}

/// A provider whose authorize step redirects the browser to another origin (for the sign-in page's CSP).
protocol RedirectingProvider {
    /// The origin of the authorization endpoint.
    var authorizationOrigin: String? { get }
}

extension HTTPField.Name {
    /// `X-Auth-Return-Redirect` (Auth.js).
    static let xAuthReturnRedirect = HTTPField.Name("X-Auth-Return-Redirect")!
}

extension AuthRequest {
    /// The body as a JSON object, for `application/json` requests.
    var jsonBody: JSONObject? {
        guard head.headerFields[.contentType]?.lowercased().hasPrefix("application/json") == true else { return nil }
        return (try? JSONValue(parsing: body))?.objectValue
    }
}
