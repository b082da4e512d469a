import Foundation
@testable import Sesame

/// The session kinds of the app under test.
enum AppSession: SessionSubject, Equatable {
    case user(userID: String, tenantID: String?)
    case apiKey(keyID: String)
}

/// A clock tests can move.
final class TestClock: Sendable {
    private let storage: Mutex<Double>
    init(_ start: Double = Date().timeIntervalSince1970.rounded(.down)) { storage = Mutex(start) }
    var now: Double { storage.withLock { $0 } }
    func advance(_ seconds: Double) { storage.withLock { $0 += seconds } }
    var function: @Sendable () -> Double { { self.now } }
}

import Synchronization

enum Forge {
    /// A compact JWS with an arbitrary header and payload, signed with `key` (or with the given signature).
    static func jws(header: JSONValue, payload: JSONValue, key: JWK?, signature: [UInt8]? = nil) throws -> String {
        let input = Base64URL.encode(header.jsonBytes) + "." + Base64URL.encode(payload.jsonBytes)
        let sig = try signature ?? key!.signature(for: Array(input.utf8))
        return input + "." + Base64URL.encode(sig)
    }

    static func decodeSegment(_ token: String, _ index: Int) -> JSONValue {
        let segment = token.split(separator: ".", omittingEmptySubsequences: false)[index]
        return try! JSONValue(parsing: Base64URL.decode(segment)!)
    }

    /// The token with one bit of its signature flipped, in a byte every signature has in full.
    ///
    /// (Replacing the last two characters with `AA` is no forgery one time in 256: for a 64-byte ES256
    /// signature they encode only the last byte, and when that byte is zero the "forged" token is the original.
    /// That made `readsTheTokenFromBearerOrCookie` fail now and then.)
    static func tamperedSignature(_ token: String) -> String {
        var signature = Base64URL.decode(token.split(separator: ".", omittingEmptySubsequences: false).last!)!
        signature[signature.count / 2] ^= 0x01
        return replacingSegment(token, token.split(separator: ".", omittingEmptySubsequences: false).count - 1, with: Base64URL.encode(signature))
    }

    static func replacingSegment(_ token: String, _ index: Int, with value: String) -> String {
        var parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        parts[index] = value
        return parts.joined(separator: ".")
    }
}

func hexBytes(_ hex: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        bytes.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}

/// The repository root, for tests that run the scripts under Tests/.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

extension PasswordHashingQueue {
    /// The tests' queue: as many threads as the shared one, and room for every suite's hashes at once (the shared
    /// queue's limit is for a server under load, not for a test run that starts dozens of hashes together).
    static let forTests = PasswordHashingQueue(maximumConcurrent: 2, maximumWaiting: 10_000)
}
