import Foundation
import Testing
@testable import Sesame

/// Tokens Sesame issues verify in two independent JOSE implementations from PyPI (joserfc and jwcrypto), and
/// tokens they issue verify in Sesame. The Python side is `Tests/Interop/jose_interop.py`; its dependencies
/// are installed by `scripts/test` (and so by CI).
@Suite(.timeLimit(.minutes(3))) struct InteropTests {
    static let algorithms = KeyAlgorithm.all
    static let libraries = ["joserfc", "jwcrypto"]

    /// Runs the Python helper on `request`. It waits for the process on a Dispatch thread, not on one of the
    /// cooperative pool's few threads, which the suites running at the same time need.
    func runInterop(_ request: JSONValue) async throws -> JSONValue {
        try await Self.runHelper("jose_interop.py", request)
    }

    /// Runs one of the Python helpers in `Tests/Interop` on `request` (JSON on stdin) and returns its JSON output.
    static func runHelper(_ script: String, _ request: JSONValue) async throws -> JSONValue {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repositoryRoot.appendingPathComponent("Tests/Interop/" + script).path]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(Data(request.jsonBytes))
        try input.fileHandleForWriting.close()
        let (data, diagnostics) = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let data = output.fileHandleForReading.readDataToEndOfFile()
                let diagnostics = errors.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: (data, diagnostics))
            }
        }
        guard process.terminationStatus == 0 else {
            throw InteropFailure(message: "\(script) exited \(process.terminationStatus): \(String(decoding: diagnostics, as: UTF8.self))")
        }
        return try JSONValue(parsing: Array(data))
    }

    struct InteropFailure: Error, CustomStringConvertible { let message: String; var description: String { message } }

    @Test func interoperatesWithJoserfcAndJwcrypto() async throws {
        let now = Date().timeIntervalSince1970
        let claims: JSONObject = ["sub": "interop", "iat": .integer(Int64(now)), "exp": .integer(Int64(now + 600)), "name": "Zoë \"quoted\" /slash"]
        var keys: [String: JWK] = [:]
        var verifyEntries: [JSONValue] = []
        var issueEntries: [JSONValue] = []
        for algorithm in Self.algorithms {
            let key = try JWK.generate(algorithm)
            keys[algorithm.name] = key
            let token = try JWT.issue(claims, key: key)
            let verificationJWK = try key.publicKey?.jsonObject() ?? key.jsonObject(includingPrivate: true)
            verifyEntries.append(["name": .string(algorithm.name), "token": .string(token), "jwk": .object(verificationJWK)])
            issueEntries.append([
                "name": .string(algorithm.name),
                "alg": .string(algorithm.isSigning ? algorithm.name : "dir"),
                "enc": algorithm.isSigning ? .null : .string(algorithm.name),
                "jwk": .object(try key.jsonObject(includingPrivate: true)),
                "kid": .string(key.keyID),
                "payload": .object(claims),
            ])
        }
        let response = try await runInterop(["verify": .array(verifyEntries), "issue": .array(issueEntries)])

        // Sesame → joserfc, jwcrypto.
        let verified = try #require(response["verify"]?.arrayValue)
        #expect(verified.count == Self.algorithms.count * Self.libraries.count)
        for result in verified {
            let label = "\(result["library"]?.stringValue ?? "?") verifying Sesame's \(result["name"]?.stringValue ?? "?")"
            #expect(result["ok"] == true, "\(label): \(result["error"] ?? .null)")
            #expect(result["payload"] == .object(claims), "\(label)")
        }
        let libraries = Set(verified.compactMap { $0["library"]?.stringValue })
        #expect(libraries == Set(Self.libraries))

        // joserfc, jwcrypto → Sesame.
        let issued = try #require(response["issue"]?.arrayValue)
        #expect(issued.count == Self.algorithms.count * Self.libraries.count)
        for result in issued {
            let name = try #require(result["name"]?.stringValue)
            let label = "Sesame verifying \(result["library"]?.stringValue ?? "?")'s \(name)"
            let token = try #require(result["token"]?.stringValue, "\(label): \(result["error"] ?? .null)")
            let key = try #require(keys[name])
            let keySet = try KeySet(verificationKeys: [key.publicKey ?? key])
            let verified = try JWT.verify(token, keys: keySet)
            #expect(verified.payload == claims, "\(label)")
            #expect(verified.key.keyID == key.keyID, "\(label)")
            // And a bit flipped in their token's last segment is rejected by Sesame.
            var last = Base64URL.decode(token.split(separator: ".").last!)!
            last[0] ^= 1
            let tampered = Forge.replacingSegment(token, token.split(separator: ".", omittingEmptySubsequences: false).count - 1, with: Base64URL.encode(last))
            #expect(throws: TokenError.self, "\(label), tampered") { try JWT.verify(tampered, keys: keySet) }
        }
    }

    @Test func sesameSessionTokensVerifyElsewhere() async throws {
        let key = try JWK.generate(.es256)
        let sessions = try SessionTokens<AppSession>(keys: KeySet(activeKey: key))
        let token = try sessions.create(.user(userID: "123", tenantID: nil))
        let response = try await runInterop(["verify": [["name": "session", "token": .string(token), "jwk": .object(try key.publicKey!.jsonObject())]]])
        for result in response["verify"]?.arrayValue ?? [] {
            #expect(result["ok"] == true)
            #expect(result["payload"]?["type"] == "user")
            #expect(result["payload"]?["properties"] == ["userID": "123"])
        }
        #expect(response["verify"]?.arrayValue?.count == 2)
    }
}
