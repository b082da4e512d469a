import Sesame
import SesameDemo
import SesameVapor
import Vapor

/// The demo's routes on Vapor: the same pages as on Hummingbird, behind Sesame's Vapor middleware.
public enum VaporDemoRoutes {
    /// Registers the demo's pages, API and auth routes on `app`.
    public static func register<Sessions: SessionStrategy>(on app: Application, demo: Demo<Sessions>) where Sessions.Subject == DemoSession {
        // Vapor's own refusals (an unmatched route, a body over the limit) in Sesame's shape.
        app.middleware.use(SesameErrorMiddleware())
        app.addAuthHandler(demo.auth)
        // The site's pages run with the client's address and user agent at hand for the audit log.
        let site = app.grouped(SesameSessionMiddleware(sessions: demo.sessions), SesameAuditMiddleware(trustedProxies: demo.configuration.trustedProxies))
        site.get { request async throws in Response(demo.home(AuthRequest(request).head)) }
        site.get("check-email") { request async throws in Response(demo.checkEmail(AuthRequest(request).head)) }
        site.get("dev", "outbox") { request async throws in Response(demo.outbox(AuthRequest(request).head)) }
        app.get("dev", "memory") { _ async in Response(demo.memoryReport()) }
        app.get("metrics") { request async in Response(demo.metricsReport(AuthRequest(request).head)) }
        site.get("client") { _ async in Response(demo.clientPage()) }
        site.get("client.js") { _ async in Response(demo.clientPageScript()) }
        site.post("signout") { request async throws in Response(try await demo.signOut(AuthRequest(request).head)) }
        let signedIn = site.grouped(RequireSessionMiddleware(SessionRequirement<DemoSession>(signInURL: "/")))
        signedIn.get("protected") { _ async in Response(demo.protectedPage()) }
        signedIn.get("account") { _ async in Response(await demo.accountPage()) }
        // Unlinking, deleting, the password and the second factor need a sign-in within the last ten minutes.
        let recent = site.grouped(RequireSessionMiddleware(SessionRequirement<DemoSession>(signInURL: "/", maxAge: Demo<Sessions>.recentSignIn)))
        recent.on(.POST, "account", "unlink", body: .collect(maxSize: 4096)) { request async in
            Response(await demo.unlink(AuthRequest(request).head, form: URLEncodedForm(parsing: request.body.string ?? "")))
        }
        signedIn.post("account", "signout-everywhere") { request async in Response(await demo.signOutEverywhere(AuthRequest(request).head)) }
        recent.post("account", "delete") { request async in Response(await demo.deleteAccount(AuthRequest(request).head)) }
        recent.get("account", "two-factor") { _ async in Response(await demo.twoFactorPage()) }
        recent.get("account", "security") { _ async in Response(await demo.securityPage()) }
        recent.on(.POST, "account", "password", body: .collect(maxSize: 4096)) { request async in
            Response(await demo.changePassword(AuthRequest(request).head, form: URLEncodedForm(parsing: request.body.string ?? "")))
        }
        recent.post("account", "passkeys", "options") { request async in Response(await demo.passkeyOptions(AuthRequest(request).head)) }
        recent.on(.POST, "account", "passkeys", body: .collect(maxSize: 65536)) { request async in
            Response(await demo.addPasskey(AuthRequest(request).head, body: request.body.data.map { Array($0.readableBytesView) } ?? []))
        }
        recent.on(.POST, "account", "passkeys", "rename", body: .collect(maxSize: 4096)) { request async in
            Response(await demo.changePasskey(AuthRequest(request).head, form: URLEncodedForm(parsing: request.body.string ?? ""), remove: false))
        }
        recent.on(.POST, "account", "passkeys", "delete", body: .collect(maxSize: 4096)) { request async in
            Response(await demo.changePasskey(AuthRequest(request).head, form: URLEncodedForm(parsing: request.body.string ?? ""), remove: true))
        }
        recent.on(.POST, "account", "two-factor", body: .collect(maxSize: 4096)) { request async in
            Response(await demo.twoFactorChange(AuthRequest(request).head, form: URLEncodedForm(parsing: request.body.string ?? "")))
        }
        signedIn.on(.POST, "account", "sessions", "end", body: .collect(maxSize: 4096)) { request async in
            Response(await demo.endSession(AuthRequest(request).head, form: URLEncodedForm(parsing: request.body.string ?? "")))
        }
        app.grouped(SesameSessionMiddleware(sessions: demo.sessions, requirement: SessionRequirement(signInURL: "/")))
            .get("api", "me") { _ async in Response(DemoAPI.meResponse()) }
    }
}
