import Foundation
import Logging
import Sesame
import SesameConfiguration
import SesameSQLite
import Configuration
import SystemPackage
import ServiceLifecycle

/// Runs an assembled demo on some web framework (Hummingbird for `sesame-demo`, Vapor for `sesame-demo-vapor`).
public protocol DemoRunner {
    /// Serves the demo until the process is stopped.
    func run<Sessions: SessionStrategy>(_ demo: Demo<Sessions>) async throws where Sessions.Subject == DemoSession
}

/// The demo as configured by its environment, the same for both frameworks.
///
/// PORT (default 8080); SESAME_BASE_URL (default http://localhost:PORT); SESAME_ENV=production (requires SESAME_SIGNING_KEY and hides sign-in links from pages);
/// SESAME_SIGNING_KEY / SESAME_VERIFICATION_KEYS (see `sesame keys generate`); SESAME_TRUSTED_PROXIES (addresses or
/// CIDR ranges, comma-separated, whose X-Forwarded-For names the client). Optional OAuth / OpenID Connect
/// sign-in: SESAME_OIDC_ISSUER + SESAME_OIDC_CLIENT_ID + SESAME_OIDC_CLIENT_SECRET (any OpenID Connect provider),
/// SESAME_GITHUB_CLIENT_ID + _SECRET, SESAME_GOOGLE_CLIENT_ID + _SECRET (register the callback
/// http://localhost:PORT/auth/{oidc,github,google}/callback). Sessions: stateless tokens by default;
/// SESAME_SESSION_STORE=memory or sqlite (file .sesame/sessions.sqlite, or SESAME_SQLITE_PATH) uses a store, and
/// SESAME_SESSION_STORE=redis (with SESAME_REDIS_URL) or postgres (with SESAME_POSTGRES_URL) a server that several
/// demo processes can share: one-time flows, rate limits, revoked tokens and refresh tokens live there too (also
/// with stateless sessions when only the URL is set). Users and accounts live in that SQLite file, or in PostgreSQL. With stateless sessions, the native app `sesame-demo-app` signs in
/// through `/auth/native/authorize` (redirect URI `sesame-demo:/signed-in`, or SESAME_NATIVE_REDIRECT_URI) and
/// holds refresh tokens, kept in that file too. `GET /metrics` serves Sesame's metrics in Prometheus's format: open in
/// development, and in production only with `Authorization: Bearer` and the token in SESAME_METRICS_TOKEN.
public enum DemoEnvironment {
    /// Why the demo cannot start.
    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads the environment, assembles the demo and hands it to `runner`.
    ///
    /// - Parameters:
    ///   - runner: The framework's part.
    ///   - environment: The process environment.
    ///   - logger: The demo's logger.
    public static func start(_ runner: some DemoRunner, environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger) async throws {
        // Sesame's metrics, in Prometheus's format at /metrics: installed before anything of Sesame's is made (the
        // configurations read the process's metrics backend when they are created).
        let registry = DemoMetrics.installed
        let port = environment["PORT"].flatMap(Int.init) ?? 8080
        // Sesame's settings through swift-configuration: the environment, over a JSON file named by SESAME_CONFIG_FILE.
        // Every problem is reported at once, by key; production refuses http, development keys and unbelieved proxies.
        @Sendable func readSettings() async throws -> SesameSettings {
            var sources: [any ConfigProvider] = [EnvironmentVariablesProvider(environmentVariables: environment)]
            if let file = environment["SESAME_CONFIG_FILE"], !file.isEmpty {
                do {
                    sources.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(file)))
                } catch {
                    throw StartError(description: "SESAME_CONFIG_FILE \(file) cannot be read: \(error)")
                }
            }
            do {
                return try SesameSettings(reading: ConfigReader(providers: sources), defaultPort: port, logger: logger)
            } catch {
                throw StartError(description: "the settings cannot be used:\n\(error)")
            }
        }
        let settings = try await readSettings()
        let isProduction = settings.mode == .production
        // The keys live in a ring that the reload service refreshes from the same sources (the config file, or in
        // development the key file) every minute and on SIGHUP: rotating needs no restart.
        let ring = KeyRing(settings.keys)
        let keyReload = KeyReloadService(ring: ring, logger: logger) { try await readSettings().keys }
        let keys = ring.keys
        let providers = settings.providers
        // Passkeys need a domain, not an IP address, as their relying party ID: the demo is served as localhost.
        var configuration = DemoConfiguration(port: port, baseURL: settings.baseURL, isDevelopment: !isProduction)
        if let redirect = environment["SESAME_NATIVE_REDIRECT_URI"] { configuration.nativeApp.redirectURIs = [redirect] }
        configuration.trustedProxies = settings.trustedProxies
        configuration.sessionLifetime = settings.sessionLifetime
        configuration.idleTimeout = settings.idleTimeout
        configuration.metrics = DemoMetrics(registry: registry, token: environment["SESAME_METRICS_TOKEN"])
        try await DemoBackend.withBackend(settings: settings, logger: logger) { backend in
            try await backend.migrate()
            logger.notice("Sesame demo: open \(configuration.baseURL)/ (\(backend.summary))")
            var configuration = configuration
            // Expired sessions, used IDs and revocations leave the SQLite file or PostgreSQL every five minutes.
            configuration.services = [keyReload]
            if !backend.expiring.isEmpty { configuration.services.append(StoreCleanupService(stores: backend.expiring, logger: logger)) }
            if let store = backend.sessionStore {
                let sessions = StoredSessions<DemoSession, DemoData>(
                    store: store, signer: SessionCookieSigner(keys: keys),
                    configuration: StoredSessionConfiguration(
                        cookie: SessionCookie(name: "sesame-sid", baseURL: configuration.baseURL), authenticatedLifetime: configuration.sessionLifetime,
                        idleTimeout: configuration.idleTimeout, audit: backend.shared.audit))
                try await runner.run(Demo(
                    configuration: configuration, keys: keys, sessions: sessions, providers: providers, logger: logger,
                    accountStore: backend.accountStore, shared: backend.shared))
            } else {
                try await runner.run(Demo(
                    configuration: configuration, keys: keys, providers: providers, logger: logger, accountStore: backend.accountStore,
                    nativeAppStore: backend.nativeAppStore, shared: backend.shared))
            }
        }
    }
}
