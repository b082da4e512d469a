import HTTPTypes

/// A cookie too large for one `Set-Cookie`, split into `name.0`, `name.1`, … and put back together on read.
///
/// Browsers keep at most about 4096 bytes per cookie, name and attributes included. A value that fits is set
/// whole; a larger one is split into chunks of at most ``chunkSize`` characters. Either way, the cookies of the
/// other shape that the request carried (the whole cookie, or chunks beyond the new count) are cleared, so a
/// value that shrinks leaves nothing stale behind.
struct ChunkedCookie: Sendable {
    /// The cookie's options.
    let cookie: SessionCookie
    /// The most value characters in one cookie (default 3,900, leaving room for the name and attributes).
    let chunkSize: Int
    /// The most chunks read back (a request with more is not believed).
    let maximumChunks: Int

    /// Creates chunking for a cookie.
    init(cookie: SessionCookie, chunkSize: Int = 3_900, maximumChunks: Int = 8) {
        self.cookie = cookie
        self.chunkSize = chunkSize
        self.maximumChunks = maximumChunks
    }

    /// The `Set-Cookie` values that store `value`, and clear what the request carried that is now stale.
    ///
    /// - Parameters:
    ///   - value: The cookie value (already cookie-safe, such as a compact JWS).
    ///   - maxAge: Seconds the cookie lives (at most ``SessionCookie/maximumAge``).
    ///   - headers: The `Cookie` fields of the request being answered, for its existing chunks.
    func setCookies(_ value: String, maxAge: Int, replacing headers: [String]) -> [String] {
        let name = cookie.effectiveName
        let present = presentNames(in: headers, base: name)
        let characters = Array(value.utf8)
        var result: [String] = []
        var written: Set<String> = []
        if characters.count <= chunkSize {
            result.append(cookie.setCookie(value, maxAge: maxAge))
            written.insert(name)
        } else {
            var index = 0
            var offset = 0
            while offset < characters.count {
                let chunk = String(decoding: characters[offset..<min(offset + chunkSize, characters.count)], as: UTF8.self)
                result.append(cookie.setCookie(named: "\(name).\(index)", chunk, maxAge: maxAge))
                written.insert("\(name).\(index)")
                index += 1
                offset += chunkSize
            }
        }
        for stale in present.sorted() where !written.contains(stale) {
            result.append(cookie.setCookie(named: stale, "", maxAge: 0))
        }
        return result
    }

    /// The `Set-Cookie` values that clear the chunks (`name.N`) a request carries, for a sign-out.
    ///
    /// - Parameter headers: The request's `Cookie` fields.
    func clearingChunks(in headers: [String]) -> [String] {
        let name = cookie.effectiveName
        return presentNames(in: headers, base: name).subtracting([name]).sorted().map {
            cookie.setCookie(named: $0, "", maxAge: 0)
        }
    }

    /// The value that the `Cookie` fields `headers` carry, whole or reassembled from consecutive chunks, under
    /// the cookie's name only.
    ///
    /// - Parameter headers: The values of a request's `Cookie` fields.
    func value(in headers: [String]) -> String? {
        let name = cookie.effectiveName
        if let whole = CookieHeader.best(names: [Array(name.utf8)], inHeaders: headers) { return whole }
        var chunks: [String] = []
        while chunks.count < maximumChunks, let chunk = CookieHeader.best(names: [Array("\(name).\(chunks.count)".utf8)], inHeaders: headers) {
            chunks.append(chunk)
        }
        return chunks.isEmpty ? nil : chunks.joined()
    }

    /// The names among `name` and `name.N` that the request carries.
    private func presentNames(in headers: [String], base name: String) -> Set<String> {
        var names: Set<String> = []
        if CookieHeader.best(names: [Array(name.utf8)], inHeaders: headers) != nil { names.insert(name) }
        for index in 0..<maximumChunks where CookieHeader.best(names: [Array("\(name).\(index)".utf8)], inHeaders: headers) != nil {
            names.insert("\(name).\(index)")
        }
        return names
    }
}
