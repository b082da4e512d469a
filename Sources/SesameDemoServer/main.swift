import Foundation
import Hummingbird
import Logging
import Sesame
import SesameDemo
import SesameSQLite

struct DemoStartError: Error, CustomStringConvertible {
    let description: String
}

// `swift run sesame-demo`: the Sesame demo on http://127.0.0.1:8080 with embedded defaults.
//
// Environment: PORT (default 8080), SESAME_ENV=production (requires SESAME_SIGNING_KEY and hides sign-in
// links from pages), SESAME_SIGNING_KEY / SESAME_VERIFICATION_KEYS (see `sesame keys generate`).
// Optional OAuth / OpenID Connect sign-in: SESAME_OIDC_ISSUER + SESAME_OIDC_CLIENT_ID + SESAME_OIDC_CLIENT_SECRET
// (any OpenID Connect provider), SESAME_GITHUB_CLIENT_ID + _SECRET, SESAME_GOOGLE_CLIENT_ID + _SECRET. Register
// the callback http://127.0.0.1:PORT/auth/{oidc,github,google}/callback with the provider.
// Sessions: stateless tokens by default; SESAME_SESSION_STORE=memory or sqlite (file .sesame/sessions.sqlite, or
// SESAME_SQLITE_PATH) keeps them in a store instead.
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
    let configuration = DemoConfiguration(port: port, isDevelopment: !isProduction)
    let store: (any SessionStore)?
    switch environment["SESAME_SESSION_STORE"] {
    case "memory":
        store = MemorySessionStore()
    case "sqlite":
        try FileManager.default.createDirectory(atPath: ".sesame", withIntermediateDirectories: true)
        store = SQLiteSessionStore(storage: SQLiteStorage(path: environment["SESAME_SQLITE_PATH"] ?? ".sesame/sessions.sqlite"))
    case nil, "", "stateless":
        store = nil
    case let other?:
        throw DemoStartError(description: "unknown SESAME_SESSION_STORE \(other) (memory, sqlite or stateless)")
    }
    logger.notice("Sesame demo: open \(configuration.baseURL)/ (sessions: \(environment["SESAME_SESSION_STORE"] ?? "stateless"))")
    if let store {
        let sessions = StoredSessions<DemoSession, DemoData>(store: store, signer: SessionCookieSigner(keys: keys))
        try await Demo(configuration: configuration, keys: keys, sessions: sessions, providers: providers, logger: logger).application().runService()
    } else {
        try await Demo(configuration: configuration, keys: keys, providers: providers, logger: logger).application().runService()
    }
} catch {
    logger.critical("Cannot start the demo: \(error)")
    exit(1)
}
