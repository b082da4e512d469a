import Sesame
import Vapor

/// Runs the app (by default on http://127.0.0.1:8080) until it is stopped. Call it from the app's entry point:
/// `@main enum Entrypoint { static func main() async throws { try await runApp() } }`.
func runApp() async throws {
    let app = try await Application.make(Environment.detect())
    do {
        try await configure(
            app,
            baseURL: "http://localhost:8080",
            // Development: a key generated on first run into .sesame/. Production: SESAME_SIGNING_KEY.
            keys: KeySet.load(mode: .development()),
            sendLink: { link, email in
                // Development only: the link is in the log. In production, send it to the address by email.
                app.logger.info("Sign-in link for \(email): \(link)")
            })
        try await app.execute()
    } catch {
        try? await app.asyncShutdown()
        throw error
    }
    try await app.asyncShutdown()
}
