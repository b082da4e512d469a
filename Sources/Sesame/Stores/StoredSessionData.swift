import Foundation
import Synchronization

/// The app's data in the current request's store-backed session: typed by the strategy that stores it, read and
/// written anywhere below the session middleware.
///
/// Get it from the strategy, so the compiler ties the data's type to the store's:
///
/// ```swift
/// struct Cart: Codable, Sendable, Equatable { var items: [String] = [] }
/// let sessions = StoredSessions<AppSession, Cart>(store: store, signer: signer)
///
/// let cart = sessions.data.current ?? Cart()
/// try sessions.data.update { cart in cart = (cart ?? Cart()); cart!.items.append("tea") }
/// ```
///
/// Nothing is written unless the data changed: the session flow compares what the handler left with what was
/// loaded. Setting data on a request without a session starts an anonymous session.
public struct StoredSessionData<Value: Codable & Sendable & Equatable>: Sendable {
    /// The strategy whose requests this reads (its identity).
    let owner: AnyObject & Sendable

    init(owner: AnyObject & Sendable) {
        self.owner = owner
    }

    /// The current session's data, or `nil` when it has none (or outside a request that this strategy resolved).
    public var current: Value? {
        state?.data
    }

    /// Replaces the current session's data (`nil` removes it).
    ///
    /// - Parameter value: The new data.
    /// - Throws: ``AuthError/unavailable`` outside a request that this strategy resolved, or when the store could
    ///   not be read for this request.
    public func set(_ value: Value?) throws(AuthError) {
        guard let state, !state.isUnavailable else {
            throw AuthError.unavailable.with(detail: "no store-backed session for this request")
        }
        state.set(value)
    }

    /// Changes the current session's data in place.
    ///
    /// - Parameter body: Receives the data (`nil` when there is none) to change.
    /// - Throws: As ``set(_:)``.
    public func update(_ body: (inout Value?) -> Void) throws(AuthError) {
        var value = current
        body(&value)
        try set(value)
    }

    /// The request's state, when this strategy made it: then it holds `Value`, by construction (a strategy makes
    /// states of its own data type only), so the cast cannot fail.
    var state: StoredSessionState<Value>? {
        guard let state = CurrentSession.state, state.owner === owner else { return nil }
        return unsafeDowncast(state, to: StoredSessionState<Value>.self)
    }
}

/// The per-request state of a store-backed session: what was loaded, and the data as the handler left it.
final class StoredSessionState<Data: Codable & Sendable & Equatable>: SessionScopeState, @unchecked Sendable {
    struct Loaded: Sendable {
        let key: String
        let secret: [UInt8]
        let value: StoredSessionValue<Data>
        let encodedData: [UInt8]?
    }

    struct Change {
        /// Whether the handler set the data at all.
        var touched = false
        var encodedData: [UInt8]? = nil
        /// Whether the session was signed in or out during the request (nothing more to save).
        var ended = false
    }

    private struct Mutable {
        var data: Data?
        var decoded = false
        var change = Change()
    }

    let loaded: Loaded?
    let isUnavailable: Bool
    private let mutable = Mutex(Mutable())

    init(owner: AnyObject, loaded: Loaded?, isUnavailable: Bool = false) {
        self.loaded = loaded
        self.isUnavailable = isUnavailable
        super.init(owner: owner)
    }

    /// The data, decoded on first use.
    var data: Data? {
        mutable.withLock { mutable in
            if !mutable.decoded {
                mutable.decoded = true
                mutable.data = loaded?.encodedData.flatMap { try? JSONValueDecoder().decode(Data.self, from: JSONValue(parsing: $0)) }
            }
            return mutable.data
        }
    }

    func set(_ value: Data?) {
        let encoded = value.flatMap { try? JSONValueEncoder().encode($0).jsonBytes }
        mutable.withLock { mutable in
            mutable.decoded = true
            mutable.data = value
            mutable.change.touched = true
            mutable.change.encodedData = encoded
        }
    }

    func end() {
        mutable.withLock { $0.change.ended = true }
    }

    func change() -> Change {
        mutable.withLock { $0.change }
    }
}
