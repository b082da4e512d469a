import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension KeySet {
    /// Where keys come from when they are not configured.
    public struct LoadingMode: Sendable, Hashable {
        enum Base: Sendable, Hashable {
            case development(keyFile: String)
            case production
        }

        let base: Base

        /// Without configured keys, generate a key set on first run and keep it in `keyFile` (mode 0600), so
        /// sessions survive restarts. Never use this in production.
        ///
        /// - Parameter keyFile: The file to keep generated keys in (default `.sesame/development-keys.json`).
        public static func development(keyFile: String = ".sesame/development-keys.json") -> LoadingMode {
            LoadingMode(base: .development(keyFile: keyFile))
        }

        /// Require configured keys and refuse to start without them.
        public static let production = LoadingMode(base: .production)
    }

    /// The environment variable that holds the active key: a JWK (JSON) or a PEM document.
    public static let signingKeyVariable = "SESAME_SIGNING_KEY"
    /// The environment variable that holds the algorithm of a PEM RSA key (`RS256` or `PS256`).
    public static let signingAlgorithmVariable = "SESAME_SIGNING_ALG"
    /// The environment variable that holds older, verification-only keys: a JWKS or a JSON array of JWKs.
    public static let verificationKeysVariable = "SESAME_VERIFICATION_KEYS"

    /// Loads the key set from the environment, or, in development, from a generated key file.
    ///
    /// ``signingKeyVariable`` holds the active key as a JWK or PEM; ``verificationKeysVariable`` may add keys
    /// that only verify (rotation). Without them, `.production` refuses to start and `.development` reads
    /// the key file, generating it with `algorithm` on first run.
    ///
    /// - Parameters:
    ///   - mode: `.production` or `.development(keyFile:)`.
    ///   - algorithm: The algorithm of a generated development key (default ES256).
    ///   - environment: The variables to read (default: the process environment).
    ///   - logger: Where to note that development keys were generated.
    /// - Returns: The key set.
    /// - Throws: ``TokenError/keyNotConfigured`` in production without keys; ``TokenError/invalidKey`` for
    ///   malformed keys or a key file that others can read.
    public static func load(
        mode: LoadingMode,
        algorithm: KeyAlgorithm = .es256,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger = Logger(label: "sesame.keys")
    ) throws(TokenError) -> KeySet {
        if let signing = environment[signingKeyVariable], !signing.isEmpty {
            let explicit = environment[signingAlgorithmVariable].flatMap { KeyAlgorithm(name: $0) }
            let trimmed = signing.trimmingCharacters(in: .whitespacesAndNewlines)
            let active = trimmed.hasPrefix("-----BEGIN")
                ? try JWK(pem: trimmed, algorithm: explicit)
                : try JWK(json: trimmed, algorithm: explicit)
            var verification: [JWK] = []
            if let text = environment[verificationKeysVariable], !text.isEmpty {
                verification = try parseKeyList(text)
            }
            return try KeySet(activeKey: active, verificationKeys: verification)
        }
        switch mode.base {
        case .production:
            throw TokenError.keyNotConfigured.with(
                detail: "\(signingKeyVariable) is not set; generate keys with `sesame keys generate` and configure them")
        case .development(let keyFile):
            if FileManager.default.fileExists(atPath: keyFile) {
                return try readKeyFile(keyFile)
            }
            let key = try JWK.generate(algorithm)
            let keySet = try KeySet(activeKey: key)
            try writeKeyFile(keySet, to: keyFile)
            logger.notice("Generated development keys; set \(signingKeyVariable) in production", metadata: ["file": .string(keyFile), "kid": .string(key.keyID)])
            return keySet
        }
    }

    /// Parses a JWKS object or a JSON array of JWKs.
    static func parseKeyList(_ text: String) throws(TokenError) -> [JWK] {
        guard let document = try? JSONValue(parsing: text) else { throw TokenError.invalidKey.with(detail: "\(verificationKeysVariable) is not JSON") }
        let entries: [JSONValue]
        if case .array(let list) = document {
            entries = list
        } else if case .array(let list)? = document["keys"] {
            entries = list
        } else {
            throw TokenError.invalidKey.with(detail: "\(verificationKeysVariable) must be a JWKS or an array of JWKs")
        }
        var keys: [JWK] = []
        for entry in entries {
            guard case .object(let object) = entry else { throw TokenError.invalidKey.with(detail: "a key must be a JSON object") }
            keys.append(try JWK(jsonObject: object))
        }
        return keys
    }

    static func readKeyFile(_ path: String) throws(TokenError) -> KeySet {
        var status = stat()
        guard stat(path, &status) == 0 else { throw TokenError.invalidKey.with(detail: "cannot read \(path)") }
        guard status.st_mode & 0o077 == 0 else {
            throw TokenError.invalidKey.with(detail: "\(path) is readable by other users; run chmod 600 \(path)")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw TokenError.invalidKey.with(detail: "cannot read \(path)") }
        let keys = try parseKeyList(String(decoding: data, as: UTF8.self))
        guard let active = keys.first else { throw TokenError.invalidKey.with(detail: "\(path) holds no keys") }
        return try KeySet(activeKey: active, verificationKeys: Array(keys.dropFirst()))
    }

    static func writeKeyFile(_ keySet: KeySet, to path: String) throws(TokenError) {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let contents = Array(keySet.jwks(includingPrivate: true).utf8) + [0x0A]
        // Created with O_EXCL and mode 0600, so the private keys are never readable by others, not even briefly.
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else { throw TokenError.invalidKey.with(detail: "cannot create \(path)") }
        defer { close(descriptor) }
        let written = contents.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == contents.count else { throw TokenError.invalidKey.with(detail: "cannot write \(path)") }
    }
}
