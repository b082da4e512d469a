import Foundation
import HTTPTypes
@testable import Sesame

/// The strict JSON parser: what parses, written back out, parses to the same value.
let jsonTarget = FuzzTarget(name: "json") { bytes in
    guard let value = try? JSONValue(parsing: bytes) else { return }
    var written: [UInt8] = []
    value.write(to: &written)
    guard let reparsed = try? JSONValue(parsing: written) else { fatalError("property failed: written JSON does not parse") }
    require(sameJSON(reparsed, value), "written JSON parses to another value")
}

/// JSON equality as JSON sees it: the writer spells a double with an exact integer value as an integer (`5e9` is
/// written `5000000000`), so a number equals a number of the other case with the same value.
func sameJSON(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.integer(let x), .double(let y)), (.double(let y), .integer(let x)): return Double(exactly: x) == y
    case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { sameJSON($0, $1) }
    case (.object(let x), .object(let y)):
        return x.keys == y.keys && x.keys.allSatisfy { name in sameJSON(x[name]!, y[name]!) }
    default: return a == b
    }
}

/// The payload scanner: it accepts exactly the objects the parser accepts, locates the same members with the same
/// values, and reads the same registered claims.
let jsonScannerTarget = FuzzTarget(name: "json-scanner") { bytes in
    let parsed = (try? JSONValue(parsing: bytes))?.objectValue
    let scanned: Bool? = try? JSONObjectScanner.withMembers(of: bytes) { members throws(TokenError) in
        guard let parsed else { fatalError("property failed: the scanner accepted what the parser refused") }
        for name in parsed.keys {
            require(members.first(named: name, in: bytes)?.parsed(in: bytes) == parsed[name], "member \(name) differs")
        }
        let scannedClaims = try? RegisteredClaims(scanned: members, in: bytes)
        require(scannedClaims == (try? RegisteredClaims(parsed)), "claims differ")
        return true
    }
    require((scanned ?? nil != nil) == (parsed != nil), "the parser accepted an object the scanner refused")
}

/// base64url without padding: strict (one spelling per byte string), and every byte string survives a round trip.
let base64URLTarget = FuzzTarget(name: "base64url") { bytes in
    if let decoded = Base64URL.decode(bytes) {
        require(Array(Base64URL.encode(decoded).utf8) == Array(bytes), "a second spelling decoded")
    }
    require(Base64URL.decode(Base64URL.encode(bytes)) == Array(bytes), "encode then decode lost bytes")
}

/// The `Cookie` header and chunked cookies: the value found lies inside the header, holds no separator, and the
/// chunked reader reassembles at most its chunk cap.
let cookieTarget = FuzzTarget(name: "cookie") { bytes in
    let names: [[UInt8]] = [Array("__Host-sesame".utf8), Array("sesame".utf8), Array("sesame.0".utf8)]
    if let (range, rank) = CookieHeader.best(names: names, in: bytes) {
        require(range.lowerBound >= 0 && range.upperBound <= bytes.count && !range.isEmpty, "range outside the header")
        require(names.indices.contains(rank), "rank outside the names")
        require(!bytes[range].contains(UInt8(ascii: ";")), "a value holds a separator")
    }
    let headers = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let chunked = ChunkedCookie(cookie: SessionCookie(name: "sesame", baseURL: "http://127.0.0.1"), chunkSize: 16, maximumChunks: 4)
    if let value = chunked.value(in: headers) {
        // Bytes, not characters: Swift's String comparison would take U+037E (Greek question mark) for `;`.
        require(!value.isEmpty && !value.utf8.contains(UInt8(ascii: ";")), "chunked value holds a separator")
    }
    var fields = HTTPFields()
    for header in headers.prefix(8) { fields.append(HTTPField(name: .cookie, value: header)) }
    _ = CookieHeader.value(named: "sesame", in: fields)
}

/// `application/x-www-form-urlencoded`: what parses, encoded again, parses to the same pairs.
let formTarget = FuzzTarget(name: "form") { bytes in
    let text = String(decoding: bytes, as: UTF8.self)
    let form = URLEncodedForm(parsing: text)
    require(URLEncodedForm(parsing: form.encoded) == form, "an encoded form parses to other pairs")
    for pair in form { require(!pair.name.isEmpty, "a pair with an empty name") }
}

/// `X-Forwarded-For` and `Forwarded`: the client address is the socket peer or an address from the chain, and is
/// always an address.
let forwardedTarget = FuzzTarget(name: "forwarded") { bytes in
    let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    guard let peer = lines.first.map(String.init) else { return }
    for header in [TrustedProxies.Header.xForwardedFor, .forwarded] {
        let proxies = TrustedProxies(["127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"], header: header)
        var fields = HTTPFields()
        for line in lines.dropFirst().prefix(8) {
            fields.append(HTTPField(name: header == .forwarded ? .forwarded : .xForwardedFor, value: String(line)))
        }
        guard let client = proxies.clientAddress(peer: peer, fields: fields) else { continue }
        require(client == peer || IPNetwork.parseAddress(client) != nil, "the client address is not an address")
    }
}
