import Configuration
import Foundation
import HTTPTypes
import Sesame
import SesameConfiguration
import Testing

/// Settings through swift-configuration: defaults for development, every problem named by its key, and the
/// production refusals.
@Suite struct SesameSettingsTests {
    static func keyFile() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("sesame-settings-\(UUID().uuidString)/keys.json").path
    }

    static func settings(_ environment: [String: String], keyFile: String = keyFile()) throws(SesameSettingsError) -> SesameSettings {
        try SesameSettings(reading: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment)), keyFile: keyFile)
    }

    static func problems(_ environment: [String: String]) -> [SesameSettingsError.Problem] {
        do {
            _ = try settings(environment)
            Issue.record("the settings were accepted")
            return []
        } catch {
            return error.problems
        }
    }

    /// A production signing key (a JWK, as `sesame keys generate` prints it).
    static let signingKey: String = {
        let key = try! JWK.generate(.es256)
        return try! key.json(includingPrivate: true)
    }()

    @Test func developmentRunsOnDefaults() throws {
        let keyFile = Self.keyFile()
        let settings = try Self.settings([:], keyFile: keyFile)
        #expect(settings.mode == .development && settings.baseURL == "http://localhost:8080")
        #expect(settings.sessionStore == .stateless && settings.sessionLifetime == 30 * 24 * 60 * 60 && settings.idleTimeout == nil)
        #expect(settings.providers.isEmpty && settings.sqlitePath == ".sesame/sessions.sqlite")
        // Development keys were generated into the file, and are read back the next time.
        #expect(FileManager.default.fileExists(atPath: keyFile))
        let again = try Self.settings([:], keyFile: keyFile)
        #expect(again.keys.activeKey?.keyID != nil && again.keys.activeKey?.keyID == settings.keys.activeKey?.keyID)
    }

    @Test func productionRefusesInsecureSettingsNamingEachKey() {
        let problems = Self.problems([
            "SESAME_ENV": "production", "SESAME_BASE_URL": "http://app.example", "SESAME_PROXY_HEADER": "x-forwarded-for",
        ])
        #expect(problems.map(\.key) == ["sesame.base.url", "sesame.signing.key", "sesame.trusted.proxies"])
        let description = SesameSettingsError(problems: problems).description
        #expect(description.contains("sesame.base.url (SESAME_BASE_URL): must be an https URL in production, not http://app.example"))
        #expect(description.contains("sesame.signing.key (SESAME_SIGNING_KEY): is required in production"))
        #expect(description.contains("sesame.trusted.proxies (SESAME_TRUSTED_PROXIES): must name the proxies that set x-forwarded-for"))
        // The same in development is allowed: http, generated keys, a header with no proxies (nothing believes it).
        #expect(throws: Never.self) { try Self.settings(["SESAME_BASE_URL": "http://app.example", "SESAME_PROXY_HEADER": "x-forwarded-for"]) }
    }

    @Test func aCompleteProductionConfiguration() throws {
        let settings = try Self.settings([
            "SESAME_ENV": "production", "SESAME_BASE_URL": "https://app.example", "SESAME_SIGNING_KEY": Self.signingKey,
            "SESAME_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1", "SESAME_PROXY_HEADER": "forwarded",
            "SESAME_SESSION_STORE": "postgres", "SESAME_POSTGRES_URL": "postgres://app@db.internal/app",
            "SESAME_SESSION_LIFETIME": "3600", "SESAME_SESSION_IDLE_TIMEOUT": "900",
            "SESAME_GITHUB_CLIENT_ID": "gh-id", "SESAME_GITHUB_CLIENT_SECRET": "gh-secret",
            "SESAME_OIDC_ISSUER": "https://id.example", "SESAME_OIDC_CLIENT_ID": "oidc-id", "SESAME_OIDC_CLIENT_SECRET": "oidc-secret",
        ])
        #expect(settings.mode == .production && settings.authConfiguration.baseURL == "https://app.example")
        #expect(settings.sessionStore == .postgres("postgres://app@db.internal/app"))
        #expect(settings.sessionLifetime == 3600 && settings.idleTimeout == 900)
        #expect(Set(settings.providers.keys) == ["github", "oidc"])
        #expect(settings.trustedProxies.clientAddress(peer: "10.1.2.3", fields: [HTTPField.Name("Forwarded")!: "for=203.0.113.9"]) == "203.0.113.9")
        #expect(settings.trustedProxies.clientAddress(peer: "198.51.100.1", fields: [HTTPField.Name("Forwarded")!: "for=203.0.113.9"]) == "198.51.100.1")
    }

    @Test func malformedValuesAreNamed() {
        let problems = Self.problems([
            "SESAME_ENV": "staging", "SESAME_BASE_URL": "app.example/path?x=1", "SESAME_SIGNING_KEY": "not a key",
            "SESAME_TRUSTED_PROXIES": "10.0.0.0/33", "SESAME_PROXY_HEADER": "x-real-ip", "SESAME_SESSION_LIFETIME": "-5",
            "SESAME_SESSION_IDLE_TIMEOUT": "soon", "SESAME_SESSION_STORE": "redis", "SESAME_POSTGRES_URL": "mysql://db",
            "SESAME_GITHUB_CLIENT_ID": "gh-id", "SESAME_GOOGLE_CLIENT_SECRET": "secret", "SESAME_OIDC_ISSUER": "https://id.example",
        ])
        let byKey = Dictionary(problems.map { ($0.key, $0.message) }, uniquingKeysWith: { first, _ in first })
        #expect(byKey["sesame.env"] == "must be development or production, not staging")
        #expect(byKey["sesame.base.url"]?.hasPrefix("must be an absolute http(s) URL") == true)
        #expect(byKey["sesame.signing.key"]?.hasPrefix("is not a usable key") == true)
        #expect(byKey["sesame.proxy.header"] == "must be x-forwarded-for or forwarded, not x-real-ip")
        #expect(byKey["sesame.trusted.proxies"]?.contains("10.0.0.0/33") == true)
        #expect(byKey["sesame.session.lifetime"] == "must be a positive number of seconds, not -5")
        #expect(byKey["sesame.session.idle.timeout"] == "must be a positive number of seconds, not soon")
        #expect(byKey["sesame.redis.url"] == "is required with sesame.session.store=redis")
        #expect(byKey["sesame.postgres.url"] == "must be a postgres:// URL")
        #expect(byKey["sesame.github.client.secret"] == "is missing, but sesame.github.client.id is set")
        #expect(byKey["sesame.google.client.id"] == "is missing, but sesame.google.client.secret is set")
        #expect(byKey["sesame.oidc.client.id"] == "is missing, but sesame.oidc.issuer is set")
        // No message repeats a secret's value.
        #expect(!SesameSettingsError(problems: problems).description.contains("secret\n") && !SesameSettingsError(problems: problems).description.hasSuffix("secret"))
    }

    /// A JSON file under the environment: the file gives the settings, an environment variable overrides one.
    @Test func settingsFromAFileWithTheEnvironmentFirst() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sesame-settings-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("sesame.json")
        let json: [String: Any] = ["sesame": [
            "env": "production", "base": ["url": "https://file.example"], "signing": ["key": Self.signingKey],
            "session": ["store": "sqlite", "lifetime": 7200], "trusted": ["proxies": ["10.0.0.0/8"]],
        ]]
        try JSONSerialization.data(withJSONObject: json).write(to: file)
        let config = ConfigReader(providers: [
            EnvironmentVariablesProvider(environmentVariables: ["SESAME_BASE_URL": "https://env.example"]),
            try await FileProvider<JSONSnapshot>(filePath: .init(file.path)),
        ])
        let settings = try SesameSettings(reading: config, keyFile: Self.keyFile())
        #expect(settings.baseURL == "https://env.example" && settings.mode == .production)
        #expect(settings.sessionStore == .sqlite && settings.sessionLifetime == 7200)
        #expect(settings.trustedProxies.clientAddress(peer: "10.0.0.1", fields: [HTTPField.Name("X-Forwarded-For")!: "203.0.113.9"]) == "203.0.113.9")
    }
}
