import Tracing

/// A session store whose every operation is timed and whose failures are counted
/// (`sesame_store_operation_duration_seconds` and `sesame_store_failures_total`, labelled with the wrapped store's
/// type name and the operation).
///
/// ``StoredSessions`` and ``NativeAppSessions`` wrap their store in one when their metrics are enabled; wrap a store
/// yourself to measure other uses of it.
public struct MeasuredSessionStore: SessionStore {
    /// The store that does the work.
    public let base: any SessionStore
    /// The `store` label: the wrapped store's type name, for example `RedisSessionStore`.
    public let name: String
    private let operations: [StoreOperationMetrics]

    /// Wraps `base`.
    ///
    /// - Parameters:
    ///   - base: The store to measure (a store that is already measured is not wrapped twice).
    ///   - metrics: Where the timings and failures go.
    ///   - tracer: Where each call's `sesame.store.OPERATION` span goes (default: the tracer
    ///     `InstrumentationSystem.bootstrap` installed; `nil` for none).
    public init(_ base: any SessionStore, metrics: SesameMetrics, tracer: (any Tracer)? = InstrumentationSystem.tracer) {
        if let measured = base as? MeasuredSessionStore {
            self.base = measured.base
            self.name = measured.name
        } else {
            self.base = base
            self.name = String(describing: type(of: base))
        }
        let name = self.name
        operations = Self.operationNames.map { metrics.storeOperation(store: name, operation: $0, tracer: tracer is NoOpTracer ? nil : tracer) }
    }

    private static let operationNames = ["get", "create", "update", "replace", "delete", "delete_group", "list_group"]

    public func get(_ key: String) async throws -> SessionRecord? {
        try await operations[0].measure { try await base.get(key) }
    }

    public func create(_ record: SessionRecord) async throws {
        try await operations[1].measure { try await base.create(record) }
    }

    public func update(_ record: SessionRecord) async throws -> Bool {
        try await operations[2].measure { try await base.update(record) }
    }

    public func replace(_ record: SessionRecord, expectedValue: [UInt8]) async throws -> Bool {
        try await operations[3].measure { try await base.replace(record, expectedValue: expectedValue) }
    }

    public func delete(_ key: String) async throws {
        try await operations[4].measure { try await base.delete(key) }
    }

    public func deleteGroup(_ group: String) async throws -> Int {
        try await operations[5].measure { try await base.deleteGroup(group) }
    }

    public func listGroup(_ group: String) async throws -> [SessionRecord] {
        try await operations[6].measure { try await base.listGroup(group) }
    }
}

extension SesameMetrics {
    /// `store` measured by these metrics and traced by the tracer `InstrumentationSystem.bootstrap` installed (a
    /// ``MeasuredSessionStore``); `store` itself when there are neither, or when it is measured already.
    public func measuring(_ store: any SessionStore) -> any SessionStore {
        let tracer = InstrumentationSystem.tracer
        guard isEnabled || !(tracer is NoOpTracer), !(store is MeasuredSessionStore) else { return store }
        return MeasuredSessionStore(store, metrics: self, tracer: tracer)
    }

    /// `store` measured by these metrics and traced by the tracer `InstrumentationSystem.bootstrap` installed (a
    /// ``MeasuredAccountStore``); `store` itself when there are neither, or when it is measured already.
    public func measuring(_ store: any AccountStore) -> any AccountStore {
        let tracer = InstrumentationSystem.tracer
        guard isEnabled || !(tracer is NoOpTracer), !(store is MeasuredAccountStore) else { return store }
        return MeasuredAccountStore(store, metrics: self, tracer: tracer)
    }
}
