import AsyncHTTPClient
import Foundation
import Logging
import Sesame
import SesameDemo
import SesameDemoVapor
import SesameTestSupport
import Testing
import Vapor

/// The Vapor demo on a real loopback server, through the same flow suite as the Hummingbird demo.
@Suite(.timeLimit(.minutes(3))) struct VaporDemoLiveTests {
    @Test func demoMagicLinkFlowOverHTTP() async throws {
        let port = try await LivePorts.free()
        let demo = try Demo(configuration: DemoConfiguration(port: port), keys: KeySet(activeKey: JWK.generate(.es256)), logger: Logger(label: "test"))
        let app = try await Application.make(.testing)
        VaporDemoRoutes.register(on: app, demo: demo)
        try await app.server.start(address: .hostname("127.0.0.1", port: port))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        do {
            try await DemoFlows.magicLinkFlow(client: client, base: "http://127.0.0.1:\(port)")
        } catch {
            try await client.shutdown()
            await app.server.shutdown()
            try await app.asyncShutdown()
            throw error
        }
        try await client.shutdown()
        await app.server.shutdown()
        try await app.asyncShutdown()
    }
}
