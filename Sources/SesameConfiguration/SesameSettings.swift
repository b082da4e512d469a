import Configuration
import Foundation
import Logging
import Sesame

/// Sesame's deployment settings, read through apple/swift-configuration from environment variables, files or any
/// other provider, and checked before anything starts.
///
/// ```swift
/// let config = ConfigReader(providers: [
///     EnvironmentVariablesProvider(),
///     try await FileProvider<JSONSnapshot>(filePath: "sesame.json", allowMissing: true),
/// ])
/// let settings = try SesameSettings(reading: config)    // every problem at once, each naming its key
/// let auth = AuthHandler(providers: settings.providers, configuration: settings.authConfiguration, keys: settings.keys, …)
/// ```
///
/// Keys (environment variable in brackets): `sesame.env` (`SESAME_ENV`: `development`, the default, or
/// `production`), `sesame.base.url`, `sesame.signing.key` and `sesame.verification.keys` (secrets), `sesame.signing.alg`,
/// `sesame.trusted.proxies` (addresses or CIDR networks, comma-separated), `sesame.proxy.header`
/// (`x-forwarded-for` or `forwarded`: the header the proxy in front sets), `sesame.session.store` (`stateless`,
/// `memory`, `sqlite`, `redis` or `postgres`), `sesame.session.lifetime` and `sesame.session.idle.timeout`
/// (seconds), `sesame.sqlite.path`, `sesame.redis.url`, `sesame.postgres.url` (secret: it may hold a password),
/// and each provider's `sesame.github.client.id` / `.client.secret`, `sesame.google.client.id` / `.client.secret`,
/// `sesame.oidc.issuer` / `.client.id` / `.client.secret` / `.name`.
///
/// In production these refuse to start: a base URL that is not https, no configured signing key (development keys
/// are generated into a file and must not sign production sessions), and a proxy header without the proxies to
/// believe it from.
public struct SesameSettings: Sendable {
    /// Whether the app runs for development or production.
    public enum Mode: String, Sendable {
        /// Development: generated keys, http on localhost, links shown on pages.
        case development
        /// Production: every check on.
        case production
    }

    /// Where sessions live.
    public enum SessionStore: Equatable, Sendable {
        /// Stateless signed tokens.
        case stateless
        /// In this process's memory.
        case memory
        /// In the SQLite file.
        case sqlite
        /// In Redis, at the URL.
        case redis(String)
        /// In PostgreSQL, at the URL.
        case postgres(String)
    }

    /// The mode.
    public let mode: Mode
    /// The public base URL.
    public let baseURL: String
    /// The keys.
    public let keys: KeySet
    /// The proxies whose forwarding header is believed.
    public let trustedProxies: TrustedProxies
    /// Where sessions live.
    public let sessionStore: SessionStore
    /// How long a session lives, in seconds.
    public let sessionLifetime: Double
    /// How long an idle stored session lives, in seconds, if limited.
    public let idleTimeout: Double?
    /// The SQLite file (users and accounts, and sqlite sessions).
    public let sqlitePath: String
    /// The PostgreSQL URL, when users and accounts live there.
    public let postgresURL: String?
    /// The Redis URL, when shared state lives there.
    public let redisURL: String?
    /// The sign-in providers whose credentials are configured, by name (`github`, `google`, `oidc`).
    public let providers: [String: any AuthProvider]

    /// Reads and checks the settings.
    ///
    /// - Parameters:
    ///   - config: The configuration.
    ///   - defaultPort: The port of the default development base URL (`http://localhost:PORT`).
    ///   - keyFile: Where development keys are kept (generated on first use).
    ///   - logger: Where generating development keys is noted.
    /// - Throws: ``SesameSettingsError`` with every problem found.
    public init(reading config: ConfigReader, defaultPort: Int = 8080, keyFile: String = ".sesame/development-keys.json", logger: Logger = Logger(label: "sesame.settings")) throws(SesameSettingsError) {
        var problems: [SesameSettingsError.Problem] = []
        func problem(_ key: String, _ message: String) { problems.append(SesameSettingsError.Problem(key: key, message: message)) }

        let modeText = config.string(forKey: "sesame.env") ?? "development"
        let mode = Mode(rawValue: modeText.lowercased()) ?? {
            problem("sesame.env", "must be development or production, not \(modeText)")
            return .production  // the stricter checks apply to what follows
        }()
        self.mode = mode
        let production = mode == .production

        // The base URL: absolute, no query or fragment, https in production.
        let baseURL = config.string(forKey: "sesame.base.url") ?? "http://localhost:\(defaultPort)"
        if let url = URLComponents(string: baseURL), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host?.isEmpty == false,
            url.query == nil, url.fragment == nil {
            if production, scheme != "https" { problem("sesame.base.url", "must be an https URL in production, not \(baseURL)") }
        } else {
            problem("sesame.base.url", "must be an absolute http(s) URL without a query, not \(baseURL)")
        }
        self.baseURL = baseURL

        // Keys: configured in production; in development, generated into the key file when absent.
        var environment: [String: String] = [:]
        environment[KeySet.signingKeyVariable] = config.string(forKey: "sesame.signing.key", isSecret: true)
        environment[KeySet.verificationKeysVariable] = config.string(forKey: "sesame.verification.keys", isSecret: true)
        environment[KeySet.signingAlgorithmVariable] = config.string(forKey: "sesame.signing.alg")
        var keys: KeySet? = nil
        do {
            keys = try KeySet.load(mode: production ? .production : .development(keyFile: keyFile), environment: environment, logger: logger)
        } catch {
            problem("sesame.signing.key",
                    production && environment[KeySet.signingKeyVariable] == nil
                        ? "is required in production (generate one with `sesame keys generate`); development keys are not used"
                        : "is not a usable key: \(error.detail ?? error.code)")
        }

        // Proxies: a forwarding header is only believed from the proxies named.
        let proxyList = Self.list(config, "sesame.trusted.proxies")
        let proxyHeader = config.string(forKey: "sesame.proxy.header")?.lowercased()
        var header = TrustedProxies.Header.xForwardedFor
        switch proxyHeader {
        case nil, "x-forwarded-for": break
        case "forwarded": header = .forwarded
        case let other?: problem("sesame.proxy.header", "must be x-forwarded-for or forwarded, not \(other)")
        }
        var trustedProxies = TrustedProxies.none
        if !proxyList.isEmpty {
            if let parsed = TrustedProxies(parsing: proxyList, header: header) {
                trustedProxies = parsed
            } else {
                problem("sesame.trusted.proxies", "must be IP addresses or CIDR networks, comma-separated, not \(proxyList.joined(separator: ","))")
            }
        } else if proxyHeader != nil, production {
            problem("sesame.trusted.proxies", "must name the proxies that set \(proxyHeader!) (with none, every client could forge its address)")
        }
        self.trustedProxies = trustedProxies

        // Lifetimes: positive numbers of seconds.
        func seconds(_ key: String, default defaultValue: Double?) -> Double? {
            guard let text = Self.text(config, key) else { return defaultValue }
            guard let value = Double(text), value.isFinite, value > 0 else {
                problem(key, "must be a positive number of seconds, not \(text)")
                return defaultValue
            }
            return value
        }
        sessionLifetime = seconds("sesame.session.lifetime", default: 30 * 24 * 60 * 60) ?? 30 * 24 * 60 * 60
        idleTimeout = seconds("sesame.session.idle.timeout", default: nil)

        // Stores.
        sqlitePath = config.string(forKey: "sesame.sqlite.path") ?? ".sesame/sessions.sqlite"
        let redisURL = config.string(forKey: "sesame.redis.url", isSecret: true).flatMap { $0.isEmpty ? nil : $0 }
        let postgresURL = config.string(forKey: "sesame.postgres.url", isSecret: true).flatMap { $0.isEmpty ? nil : $0 }
        if let redisURL, !redisURL.hasPrefix("redis://") && !redisURL.hasPrefix("rediss://") {
            problem("sesame.redis.url", "must be a redis:// or rediss:// URL")
        }
        if let postgresURL, !postgresURL.hasPrefix("postgres://") && !postgresURL.hasPrefix("postgresql://") {
            problem("sesame.postgres.url", "must be a postgres:// URL")
        }
        if redisURL != nil, postgresURL != nil { problem("sesame.redis.url", "and sesame.postgres.url are both set: shared state lives in one of them") }
        self.redisURL = redisURL
        self.postgresURL = postgresURL
        let storeText = config.string(forKey: "sesame.session.store") ?? "stateless"
        switch storeText {
        case "stateless": sessionStore = .stateless
        case "memory": sessionStore = .memory
        case "sqlite": sessionStore = .sqlite
        case "redis":
            if redisURL == nil { problem("sesame.redis.url", "is required with sesame.session.store=redis") }
            sessionStore = .redis(redisURL ?? "")
        case "postgres":
            if postgresURL == nil { problem("sesame.postgres.url", "is required with sesame.session.store=postgres") }
            sessionStore = .postgres(postgresURL ?? "")
        default:
            problem("sesame.session.store", "must be stateless, memory, sqlite, redis or postgres, not \(storeText)")
            sessionStore = .stateless
        }

        // Providers: an ID needs its secret (and OpenID Connect its issuer), and the other way round.
        var providers: [String: any AuthProvider] = [:]
        func credentials(_ name: String) -> (id: String, secret: String)? {
            let id = config.string(forKey: ConfigKey("sesame.\(name).client.id"))
            let secret = config.string(forKey: ConfigKey("sesame.\(name).client.secret"), isSecret: true)
            switch (id, secret) {
            case (nil, nil): return nil
            case (let id?, let secret?) where !id.isEmpty && !secret.isEmpty: return (id, secret)
            case (nil, _), ("", _): problem("sesame.\(name).client.id", "is missing, but sesame.\(name).client.secret is set")
            default: problem("sesame.\(name).client.secret", "is missing, but sesame.\(name).client.id is set")
            }
            return nil
        }
        if let github = credentials("github") { providers["github"] = OAuth2Provider.github(clientID: github.id, clientSecret: github.secret) }
        if let google = credentials("google") { providers["google"] = OIDCProvider.google(clientID: google.id, clientSecret: google.secret) }
        let issuer = config.string(forKey: "sesame.oidc.issuer")
        if let oidc = credentials("oidc") {
            if let issuer, let url = URLComponents(string: issuer), url.scheme == "https" || (!production && url.scheme == "http"), url.host != nil {
                providers["oidc"] = OIDCProvider(
                    displayName: config.string(forKey: "sesame.oidc.name") ?? "OpenID Connect",
                    configuration: .init(issuer: issuer, credentials: ClientCredentials(id: oidc.id, secret: oidc.secret)))
            } else {
                problem("sesame.oidc.issuer", issuer == nil ? "is required with sesame.oidc.client.id" : "must be an https URL\(production ? "" : " (or http in development)"), not \(issuer!)")
            }
        } else if issuer != nil, problems.allSatisfy({ !$0.key.hasPrefix("sesame.oidc.") }) {
            problem("sesame.oidc.client.id", "is missing, but sesame.oidc.issuer is set")
        }
        self.providers = providers

        guard problems.isEmpty, let keys else { throw SesameSettingsError(problems: problems) }
        self.keys = keys
    }

    /// The handler's configuration: the base URL and the trusted proxies.
    public var authConfiguration: AuthConfiguration {
        AuthConfiguration(baseURL: baseURL, trustedProxies: trustedProxies)
    }

    /// A list setting: a string array (JSON), or a comma-separated string (environment).
    static func list(_ config: ConfigReader, _ key: String) -> [String] {
        let values = config.stringArray(forKey: ConfigKey(key)) ?? config.string(forKey: ConfigKey(key)).map { $0.split(separator: ",").map(String.init) } ?? []
        return values.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// A setting as text, whether the provider holds a string or a number.
    static func text(_ config: ConfigReader, _ key: String) -> String? {
        if let value = config.string(forKey: ConfigKey(key)) { return value }
        if let value = config.double(forKey: ConfigKey(key)) { return String(value) }
        return nil
    }
}
