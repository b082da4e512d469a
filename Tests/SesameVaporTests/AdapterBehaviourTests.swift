import AsyncHTTPClient
import Sesame
import SesameTestSupport
import SesameVapor
import Testing
import Vapor

/// The shared adapter behaviour (`AdapterBehaviour`) against a Vapor app serving its routes on loopback.
@Suite struct AdapterBehaviourTests {
    typealias Subject = AdapterBehaviour.Subject

    static func configure(_ app: Application, _ fixture: AdapterBehaviour.Fixture) {
        app.grouped(SesameSessionMiddleware(sessions: fixture.tokens, requirement: fixture.requirement, crossSite: fixture.crossSite))
            .get("tokens", "me") { _ async in AdapterBehaviour.Fixture.describe("me") }
        let tokens = app.grouped("tokens").grouped(SesameSessionMiddleware(sessions: fixture.tokens, crossSite: fixture.crossSite))
        tokens.post("change") { _ async in AdapterBehaviour.Fixture.describe("changed") }
        tokens.post("hooks", "paid") { _ in "paid" }
        tokens.post("fail") { _ -> String in throw AuthError.rateLimited }
        tokens.grouped(RequireSessionMiddleware(fixture.requirement)).get("guarded") { _ in "guarded" }
        let stored = app.grouped("stored").grouped(SesameSessionMiddleware(sessions: fixture.stored, crossSite: fixture.crossSite))
        stored.get("basket") { _ async in fixture.basket }
        stored.post("basket") { request async throws -> String in
            try fixture.addItem(request.query[String.self, at: "item"] ?? "?")
            return "added"
        }
        stored.post("fail") { request async throws -> String in
            try fixture.addItem(request.query[String.self, at: "item"] ?? "?")
            throw AuthError.rateLimited
        }
    }

    @Test func theSessionFlowThroughVapor() async throws {
        let port = try await LivePorts.free()
        let fixture = try AdapterBehaviour.Fixture(port: port)
        try await VaporDemoLiveTests.serve(port: port, configure: { Self.configure($0, fixture) }) { client in
            try await AdapterBehaviour.run(fixture, client: client)
        }
    }
}
