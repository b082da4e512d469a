import Hummingbird

/// Builds the app: a home page, and an account page that anyone can open.
func buildApplication(configuration: ApplicationConfiguration) -> some ApplicationProtocol {
    let router = Router()
    router.get("/") { _, _ in "Welcome!" }
    router.get("/account") { _, _ in "Your account" }
    return Application(router: router, configuration: configuration)
}
