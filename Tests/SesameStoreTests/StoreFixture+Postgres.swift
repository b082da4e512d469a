import Foundation
import Sesame
import Testing

extension StoreFixture {
    /// Placeholder until the Postgres store lands: the suite records a failure for this store.
    static func postgres() async throws -> StoreFixture {
        Issue.record("the Postgres store is not written yet")
        throw CancellationError()
    }
}
