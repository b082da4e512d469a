import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP exchange with the Sesame server, as ``SesameClient`` sees it.
struct ServerResponse: Sendable {
    /// The status code.
    let status: Int
    /// The header fields, by lowercase name; `Set-Cookie` fields are in ``setCookies``.
    let headers: [String: String]
    /// Every `Set-Cookie` field.
    let setCookies: [String]
    /// The body.
    let body: Data

    /// The body as a JSON object, or `nil`.
    var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }

    /// The refusal in the body (`error`, `message`), with the status.
    var refusal: SesameClientError {
        let object = json
        return .refused(code: object?["error"] as? String ?? "http_\(status)", message: object?["message"] as? String, status: status)
    }
}

/// Sends requests to the server without following redirects (the client follows the ones it expects itself) and
/// without the shared cookie storage: the cookies of a sign-in in progress are kept by the client, for that sign-in
/// only.
struct ServerConnection: Sendable {
    let session: URLSession

    init(session: URLSession?) {
        if let session {
            self.session = session
        } else {
            let configuration = URLSessionConfiguration.ephemeral
            configuration.httpShouldSetCookies = false
            configuration.httpCookieAcceptPolicy = .never
            configuration.urlCache = nil
            configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
            configuration.timeoutIntervalForRequest = 30
            self.session = URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
        }
    }

    /// Sends a request and collects the answer.
    func send(_ request: URLRequest) async throws -> ServerResponse {
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw SesameClientError.invalidResponse("not an HTTP response") }
        var headers: [String: String] = [:]
        var setCookies: [String] = []
        for (name, value) in http.allHeaderFields {
            guard let name = name as? String, let value = value as? String else { continue }
            if name.lowercased() == "set-cookie" {
                setCookies.append(contentsOf: Self.splitSetCookie(value))
            } else {
                headers[name.lowercased()] = value
            }
        }
        return ServerResponse(status: http.statusCode, headers: headers, setCookies: setCookies, body: data)
    }

    /// Foundation joins several `Set-Cookie` fields with commas; `Expires` dates contain commas too. Splits at a comma
    /// followed by `name=`.
    static func splitSetCookie(_ value: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var index = value.startIndex
        while index < value.endIndex {
            let character = value[index]
            if character == "," {
                let rest = value[value.index(after: index)...].drop { $0 == " " }
                let name = rest.prefix { $0 != "=" && $0 != ";" && $0 != "," }
                if !name.isEmpty, rest.dropFirst(name.count).first == "=", !name.contains(" ") {
                    fields.append(current.trimmingCharacters(in: .whitespaces))
                    current = ""
                    index = value.index(after: index)
                    continue
                }
            }
            current.append(character)
            index = value.index(after: index)
        }
        if !current.trimmingCharacters(in: .whitespaces).isEmpty { fields.append(current.trimmingCharacters(in: .whitespaces)) }
        return fields
    }
}

/// Refuses every redirect: the client reads `Location` itself.
final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest,
        completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}

/// The cookies of one sign-in in progress (the flow's, the CSRF token's, the browser session's), by name.
struct CookieJar: Sendable {
    private(set) var cookies: [String: String] = [:]

    /// Takes in a response's `Set-Cookie` fields: a value, or a removal (`Max-Age=0` or an empty value).
    mutating func take(_ fields: [String]) {
        for field in fields {
            let pair = field.prefix { $0 != ";" }
            guard let equals = pair.firstIndex(of: "=") else { continue }
            let name = pair[..<equals].trimmingCharacters(in: .whitespaces)
            let value = String(pair[pair.index(after: equals)...])
            let attributes = field.lowercased()
            if value.isEmpty || attributes.contains("max-age=0") || attributes.contains("max-age=-") {
                cookies.removeValue(forKey: name)
            } else {
                cookies[name] = value
            }
        }
    }

    /// The `Cookie` field, or `nil` when empty.
    var header: String? { cookies.isEmpty ? nil : cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }

    mutating func removeAll() { cookies = [:] }
}
