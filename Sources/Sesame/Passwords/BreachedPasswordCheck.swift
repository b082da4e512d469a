import Crypto
import HTTPTypes

/// Checks whether a password appears in a corpus of breached passwords (NIST SP 800-63B §3.1.1.2), without sending
/// the password anywhere.
public protocol BreachedPasswordCheck: Sendable {
    /// How many times the password appears in the corpus (0 when it does not).
    ///
    /// - Parameter password: The password, normalised (NFKC).
    /// - Throws: When the corpus cannot be asked; callers refuse the password then (fail closed).
    func breachCount(of password: String) async throws -> Int
}

/// Have I Been Pwned's Pwned Passwords range API (k-anonymity): only the first 5 hex digits of the password's SHA-1
/// leave the server; the API answers every suffix with that prefix (`SUFFIX:COUNT` lines, padded with zero-count
/// decoys when asked), and the match is found here.
public struct PwnedPasswordsRange: BreachedPasswordCheck {
    /// The API's base URL (the prefix is appended): `https://api.pwnedpasswords.com/range/` by default.
    public let baseURL: String
    /// The HTTP client (its timeout bounds a check).
    public let http: ProviderHTTPClient

    /// Creates a check.
    ///
    /// - Parameters:
    ///   - baseURL: Where the range API is (default: Have I Been Pwned's).
    ///   - http: The HTTP client (default: Sesame's shared one: 10-second timeout, 1 MiB answers at most).
    public init(baseURL: String = "https://api.pwnedpasswords.com/range/", http: ProviderHTTPClient = .shared) {
        self.baseURL = baseURL
        self.http = http
    }

    public func breachCount(of password: String) async throws -> Int {
        let digest = Insecure.SHA1.hash(data: Array(password.utf8)).map { byte in
            let hex = Array("0123456789ABCDEF".utf8)
            return String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]], as: UTF8.self)
        }.joined()
        let prefix = digest.prefix(5), suffix = Array(digest.dropFirst(5).utf8)
        var headers = HTTPFields()
        headers[HTTPField.Name("Add-Padding")!] = "true"
        let response = try await http.send(.get, baseURL + prefix, headers: headers)
        guard response.status == .ok else { throw ProviderHTTPClient.Failure(description: "the range API answered \(response.status.code)") }
        return try Self.count(of: suffix, in: response.body)
    }

    /// The count on the line for `suffix` (35 upper-case hex digits) in a range answer; 0 when there is none.
    ///
    /// - Throws: ``ProviderHTTPClient/Failure`` when a line is not `SUFFIX:COUNT`: an answer that cannot be read
    ///   does not say "not breached".
    static func count(of suffix: [UInt8], in body: [UInt8]) throws -> Int {
        var found = 0
        for line in body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            var line = line
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), line.distance(from: line.startIndex, to: colon) == 35,
                line[..<colon].allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x46).contains($0) }),
                let count = Int(String(decoding: line[line.index(after: colon)...], as: UTF8.self)), count >= 0
            else { throw ProviderHTTPClient.Failure(description: "the range API's answer is not SUFFIX:COUNT lines") }
            if line[..<colon].elementsEqual(suffix) { found = count }
        }
        return found
    }
}
