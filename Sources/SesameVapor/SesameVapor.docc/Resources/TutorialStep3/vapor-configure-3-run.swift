import Logging
import Sesame
import Vapor

/// Runs the app (by default on 127.0.0.1:8080) until it is stopped. Call it from the app's entry point:
/// `@main enum Entrypoint { static func main() async throws { try await runApp() } }`.
///
/// Development needs nothing: open http://localhost:8080. Production (`--env production`) needs
/// `SESAME_SIGNING_KEY` (from `sesame keys generate`) and the public https address in `SESAME_BASE_URL`.
func runApp() async throws {
    var environment = try Environment.detect()
    try LoggingSystem.bootstrap(from: &environment)
    let app = try await Application.make(environment)
    let production = app.environment == .production
    do {
        try await configure(
            app,
            baseURL: Environment.get("SESAME_BASE_URL") ?? "http://localhost:8080",
            // Production refuses to start without SESAME_SIGNING_KEY; development generates a key into .sesame/.
            keys: KeySet.load(mode: production ? .production : .development()),
            sendLink: { link, email in
                // Send the link to `email` with your mail service here. Until then, only development shows it, in the log.
                guard !production else { throw AuthError.unavailable.with(detail: "no mail service is configured") }
                app.logger.info("Sign-in link for \(email): \(link)")
            })
        try await app.execute()
    } catch {
        try? await app.asyncShutdown()
        throw error
    }
    try await app.asyncShutdown()
}
