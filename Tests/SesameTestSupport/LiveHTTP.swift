import AsyncHTTPClient
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Real servers on loopback for the integration tests of both frameworks.
public enum LivePorts {
    /// The next port to try: below Linux's ephemeral range (32768 and up), which outgoing connections (to the
    /// test provider, Redis, PostgreSQL) draw from, and never the same twice in one test process.
    private static let next = Atomic(20_000 + Int.random(in: 0..<10_000))

    /// A loopback port that was free a moment ago and that no other test of this process has been given.
    public static func free() async throws -> Int {
        while true {
            let port = next.wrappingAdd(1, ordering: .relaxed).oldValue
            if let channel = try? await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: port).get() {
                try await channel.close()
                return port
            }
        }
    }
}

/// A response read in full.
public struct LiveResponse: Sendable {
    public let status: HTTPResponse.Status
    public let headers: HTTPHeaders
    public let text: String

    public var cookies: [String] { headers["set-cookie"] }
    public var sessionCookie: String? {
        cookies.first { $0.hasPrefix("sesame-session=") }.map { String($0.prefix { $0 != ";" }) }
    }
}

extension HTTPClient {
    /// Sends a request to the live server, retrying the connection while the server starts.
    public func send(_ url: String, method: HTTPMethod = .GET, headers: [(String, String)] = [], body: String? = nil) async throws -> LiveResponse {
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
                // Only connection failures while the server starts are retried: refused, or (for a GET, which
                // is safe to repeat) reset by a listener on the same port that is still closing.
                let retryable = "\(error)".contains("refused") || (method == .GET && "\(error)".contains("reset by peer"))
                guard attempt < 50, retryable else { throw error }
                try await _Concurrency.Task.sleep(for: .milliseconds(100))
            }
        }
    }
}
