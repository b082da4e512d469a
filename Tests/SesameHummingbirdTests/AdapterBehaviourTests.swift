import AsyncHTTPClient
import Hummingbird
import Sesame
import SesameHummingbird
import SesameTestSupport
import Testing

/// The shared adapter behaviour (`AdapterBehaviour`) against a Hummingbird app serving its routes on loopback.
@Suite struct AdapterBehaviourTests {
    typealias Subject = AdapterBehaviour.Subject

    static func router(_ fixture: AdapterBehaviour.Fixture) -> Router<BasicSesameRequestContext<Subject>> {
        let router = Router(context: BasicSesameRequestContext<Subject>.self)
        router.group("/tokens/me")
            .add(middleware: SesameSessionMiddleware(sessions: fixture.tokens, requirement: fixture.requirement, crossSite: fixture.crossSite))
            .get { _, _ in AdapterBehaviour.Fixture.describe("me") }
        let tokens = router.group("/tokens").add(middleware: SesameSessionMiddleware(sessions: fixture.tokens, crossSite: fixture.crossSite))
        tokens.post("/change") { _, _ in AdapterBehaviour.Fixture.describe("changed") }
        tokens.post("/hooks/paid") { _, _ in "paid" }
        tokens.post("/fail") { _, _ -> String in throw AuthError.rateLimited }
        tokens.group("/guarded").add(middleware: RequireSessionMiddleware(fixture.requirement)).get { _, _ in "guarded" }
        let stored = router.group("/stored").add(middleware: SesameSessionMiddleware(sessions: fixture.stored, crossSite: fixture.crossSite))
        stored.get("/basket") { _, _ in fixture.basket }
        stored.post("/basket") { request, _ in
            try fixture.addItem(request.uri.queryParameters["item"].map(String.init) ?? "?")
            return "added"
        }
        stored.post("/fail") { request, _ -> String in
            try fixture.addItem(request.uri.queryParameters["item"].map(String.init) ?? "?")
            throw AuthError.rateLimited
        }
        return router
    }

    @Test func theSessionFlowThroughHummingbird() async throws {
        let port = try await LivePorts.free()
        let fixture = try AdapterBehaviour.Fixture(port: port)
        let app = Application(router: Self.router(fixture), configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
            do {
                try await AdapterBehaviour.run(fixture, client: client)
            } catch {
                try await client.shutdown()
                group.cancelAll()
                throw error
            }
            try await client.shutdown()
            group.cancelAll()
        }
    }
}
