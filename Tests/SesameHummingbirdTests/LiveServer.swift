import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOPosix
import SesameTestSupport

/// A real server on a free loopback port, and an AsyncHTTPClient that does not follow redirects.
enum LiveServer {
    /// A loopback port that was free a moment ago.
    static func freePort() async throws -> Int { try await LivePorts.free() }

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
