import ArgumentParser
import Foundation
import Sesame

/// `sesame keys generate | rotate | jwks`.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Generate, rotate and publish the keys sessions and links are signed with.",
        subcommands: [Generate.self, Rotate.self, JWKS.self])

    /// Key algorithms by the names `--alg` takes.
    struct Algorithm: ExpressibleByArgument {
        let value: KeyAlgorithm

        init?(argument: String) {
            guard let value = KeyAlgorithm(name: argument) else { return nil }
            self.value = value
        }

        static let names = "ES256, ES384, EdDSA, RS256, PS256, HS256, HS384, HS512, A256GCM, A256CBC-HS512"
    }

    /// The environment lines (or JSON) that configure `active` and `verification`.
    static func emit(active: JWK, verification: [JWK], json: Bool, comment: String) throws {
        let signing = try active.json(includingPrivate: true)
        // Older keys only verify: an asymmetric key's public half is enough, a symmetric key needs its secret.
        let older = try verification.map { key -> JSONValue in .object(try key.jsonObject(includingPrivate: key.isSymmetric)) }
        let olderText = JSONValue.array(older).jsonString
        let publicSet = try KeySet(activeKey: active, verificationKeys: verification).jwks()
        if json {
            var object: JSONObject = [
                KeySet.signingKeyVariable: .string(signing),
                "keyID": .string(active.keyID),
                "algorithm": .string(active.algorithm.name),
                "jwks": try JSONValue(parsing: Array(publicSet.utf8)),
            ]
            if !verification.isEmpty { object[KeySet.verificationKeysVariable] = .string(olderText) }
            printJSON(.object(object))
            return
        }
        print("# \(comment)")
        print("# Keep \(KeySet.signingKeyVariable) secret.")
        print("\(KeySet.signingKeyVariable)='\(signing)'")
        if !verification.isEmpty { print("\(KeySet.verificationKeysVariable)='\(olderText)'") }
        if !active.isSymmetric { print("# Public JWKS (safe to publish): \(publicSet)") }
    }

    /// The key set the environment configures (`SESAME_SIGNING_KEY`, `SESAME_VERIFICATION_KEYS`), or a failure
    /// naming the variable.
    static func configuredKeys() throws -> KeySet {
        do {
            return try KeySet.load(mode: .production)
        } catch {
            throw CommandFailure(description: "no usable keys in the environment: \(error)")
        }
    }

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a new key and print the environment line that configures it (SESAME_SIGNING_KEY).")

        @Option(help: ArgumentHelp("The algorithm.", discussion: "One of \(Algorithm.names)."))
        var alg: Algorithm = Algorithm(argument: "ES256")!

        @Flag(help: "Print JSON instead of environment lines.")
        var json = false

        func run() async {
            await reporting {
                let key = try JWK.generate(alg.value)
                try KeysCommand.emit(
                    active: key, verification: [], json: json,
                    comment: "Sesame \(alg.value.name) key \(key.keyID), generated \(ISO8601DateFormatter().string(from: Date()))")
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new active key; the configured keys stay, for verification only.",
            discussion: """
                Reads SESAME_SIGNING_KEY and SESAME_VERIFICATION_KEYS and prints both anew: a new active key, and the \
                old active key with the older ones in SESAME_VERIFICATION_KEYS, so that sessions and links signed \
                with them keep working. Drop an old key once the last token it signed has expired.
                """)

        @Option(help: ArgumentHelp("The new key's algorithm (default: the active key's).", discussion: "One of \(Algorithm.names)."))
        var alg: Algorithm?

        @Flag(help: "Print JSON instead of environment lines.")
        var json = false

        func run() async {
            await reporting {
                let current = try KeysCommand.configuredKeys()
                guard let active = current.activeKey else { throw CommandFailure(description: "the configured key set has no active key") }
                let algorithm = alg?.value ?? active.algorithm
                guard algorithm.isSigning == active.algorithm.isSigning else {
                    throw CommandFailure(description: "\(algorithm.name) cannot replace \(active.algorithm.name): one signs, the other encrypts")
                }
                let key = try JWK.generate(algorithm)
                try KeysCommand.emit(
                    active: key, verification: current.keys, json: json,
                    comment: "Sesame \(algorithm.name) key \(key.keyID) replaces \(active.keyID), rotated \(ISO8601DateFormatter().string(from: Date()))")
            }
        }
    }

    struct JWKS: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "jwks",
            abstract: "Print the public JWK Set of the configured keys (for services that verify Sesame's tokens).")

        func run() async {
            await reporting {
                let keys = try KeysCommand.configuredKeys()
                guard keys.keys.contains(where: { !$0.isSymmetric }) else {
                    throw CommandFailure(description: "the configured keys are symmetric: there is nothing public to publish")
                }
                print(keys.jwks())
            }
        }
    }
}
