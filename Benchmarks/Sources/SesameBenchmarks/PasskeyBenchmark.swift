import BenchmarkSupport
import Crypto
import Foundation
import HTTPTypes
import Sesame

/// `passkeys COUNT ROUNDS`: passkey sign-in verification (``Passkeys/authenticate(_:secondFactorFor:)``: the sealed
/// challenge cookie opened and redeemed, the credential JSON, client data, authenticator data, the stored passkey
/// and its COSE key, the ES256 signature, the counter and last use recorded; memory stores) against the raw
/// check on the same bytes (SHA-256 of the client data, the DER signature parsed, ECDSA P-256 verified with a key
/// parsed once), COUNT assertions each per round, interleaved one by one. Target: Sesame ÷ raw ≥ 0.9. Then CBOR decoding of a
/// typical `none` attestation object (ES256 key). Target: under 5 µs.
enum PasskeyBenchmark {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Unpadded base64url (the benchmark's own, so that making samples stays cheap beside what is measured).
    static func base64url(_ input: some Collection<UInt8>) -> String {
        let bytes = Array(input)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count * 4 / 3 + 3)
        var index = 0
        while index + 3 <= bytes.count {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            output += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            index += 3
        }
        if bytes.count - index == 1 {
            let n = UInt32(bytes[index]) << 16
            output += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)]]
        } else if bytes.count - index == 2 {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            output += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)]]
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// One pre-made sign-in: the request Sesame verifies and the same bytes for the raw check.
    struct Sample {
        let request: AuthRequest
        let signed: [UInt8]
        let clientDataJSON: [UInt8]
        let authenticatorData: [UInt8]
        let signature: [UInt8]
    }

    static func run(count: Int, rounds: Int) async throws {
        let origin = "https://bench.example"
        let store = MemoryAccountStore()
        let keys = try KeySet(activeKey: JWK.generate(.es256))
        let passkeys = Passkeys(store: store, keys: keys, baseURL: origin, replay: MemoryReplayStore(), configuration: PasskeyConfiguration(relyingPartyName: "Bench"))
        let user = AuthUser(email: "bench@example.com", emailVerified: Date())
        let privateKey = P256.Signing.PrivateKey()
        let raw = Array(privateKey.publicKey.rawRepresentation)
        // The COSE key, canonical CBOR: {1: 2, 3: -7, -1: 1, -2: x, -3: y}.
        let coseKey: [UInt8] = [0xA5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20] + raw[0..<32] + [0x22, 0x58, 0x20] + raw[32..<64]
        let credentialID = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let passkey = PasskeyAuthenticator(credentialID: credentialID, userID: user.id, publicKey: coseKey)
        try await store.createUser(user, authenticator: passkey)
        let rpIDHash = Array(SHA256.hash(data: Array("bench.example".utf8)))
        // A passkey that does not count (as synced passkeys do): the samples verify in any order.
        let authenticatorData = rpIDHash + [0x05, 0, 0, 0, 0]

        func samples() async throws -> [Sample] {
            var made: [Sample] = []
            made.reserveCapacity(count)
            for _ in 0..<count {
                let options = try await passkeys.authenticationOptions()
                let challenge = options.options["challenge"]!.stringValue!
                let clientData = Array("{\"type\":\"webauthn.get\",\"challenge\":\"\(challenge)\",\"origin\":\"\(origin)\",\"crossOrigin\":false}".utf8)
                let signed = authenticatorData + Array(SHA256.hash(data: clientData))
                let signature = Array(try privateKey.signature(for: signed).derRepresentation)
                let body: JSONValue = ["id": .string(base64url(credentialID)), "rawId": .string(base64url(credentialID)), "type": "public-key",
                    "response": ["clientDataJSON": .string(base64url(clientData)), "authenticatorData": .string(base64url(authenticatorData)),
                                 "signature": .string(base64url(signature)), "userHandle": .string(base64url(Array(user.id.utf8)))]]
                var head = HTTPRequest(method: .post, scheme: "https", authority: "bench.example", path: "/auth/callback/passkey")
                head.headerFields[.cookie] = String(options.cookieField.value.prefix { $0 != ";" })
                head.headerFields[.contentType] = "application/json"
                made.append(Sample(request: AuthRequest(head: head, body: body.jsonBytes), signed: signed, clientDataJSON: clientData,
                                   authenticatorData: authenticatorData, signature: signature))
            }
            return made
        }

        let publicKey = privateKey.publicKey
        var rawRates: [Double] = [], sesameRates: [Double] = [], ratios: [Double] = []
        let clock = ContinuousClock()
        for _ in 0..<rounds {
            let batch = try await samples()
            // Interleaved sample by sample (raw, then Sesame, on the same bytes), so that the machine's drift
            // falls on both alike.
            var rawTime = Duration.zero, sesameTime = Duration.zero
            if ProcessInfo.processInfo.environment["SESAME_BENCH_PROFILE"] != nil {
                // For a profiler started after the samples are made (`perf record -D`): Sesame's verification alone.
                print("samples made")
                for sample in batch { _ = try await passkeys.authenticate(sample.request) }
                return
            }
            for sample in batch {
                var start = clock.now
                let signed = sample.authenticatorData + Array(SHA256.hash(data: sample.clientDataJSON))
                guard let signature = try? P256.Signing.ECDSASignature(derRepresentation: sample.signature),
                      publicKey.isValidSignature(signature, for: signed) else { fatalError("the raw check failed") }
                rawTime += clock.now - start
                start = clock.now
                _ = try await passkeys.authenticate(sample.request)
                sesameTime += clock.now - start
            }
            let rawRate = Double(count) / seconds(rawTime)
            let sesameRate = Double(count) / seconds(sesameTime)
            rawRates.append(rawRate)
            sesameRates.append(sesameRate)
            ratios.append(sesameRate / rawRate)
        }
        print("Passkey sign-in verification (ES256), \(count) assertions per cell, one task, median of \(rounds) rounds")
        print("")
        print("| raw SHA-256 + ECDSA P-256 verify (/s) | Passkeys.authenticate (/s) | Sesame ÷ raw |")
        print("|---:|---:|---:|")
        print("| \(Int(median(rawRates))) | \(Int(median(sesameRates))) | \(String(format: "%.2f×", median(ratios))) |")

        // CBOR: a `none` attestation object with this ES256 key, as a platform authenticator sends it.
        let attested = rpIDHash + [0x45, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 16) + [0, 16] + credentialID + coseKey
        let attestation: [UInt8] = [0xA3, 0x63] + Array("fmt".utf8) + [0x64] + Array("none".utf8) + [0x67] + Array("attStmt".utf8) + [0xA0]
            + [0x68] + Array("authData".utf8) + [0x58, UInt8(attested.count)] + attested
        precondition((try? AttestationObject(bytes: attestation)) != nil, "the attestation object does not parse")
        guard ProcessInfo.processInfo.environment["SESAME_BENCH_SKIP_CBOR"] == nil else { return }
        let iterations = 200_000
        var decodeTimes: [Double] = [], parseTimes: [Double] = []
        for _ in 0..<rounds {
            var start = clock.now
            for _ in 0..<iterations { _ = try CBORValue.decode(attestation) }
            decodeTimes.append(seconds(clock.now - start) / Double(iterations) * 1e9)
            start = clock.now
            for _ in 0..<iterations { _ = try AttestationObject(bytes: attestation) }
            parseTimes.append(seconds(clock.now - start) / Double(iterations) * 1e9)
        }
        print("")
        print("Attestation object (\(attestation.count) bytes, `none`, ES256 key), \(iterations) decodes per round, median of \(rounds) rounds")
        print("")
        print("| CBORValue.decode | AttestationObject(bytes:) (CBOR, authenticator data, COSE key) | target |")
        print("|---:|---:|---:|")
        print("| \(String(format: "%.0f ns", median(decodeTimes))) | \(String(format: "%.0f ns", median(parseTimes))) | < 5,000 ns |")
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
