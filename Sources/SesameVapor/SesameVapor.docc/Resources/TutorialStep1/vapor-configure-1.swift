import Vapor

/// Sets the app up: a home page, and an account page that anyone can open.
func configure(_ app: Application) async throws {
    app.get { _ in "Welcome!" }
    app.get("account") { _ in "Your account" }
}
