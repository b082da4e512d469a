import Foundation
import Logging
import Sesame
import SesameDemo
import SesameDemoVapor
import SesameVapor
import ServiceLifecycle
import Vapor

// `swift run sesame-demo-vapor`: the same demo, pages and flows as `sesame-demo`, on Vapor 4 (environment as
// described in `DemoEnvironment`).
struct VaporRunner: DemoRunner {
    func run<Sessions: SessionStrategy>(_ demo: Demo<Sessions>) async throws where Sessions.Subject == DemoSession {
        // Vapor's `serve` command, on the demo's address; arguments are Vapor's own (`--port` overrides PORT).
        let app = try await Application.make(try Environment.detect(), .singleton)
        app.http.server.configuration.hostname = demo.configuration.host
        app.http.server.configuration.port = demo.configuration.port
        VaporDemoRoutes.register(on: app, demo: demo)
        // The background services (key reloading, the stores' cleanup) run beside the server and are cancelled when it stops.
        let services = demo.configuration.services
        let background = Task { await withTaskGroup(of: Void.self) { group in for service in services { group.addTask { try? await service.run() } } } }
        do {
            try await app.execute()
        } catch {
            background.cancel()
            try? await app.asyncShutdown()
            throw error
        }
        background.cancel()
        await background.value
        try await app.asyncShutdown()
    }
}

var logger = Logger(label: "sesame.demo")
logger.logLevel = .info
do {
    try await DemoEnvironment.start(VaporRunner(), logger: logger)
} catch {
    logger.critical("Cannot start the demo: \(error)")
    exit(1)
}
