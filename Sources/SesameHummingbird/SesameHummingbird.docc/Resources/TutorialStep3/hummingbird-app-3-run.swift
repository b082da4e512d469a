import Foundation
import Hummingbird
import Logging
import Sesame

/// Runs the app until it is stopped. Call it from the app's entry point:
/// `@main struct App { static func main() async throws { try await runApp() } }`.
///
/// Development needs nothing: open http://localhost:8080. Production (`SESAME_ENV=production`) needs
/// `SESAME_SIGNING_KEY` (from `sesame keys generate`) and the public https address in `SESAME_BASE_URL`.
func runApp() async throws {
    let environment = ProcessInfo.processInfo.environment
    let production = environment["SESAME_ENV"] == "production"
    let logger = Logger(label: "app")
    let app = try buildApplication(
        configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 8080)),
        baseURL: environment["SESAME_BASE_URL"] ?? "http://localhost:8080",
        // Production refuses to start without SESAME_SIGNING_KEY; development generates a key into .sesame/.
        keys: KeySet.load(mode: production ? .production : .development()),
        sendLink: { link, email in
            // Send the link to `email` with your mail service here. Until then, only development shows it, in the log.
            guard !production else { throw AuthError.unavailable.with(detail: "no mail service is configured") }
            logger.info("Sign-in link for \(email): \(link)")
        })
    try await app.runService()
}
