import Synchronization

/// Keys that can be replaced while the app runs, for rotating them (or dropping a compromised one) without a
/// restart.
///
/// Give the ring's ``keys`` to Sesame's components where they take a ``KeySet``: that set reads the ring's current
/// keys on each use, so after ``replace(with:)`` new tokens, links, cookies and sealed values use the new active key,
/// and a key no longer in the ring verifies nothing more, not even a session token the verified-token cache
/// remembers. ``KeyReloadService`` replaces the keys from their source periodically and on `SIGHUP`.
///
/// ```swift
/// let ring = KeyRing(try KeySet.load(mode: .production))
/// let sessions = try SessionTokens<AppSession>(keys: ring.keys)
/// let reload = KeyReloadService(ring: ring) { try KeySet.load(mode: .production, environment: fromMountedSecrets()) }
/// ```
///
/// Reading the keys costs a lock only when they changed since the thread last used them: the session hot path reads
/// one atomic counter, ``generation``.
public final class KeyRing: Sendable {
    private let state: Mutex<KeySet>
    private let counter: Atomic<Int>
    /// The material a verification-only ring derives its own cookie keys from (see `KeySet.derivedKey(purpose:)`).
    let fallbackSecret: [UInt8]

    /// Creates a ring holding `keys`.
    ///
    /// - Parameter keys: The first keys (a ring's own ``keys`` stands for that ring's current keys).
    public init(_ keys: KeySet) {
        state = Mutex(keys.resolved)
        counter = Atomic(1)
        fallbackSecret = RandomToken.bytes(32)
    }

    /// The set that stands for the ring's current keys: pass it to Sesame's components.
    public var keys: KeySet { KeySet(ring: self) }

    /// The keys the ring holds now, as a fixed set.
    public var current: KeySet { state.withLock { $0 } }

    /// A number that changes whenever the ring's keys are replaced (1 at first).
    public var generation: Int { counter.load(ordering: .acquiring) }

    /// Replaces the ring's keys.
    ///
    /// The new set must be able to do what the current one does: issue tokens when the current one does, with a key
    /// of the same kind (signing or encryption), since session tokens of one format cannot switch to the other.
    ///
    /// - Parameter keys: The new keys.
    /// - Returns: `false`, changing nothing, when `keys` are the keys the ring already holds (same active key, same
    ///   IDs and material, in the same order).
    /// - Throws: ``TokenError/invalidKey`` when the new set cannot replace the current one; the ring keeps its keys.
    @discardableResult
    public func replace(with keys: KeySet) throws(TokenError) -> Bool {
        let next = keys.resolved
        let result: Result<Bool, TokenError> = state.withLock { current in
            switch (current.activeKey, next.activeKey) {
            case (nil, _):
                break
            case (.some, nil):
                return .failure(TokenError.invalidKey.with(detail: "the new keys cannot issue tokens, and the current ones do"))
            case (let old?, let new?) where old.algorithm.isSigning != new.algorithm.isSigning:
                return .failure(TokenError.invalidKey.with(
                    detail: "the new active key \(new.algorithm.isSigning ? "signs" : "encrypts"), the current one \(old.algorithm.isSigning ? "signs" : "encrypts")"))
            default:
                break
            }
            // Session cookies and sealed values are keyed by private or secret material (see SessionCookieSigner).
            if current.keys.contains(where: \.isPrivate) && !next.keys.contains(where: \.isPrivate) {
                return .failure(TokenError.invalidKey.with(detail: "the new keys hold no private or secret key, and the current ones do"))
            }
            if current.activeKey?.keyID == next.activeKey?.keyID && current.jwks(includingPrivate: true) == next.jwks(includingPrivate: true) {
                return .success(false)
            }
            current = next
            // After the keys: a thread that sees the new number reads the new keys.
            counter.add(1, ordering: .releasing)
            return .success(true)
        }
        return try result.get()
    }
}
