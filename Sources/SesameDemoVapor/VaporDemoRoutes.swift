import Sesame
import SesameDemo
import SesameVapor
import Vapor

/// The demo's routes on Vapor: the same pages as on Hummingbird, behind Sesame's Vapor middleware.
public enum VaporDemoRoutes {
    /// Registers the demo's pages, API and auth routes on `app`.
    public static func register<Sessions: SessionStrategy>(on app: Application, demo: Demo<Sessions>) where Sessions.Subject == DemoSession {
        app.addAuthHandler(demo.auth)
        let site = app.grouped(SesameSessionMiddleware(sessions: demo.sessions))
        site.get { request async throws in Response(demo.home(AuthRequest(request).head)) }
        site.get("check-email") { request async throws in Response(demo.checkEmail(AuthRequest(request).head)) }
        site.post("signout") { request async throws in Response(try await demo.signOut(AuthRequest(request).head)) }
        site.grouped(RequireSessionMiddleware(SessionRequirement<DemoSession>(signInURL: "/")))
            .get("protected") { _ async in Response(demo.protectedPage()) }
        app.grouped(SesameSessionMiddleware(sessions: demo.sessions, requirement: SessionRequirement(signInURL: "/")))
            .get("api", "me") { _ async in Response(DemoAPI.meResponse()) }
    }
}
