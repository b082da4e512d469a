import Hummingbird
import Logging
import Sesame

/// Runs the app on http://localhost:8080 until it is stopped. Call it from the app's entry point:
/// `@main struct App { static func main() async throws { try await runApp() } }`.
func runApp() async throws {
    let logger = Logger(label: "app")
    let app = try buildApplication(
        configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 8080)),
        baseURL: "http://localhost:8080",
        // Development: a key generated on first run into .sesame/. Production: SESAME_SIGNING_KEY.
        keys: KeySet.load(mode: .development()),
        sendLink: { link, email in
            // Development only: the link is in the log. In production, send it to the address by email.
            logger.info("Sign-in link for \(email): \(link)")
        })
    try await app.runService()
}
