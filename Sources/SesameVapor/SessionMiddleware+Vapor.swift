import HTTPTypes
import Sesame
import Vapor

/// Resolves the request's session (either strategy), logs it in as `req.auth`'s `Session<Subject>`, makes it
/// `Sesame.Session<Subject>.current` for the handler, optionally requires one, and saves what the handler changed.
///
/// Use Vapor's own guards after it: `Sesame.Session<AppSession>.guardMiddleware()` (401) or
/// `Sesame.Session<AppSession>.redirectMiddleware(path: "/login")`, or ``SessionRequirementMiddleware`` for Sesame's
/// browser-or-API answer. With ``StoredSessions``, it replaces Vapor's `SessionsMiddleware`.
///
/// The task-locals (`Session.current`, `SessionData.current`) reach `async` route handlers and everything they
/// call; Vapor runs synchronous route closures on the event loop, outside the request's task, so there use
/// `req.auth.get(Sesame.Session<AppSession>.self)` or make the closure `async`.
public struct SesameSessionMiddleware<Strategy: SessionStrategy>: AsyncMiddleware {
    /// The session strategy.
    public let sessions: Strategy
    /// What the routes below require, if anything.
    public let requirement: SessionRequirement<Strategy.Subject>?

    /// Creates the middleware.
    ///
    /// - Parameters:
    ///   - sessions: `SessionTokens` or `StoredSessions`.
    ///   - requirement: A requirement to enforce (default: none, the session is optional).
    public init(sessions: Strategy, requirement: SessionRequirement<Strategy.Subject>? = nil) {
        self.sessions = sessions
        self.requirement = requirement
    }

    public func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let head = HTTPRequest(sessionHeadOf: request)
        let resolution = await sessions.resolve(head)
        if let requirement, let refusal = requirement.refusal(for: head, resolution: resolution) {
            return Response(refusal)
        }
        if let session = resolution.session { request.auth.login(session) }
        let response: Response
        do {
            response = try await resolution.withCurrent { try await next.respond(to: request) }
        } catch let error as AuthError {
            // For example `SessionData.set` while the store is down: its status and JSON, not a 500.
            return Response(error.jsonResponse)
        }
        let saved: [HTTPField]
        do throws(AuthError) {
            saved = try await sessions.commit(resolution)
        } catch {
            return Response(error.jsonResponse)
        }
        for field in resolution.responseFields + saved { response.headers.add(name: field.name.rawName, value: field.value) }
        return response
    }
}

/// Refuses requests whose session (resolved by ``SesameSessionMiddleware``) does not meet a requirement:
/// browsers are redirected to sign in, API clients get 401 JSON, and 503 when the store is down.
public struct SessionRequirementMiddleware<Subject: SessionSubject>: AsyncMiddleware {
    /// The requirement.
    public let requirement: SessionRequirement<Subject>

    /// Creates the middleware.
    public init(_ requirement: SessionRequirement<Subject>) {
        self.requirement = requirement
    }

    public func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let resolution = SessionResolution<Subject>.current ?? SessionResolution(session: nil, failure: nil, responseFields: [])
        if let refusal = requirement.refusal(for: HTTPRequest(sessionHeadOf: request), resolution: resolution) {
            return Response(refusal)
        }
        return try await next.respond(to: request)
    }
}

/// A Sesame session is what `req.auth` holds: `req.auth.get(Session<AppSession>.self)`, and Vapor's
/// `guardMiddleware()` and `redirectMiddleware(path:)` work with it.
extension Sesame.Session: Authenticatable {}

extension HTTPRequest {
    /// The part of a Vapor request that session resolution and requirements read: method, path and the few
    /// header fields involved (converting every header per request would cost more than resolving the session).
    init(sessionHeadOf request: Request) {
        self.init(method: HTTPRequest.Method(request.method.rawValue) ?? .get, scheme: nil, authority: nil, path: request.url.string)
        for name in ["cookie", "authorization", "accept", "sec-fetch-mode", "sec-fetch-site", "origin", "referer"] {
            guard let fieldName = HTTPField.Name(name) else { continue }
            for value in request.headers[name] { headerFields.append(HTTPField(name: fieldName, value: value)) }
        }
    }
}
