import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOPosix

/// A real server on a free loopback port, and an AsyncHTTPClient that does not follow redirects.
enum LiveServer {
    /// A loopback port that was free a moment ago.
    static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        try await channel.close()
        return port
    }

    /// Runs `app` (listening on `port`) for the duration of `test`.
    @discardableResult
    static func run<App: ApplicationProtocol, Result: Sendable>(_ app: App, test: @Sendable (HTTPClient) async throws -> Result) async throws -> Result {
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        let result: Result
        do {
            result = try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await app.runService() }
                let result = try await test(client)
                group.cancelAll()
                return result
            }
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
        return result
    }
}

/// A response read in full.
struct LiveResponse {
    let status: HTTPResponse.Status
    let headers: HTTPHeaders
    let text: String

    var cookies: [String] { headers["set-cookie"] }
    var sessionCookie: String? {
        cookies.first { $0.hasPrefix("sesame-session=") }.map { String($0.prefix { $0 != ";" }) }
    }
}

extension HTTPClient {
    /// Sends a request to the live server, retrying the connection while the server starts.
    func send(_ url: String, method: HTTPMethod = .GET, headers: [(String, String)] = [], body: String? = nil) async throws -> LiveResponse {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        var attempt = 0
        while true {
            do {
                let response = try await execute(request, timeout: .seconds(10))
                let body = try await response.body.collect(upTo: 1 << 20)
                return LiveResponse(status: HTTPResponse.Status(code: Int(response.status.code)), headers: response.headers, text: String(buffer: body))
            } catch {
                attempt += 1
                // Only connection failures while the server starts are retried.
                guard attempt < 50, "\(error)".contains("refused") else { throw error }
                try await _Concurrency.Task.sleep(for: .milliseconds(100))
            }
        }
    }
}
