import Foundation
import Hummingbird
import Logging
import Sesame
import SesameDemo

// `swift run sesame-demo`: the Sesame demo on http://127.0.0.1:8080 with embedded defaults.
//
// Environment: PORT (default 8080), SESAME_ENV=production (requires SESAME_SIGNING_KEY and hides sign-in
// links from pages), SESAME_SIGNING_KEY / SESAME_VERIFICATION_KEYS (see `sesame keys generate`).
// Optional OAuth / OpenID Connect sign-in: SESAME_OIDC_ISSUER + SESAME_OIDC_CLIENT_ID + SESAME_OIDC_CLIENT_SECRET
// (any OpenID Connect provider), SESAME_GITHUB_CLIENT_ID + _SECRET, SESAME_GOOGLE_CLIENT_ID + _SECRET. Register
// the callback http://127.0.0.1:PORT/auth/{oidc,github,google}/callback with the provider.
let environment = ProcessInfo.processInfo.environment
let isProduction = environment["SESAME_ENV"] == "production"
let port = environment["PORT"].flatMap(Int.init) ?? 8080
var logger = Logger(label: "sesame.demo")
logger.logLevel = .info

do {
    let keys = try KeySet.load(mode: isProduction ? .production : .development(), logger: logger)
    var providers: [String: any AuthProvider] = [:]
    if let issuer = environment["SESAME_OIDC_ISSUER"], let id = environment["SESAME_OIDC_CLIENT_ID"], let secret = environment["SESAME_OIDC_CLIENT_SECRET"] {
        providers["oidc"] = OIDCProvider(displayName: environment["SESAME_OIDC_NAME"] ?? "OpenID Connect", configuration: .init(
            issuer: issuer, credentials: ClientCredentials(id: id, secret: secret)))
    }
    if let id = environment["SESAME_GITHUB_CLIENT_ID"], let secret = environment["SESAME_GITHUB_CLIENT_SECRET"] {
        providers["github"] = OAuth2Provider.github(clientID: id, clientSecret: secret)
    }
    if let id = environment["SESAME_GOOGLE_CLIENT_ID"], let secret = environment["SESAME_GOOGLE_CLIENT_SECRET"] {
        providers["google"] = OIDCProvider.google(clientID: id, clientSecret: secret)
    }
    let demo = try Demo(configuration: DemoConfiguration(port: port, isDevelopment: !isProduction), keys: keys, providers: providers, logger: logger)
    logger.notice("Sesame demo: open \(demo.configuration.baseURL)/")
    try await demo.application().runService()
} catch {
    logger.critical("Cannot start the demo: \(error)")
    exit(1)
}
