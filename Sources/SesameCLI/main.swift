import Foundation
import PostgresNIO
import Sesame
import SesamePostgres
import SesameSQLite

/// `sesame`: command-line helpers for Sesame deployments.
///
/// `sesame keys generate [--alg ES256|ES384|EdDSA|RS256|PS256|HS256|A256GCM]` prints the environment lines
/// that configure a new active key, ready to paste into a `.env` file or a secret store.
///
/// `sesame migrate [--sqlite PATH | --postgres URL [--schema NAME] [--prefix PREFIX]]` brings the account store's
/// schema to its newest version.
let usage = """
    Usage: sesame keys generate [--alg ES256|ES384|EdDSA|RS256|PS256|HS256|HS384|HS512|A256GCM|A256CBC-HS512]
           sesame migrate [--sqlite PATH | --postgres URL [--schema NAME] [--prefix PREFIX]]

    keys generate: generates a new key and prints the environment lines that configure it:
      SESAME_SIGNING_KEY   the private key, as a JWK (keep it secret)
    and, as a comment, the public JWKS that other services can verify Sesame sessions with.

    migrate: brings the users-and-accounts schema to its newest version, in the SQLite file (default
    SESAME_SQLITE_PATH, else .sesame/sessions.sqlite, the demo's file) or the PostgreSQL database (default
    SESAME_POSTGRES_URL when set). Idempotent, and safe to run from several processes at once.
    """

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}

var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "migrate" {
    arguments.removeFirst()
    let environment = ProcessInfo.processInfo.environment
    var sqlitePath: String? = nil
    var postgresURL = environment["SESAME_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    var schema: String? = nil, prefix = "sesame_"
    while !arguments.isEmpty {
        let option = arguments.removeFirst()
        guard option != "--help", option != "-h" else {
            print(usage)
            exit(0)
        }
        guard ["--sqlite", "--postgres", "--schema", "--prefix"].contains(option) else { fail("unknown option \(option)\n\n" + usage) }
        guard !arguments.isEmpty else { fail("\(option) needs a value\n\n" + usage) }
        let value = arguments.removeFirst()
        switch option {
        case "--sqlite": sqlitePath = value; postgresURL = nil
        case "--postgres": postgresURL = value; sqlitePath = nil
        case "--schema": schema = value
        default: prefix = value
        }
    }
    do {
        if let postgresURL {
            let namespace = try PostgresTableNamespace(schema: schema, prefix: prefix)
            let configuration = try PostgresStoreClient.configuration(url: postgresURL)
            let applied = try await PostgresStoreClient.withRunningClient(configuration) { client in
                let store = PostgresAccountStore(client: client, namespace: namespace)
                let applied = try await store.migrate()
                return (applied, try await store.schemaVersion())
            }
            print(applied.0.isEmpty ? "PostgreSQL: the schema is current (version \(applied.1))" : "PostgreSQL: applied version(s) \(applied.0.map(String.init).joined(separator: ", ")); now at version \(applied.1)")
        } else {
            let path = sqlitePath ?? environment["SESAME_SQLITE_PATH"] ?? ".sesame/sessions.sqlite"
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            let store = SQLiteAccountStore(path: path)
            let before = try await store.migrate()
            let version = try await store.schemaVersion()
            try await store.close()
            print("SQLite \(path): the schema is at version \(version)\(before.isEmpty ? "" : " (applied now)")")
        }
        exit(0)
    } catch {
        fail("sesame migrate: \(error)")
    }
}
guard arguments.count >= 2, arguments[0] == "keys", arguments[1] == "generate" else {
    if arguments.contains("--help") || arguments.contains("-h") {
        print(usage)
        exit(0)
    }
    fail(usage)
}
arguments.removeFirst(2)
var algorithm = KeyAlgorithm.es256
while !arguments.isEmpty {
    let option = arguments.removeFirst()
    switch option {
    case "--alg":
        guard !arguments.isEmpty else { fail("--alg needs a value\n\n" + usage) }
        let name = arguments.removeFirst()
        guard let chosen = KeyAlgorithm(name: name) else { fail("unknown algorithm \(name)\n\n" + usage) }
        algorithm = chosen
    case "--help", "-h":
        print(usage)
        exit(0)
    default:
        fail("unknown option \(option)\n\n" + usage)
    }
}

do {
    let key = try JWK.generate(algorithm)
    let keySet = try KeySet(activeKey: key)
    print("# Sesame \(algorithm) key \(key.keyID), generated \(ISO8601DateFormatter().string(from: Date()))")
    print("# Keep SESAME_SIGNING_KEY secret. To rotate, move the old key into SESAME_VERIFICATION_KEYS.")
    print("SESAME_SIGNING_KEY='\(try key.json(includingPrivate: true))'")
    if !key.isSymmetric {
        print("# Public JWKS (safe to publish): \(keySet.jwks())")
    }
} catch {
    fail("sesame: \(error)")
}
