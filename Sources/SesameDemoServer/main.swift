import Foundation
import Hummingbird
import Logging
import Sesame
import SesameDemo

// `swift run sesame-demo`: the Sesame demo on Hummingbird at http://127.0.0.1:8080 with embedded defaults.
// Its environment variables are described in `DemoEnvironment`; `swift run sesame-demo-vapor` is the same demo on Vapor.
struct HummingbirdRunner: DemoRunner {
    func run<Sessions: SessionStrategy>(_ demo: Demo<Sessions>) async throws where Sessions.Subject == DemoSession {
        try await demo.application().runService()
    }
}

var logger = Logger(label: "sesame.demo")
logger.logLevel = .info
do {
    try await DemoEnvironment.start(HummingbirdRunner(), logger: logger)
} catch {
    logger.critical("Cannot start the demo: \(error)")
    exit(1)
}
