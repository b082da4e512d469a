import Foundation
import Sesame
import Testing

extension StoreFixture {
    /// Placeholder until the Redis store lands: the suite records a failure for this store.
    static func redis() async throws -> StoreFixture {
        Issue.record("the Redis store is not written yet")
        throw CancellationError()
    }
}
