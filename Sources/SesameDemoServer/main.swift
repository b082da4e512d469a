import Foundation
import Hummingbird
import Logging
import Sesame
import SesameDemo

// `swift run sesame-demo`: the Sesame demo on http://127.0.0.1:8080 with embedded defaults.
//
// Environment: PORT (default 8080), SESAME_ENV=production (requires SESAME_SIGNING_KEY and hides sign-in
// links from pages), SESAME_SIGNING_KEY / SESAME_VERIFICATION_KEYS (see `sesame keys generate`).
let environment = ProcessInfo.processInfo.environment
let isProduction = environment["SESAME_ENV"] == "production"
let port = environment["PORT"].flatMap(Int.init) ?? 8080
var logger = Logger(label: "sesame.demo")
logger.logLevel = .info

do {
    let keys = try KeySet.load(mode: isProduction ? .production : .development(), logger: logger)
    let demo = try Demo(configuration: DemoConfiguration(port: port, isDevelopment: !isProduction), keys: keys, logger: logger)
    logger.notice("Sesame demo: open \(demo.configuration.baseURL)/")
    try await demo.application().runService()
} catch {
    logger.critical("Cannot start the demo: \(error)")
    exit(1)
}
