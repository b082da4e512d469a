import Foundation
import Sesame

/// `sesame`: command-line helpers for Sesame deployments.
///
/// `sesame keys generate [--alg ES256|ES384|EdDSA|RS256|PS256|HS256|A256GCM]` prints the environment lines
/// that configure a new active key, ready to paste into a `.env` file or a secret store.
let usage = """
    Usage: sesame keys generate [--alg ES256|ES384|EdDSA|RS256|PS256|HS256|HS384|HS512|A256GCM|A256CBC-HS512]

    Generates a new key and prints the environment lines that configure it:
      SESAME_SIGNING_KEY   the private key, as a JWK (keep it secret)
    and, as a comment, the public JWKS that other services can verify Sesame sessions with.
    """

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}

var arguments = Array(CommandLine.arguments.dropFirst())
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
