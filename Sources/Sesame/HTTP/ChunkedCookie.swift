import HTTPTypes

/// A cookie too large for one `Set-Cookie`, split into `name.0`, `name.1`, … and put back together on read.
///
/// Browsers keep at most about 4096 bytes per cookie, name and attributes included. A value that fits is set
/// whole; a larger one is split into chunks of at most ``chunkSize`` characters. Either way, the cookies of the
/// other shape that the request carried (the whole cookie, or chunks beyond the new count) are cleared, so a
/// value that shrinks leaves nothing stale behind.
public struct ChunkedCookie: Sendable {
    /// The cookie's options.
    public let cookie: SessionCookie
    /// The most value characters in one cookie (default 3,900, leaving room for the name and attributes).
    public let chunkSize: Int
    /// The most chunks read back (a request with more is not believed).
    public let maximumChunks: Int

    /// Creates chunking for a cookie.
    public init(cookie: SessionCookie, chunkSize: Int = 3_900, maximumChunks: Int = 8) {
        self.cookie = cookie
        self.chunkSize = chunkSize
        self.maximumChunks = maximumChunks
    }

    /// The `Set-Cookie` values that store `value`, and clear what the request carried that is now stale.
    ///
    /// - Parameters:
    ///   - value: The cookie value (already cookie-safe, such as a compact JWS).
    ///   - maxAge: Seconds the cookie lives.
    ///   - secure: Whether the cookie is `Secure`.
    ///   - request: The request being answered, for its existing chunks.
    public func setCookies(_ value: String, maxAge: Int, secure: Bool, replacing request: HTTPRequest?) -> [String] {
        let name = cookie.effectiveName(secure: secure)
        let present = request.map { presentNames(in: $0, base: name) } ?? []
        let characters = Array(value.utf8)
        var result: [String] = []
        var written: Set<String> = []
        if characters.count <= chunkSize {
            result.append(cookie.setCookie(value, maxAge: maxAge, secure: secure))
            written.insert(name)
        } else {
            var index = 0
            var offset = 0
            while offset < characters.count {
                let chunk = String(decoding: characters[offset..<min(offset + chunkSize, characters.count)], as: UTF8.self)
                result.append(cookie.setCookie(named: "\(name).\(index)", chunk, maxAge: maxAge, secure: secure))
                written.insert("\(name).\(index)")
                index += 1
                offset += chunkSize
            }
        }
        for stale in present.sorted() where !written.contains(stale) {
            result.append(cookie.setCookie(named: stale, "", maxAge: 0, secure: secure))
        }
        return result
    }

    /// The `Set-Cookie` values that clear the chunks (`name.N`) a request carries, for a sign-out.
    ///
    /// - Parameters:
    ///   - request: The request.
    ///   - secure: Whether the cookie is `Secure` (and so under its `__Host-` name).
    public func clearingChunks(in request: HTTPRequest, secure: Bool) -> [String] {
        let name = cookie.effectiveName(secure: secure)
        return presentNames(in: request, base: name).subtracting([name]).sorted().map {
            cookie.setCookie(named: $0, "", maxAge: 0, secure: secure)
        }
    }

    /// The value a request carries, whole or reassembled from consecutive chunks.
    ///
    /// - Parameters:
    ///   - request: The request.
    ///   - secure: Whether to look for the `__Host-` name first.
    public func value(in request: HTTPRequest, secure: Bool = true) -> String? {
        value(inHeaders: request.headerFields[values: .cookie], secure: secure)
    }

    /// The value that the `Cookie` fields `headers` carry, whole or reassembled from consecutive chunks.
    ///
    /// - Parameters:
    ///   - headers: The values of a request's `Cookie` fields.
    ///   - secure: Whether to look for the `__Host-` name first.
    public func value(inHeaders headers: [String], secure: Bool = true) -> String? {
        for name in cookie.acceptedNames where secure || !name.hasPrefix("__Host-") {
            if let whole = CookieHeader.best(names: [Array(name.utf8)], inHeaders: headers) { return whole }
            var chunks: [String] = []
            while chunks.count < maximumChunks, let chunk = CookieHeader.best(names: [Array("\(name).\(chunks.count)".utf8)], inHeaders: headers) {
                chunks.append(chunk)
            }
            if !chunks.isEmpty { return chunks.joined() }
        }
        return nil
    }

    /// The names among `name` and `name.N` that the request carries.
    private func presentNames(in request: HTTPRequest, base name: String) -> Set<String> {
        var names: Set<String> = []
        if CookieHeader.best(names: [Array(name.utf8)], in: request.headerFields) != nil { names.insert(name) }
        for index in 0..<maximumChunks where CookieHeader.best(names: [Array("\(name).\(index)".utf8)], in: request.headerFields) != nil {
            names.insert("\(name).\(index)")
        }
        return names
    }
}
