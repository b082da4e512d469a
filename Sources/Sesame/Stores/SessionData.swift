import Foundation
import Synchronization

/// The app's data in the current request's store-backed session: typed, read and written anywhere below the
/// session middleware.
///
/// ```swift
/// struct Cart: Codable, Sendable, Equatable { var items: [String] = [] }
///
/// let cart = SessionData<Cart>.current ?? Cart()
/// try SessionData<Cart>.update { cart in cart = (cart ?? Cart()); cart!.items.append("tea") }
/// ```
///
/// Nothing is written unless the data changed: the middleware compares what the handler left with what was
/// loaded. Setting data on a request without a session starts an anonymous session.
public enum SessionData<Value: Codable & Sendable & Equatable> {
    /// The current session's data, or `nil` when it has none (or outside a store-backed session middleware).
    public static var current: Value? {
        StoredSessionState<Value>.current?.data
    }

    /// Replaces the current session's data (`nil` removes it).
    ///
    /// - Parameter value: The new data.
    /// - Throws: ``AuthError/unavailable`` outside a request handled by a store-backed session middleware, or
    ///   when the store could not be read for this request.
    public static func set(_ value: Value?) throws(AuthError) {
        guard let state = StoredSessionState<Value>.current, !state.isUnavailable else {
            throw AuthError.unavailable.with(detail: "no store-backed session for this request")
        }
        state.set(value)
    }

    /// Changes the current session's data in place.
    ///
    /// - Parameter body: Receives the data (`nil` when there is none) to change.
    /// - Throws: As ``set(_:)``.
    public static func update(_ body: (inout Value?) -> Void) throws(AuthError) {
        var value = current
        body(&value)
        try set(value)
    }
}

/// The per-request state of a store-backed session: what was loaded, and the data as the handler left it.
final class StoredSessionState<Data: Codable & Sendable & Equatable>: Sendable {
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

    init(loaded: Loaded?) {
        self.loaded = loaded
        self.isUnavailable = false
    }

    init(unavailable: Void) {
        self.loaded = nil
        self.isUnavailable = true
    }

    /// The state of the request being handled, whatever its subject type.
    static var current: StoredSessionState<Data>? {
        (CurrentSession.box.get() as? any CurrentSessionStateCarrier)?.state as? StoredSessionState<Data>
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

/// A task-local box that can hand out its strategy state without knowing the subject type.
protocol CurrentSessionStateCarrier: AnyObject {
    var state: (any AnyObject & Sendable)? { get }
}

extension CurrentSession.Box: CurrentSessionStateCarrier {
    var state: (any AnyObject & Sendable)? { resolution.state }
}
