#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HTTPTypes
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import Testing

@testable import Sesame

/// A `KeyRing`'s keys replaced while the app runs: everything made from its set follows (session tokens and their
/// cache, stored-session cookies, CSRF tokens, flow state, sealed values), a dropped key verifies nothing more, a set
/// that cannot replace the current one is refused, and `KeyReloadService` loads on its interval and its signal and
/// stops on shutdown.
@Suite struct KeyRingTests {
    enum Subject: SessionSubject, Equatable { case user(id: String) }

    static func rotation() throws -> (old: JWK, new: JWK) { (try JWK.generate(.es256), try JWK.generate(.es256)) }

    /// The `kid` in a compact token's header.
    static func keyID(of token: String) -> String? {
        guard let header = token.split(separator: ".").first.flatMap({ Base64URL.decode($0) }) else { return nil }
        return (try? JSONValue(parsing: header))?["kid"]?.stringValue
    }

    @Test func sessionTokensFollowTheRingAndADroppedKeyVerifiesNothingEvenCached() async throws {
        let (old, new) = try Self.rotation()
        let ring = KeyRing(try KeySet(activeKey: old))
        let sessions = try SessionTokens<Subject>(keys: ring.keys)
        let before = try sessions.create(.user(id: "1"))
        #expect(try await sessions.verify(before).subject == .user(id: "1"))
        #expect(sessions.cacheStatistics.entries == 1)

        // Rotation: the new key signs, the old one still verifies.
        #expect(try ring.replace(with: KeySet(activeKey: new, verificationKeys: [old.publicKey!])))
        #expect(ring.generation == 2)
        let after = try sessions.create(.user(id: "2"))
        #expect(Self.keyID(of: after) == new.keyID && Self.keyID(of: before) == old.keyID)
        #expect(try await sessions.verify(before).subject == .user(id: "1"))
        #expect(try await sessions.verify(after).subject == .user(id: "2"))

        // The old key dropped: its token is refused although the cache verified it before.
        #expect(try ring.replace(with: KeySet(activeKey: new)))
        await #expect(throws: TokenError.unknownKeyID) { try await sessions.verify(before) }
        #expect(try await sessions.verify(after).subject == .user(id: "2"))
        // A fixed set made before is not affected: it is a value.
        let fixed = try SessionTokens<Subject>(keys: KeySet(activeKey: old))
        #expect(try await fixed.verify(before).subject == .user(id: "1"))
    }

    @Test func aSetThatCannotReplaceTheCurrentOneIsRefusedAndTheSameKeysChangeNothing() throws {
        let (old, new) = try Self.rotation()
        let ring = KeyRing(try KeySet(activeKey: old))
        // Session tokens of one format cannot switch: a signing ring takes no encryption key.
        #expect(throws: TokenError.invalidKey) { try ring.replace(with: KeySet(activeKey: JWK.generate(.a256gcm))) }
        // An issuing ring does not become verification-only.
        #expect(throws: TokenError.invalidKey) { try ring.replace(with: KeySet(verificationKeys: [new.publicKey!])) }
        #expect(ring.generation == 1 && ring.current.activeKey?.keyID == old.keyID)
        // The same keys again: nothing changes, so caches and derived keys stay warm.
        #expect(try ring.replace(with: KeySet(activeKey: old)) == false)
        #expect(ring.generation == 1)
        // A ring's own set stands for its current keys.
        #expect(try ring.replace(with: KeyRing(KeySet(activeKey: new)).keys))
        #expect(ring.keys.activeKey?.keyID == new.keyID && ring.keys.keys.map(\.keyID) == [new.keyID])
    }

    @Test func storedSessionCookiesCSRFTokensFlowKeysAndSealedValuesFollowTheRing() throws {
        let (old, new) = try Self.rotation()
        let ring = KeyRing(try KeySet(activeKey: old))
        let signer = SessionCookieSigner(keys: ring.keys)
        let csrf = CSRFProtection(keys: ring.keys, cookie: SessionCookie(name: "sesame-csrf", baseURL: "http://127.0.0.1"))
        let sealer = PurposeSealer(keys: ring.keys, purpose: "test/v1")
        let handler = AuthHandler(providers: [:], configuration: AuthConfiguration(baseURL: "http://127.0.0.1"), keys: ring.keys) { _ in .json([:]) }
        let flowKeyBefore = try #require(handler.flowKeys.value.first)

        let secret = SessionCookieSigner.newSecret()
        let cookie = signer.cookieValue(for: secret)
        let (token, setCookie) = csrf.token(for: HTTPRequest(method: .get, scheme: "http", authority: "127.0.0.1", path: "/"))
        var withCSRF = HTTPRequest(method: .post, scheme: "http", authority: "127.0.0.1", path: "/")
        withCSRF.headerFields[.cookie] = String(try #require(setCookie).prefix { $0 != ";" })
        let sealed = try sealer.seal([1, 2, 3], for: ["row"])
        #expect(csrf.verify(withCSRF, submitted: token))

        // Rotation with the old key kept: everything made before still checks; new cookies use the new key.
        try ring.replace(with: KeySet(activeKey: new, verificationKeys: [old]))
        #expect(signer.secret(fromCookie: cookie) == secret)
        #expect(sealer.open(sealed, for: ["row"]) == [1, 2, 3])
        let newCookie = signer.cookieValue(for: secret)
        #expect(newCookie != cookie)
        #expect(SessionCookieSigner(keys: try KeySet(activeKey: old)).secret(fromCookie: newCookie) == nil)
        // CSRF tokens and sign-ins in progress (flow state) made under the old key still check.
        #expect(csrf.verify(withCSRF, submitted: token))
        #expect(handler.flowKeys.value.map(\.secretBytes) != [flowKeyBefore.secretBytes])
        #expect(handler.flowKeys.value.count == 2 && handler.flowKeys.value[1].secretBytes == flowKeyBefore.secretBytes)

        // The old key dropped: nothing it made opens or verifies.
        try ring.replace(with: KeySet(activeKey: new))
        #expect(signer.secret(fromCookie: cookie) == nil)
        #expect(signer.secret(fromCookie: newCookie) == secret)
        #expect(sealer.open(sealed, for: ["row"]) == nil)
        #expect(!csrf.verify(withCSRF, submitted: token))
        #expect(handler.flowKeys.value.count == 1 && handler.flowKeys.value[0].secretBytes != flowKeyBefore.secretBytes)
        // What is made now checks under the new keys, from any thread's derivation.
        #expect(sealer.open(try sealer.seal([4], for: ["row"]), for: ["row"]) == [4])
    }

    @Test func storedSessionsRefuseACookieWhoseKeyWasDroppedEvenOnceVerified() async throws {
        let (old, new) = try Self.rotation()
        let ring = KeyRing(try KeySet(activeKey: old))
        let sessions = StoredSessions<Subject, [String]>(
            store: MemorySessionStore(), signer: SessionCookieSigner(keys: ring.keys),
            configuration: StoredSessionConfiguration(cookie: SessionCookie(name: "sid", baseURL: "http://127.0.0.1")))
        let signIn = try await sessions.signIn(.user(id: "1"), request: HTTPRequest(method: .post, scheme: "http", authority: "127.0.0.1", path: "/"), redirect: "/")
        var request = HTTPRequest(method: .get, scheme: "http", authority: "127.0.0.1", path: "/")
        request.headerFields[.cookie] = String(try #require(signIn.headerFields[.setCookie]).prefix { $0 != ";" })
        #expect(await sessions.resolve(request).session?.subject == .user(id: "1"))
        // Kept for verification: the session goes on. Dropped: it ends, although its cookie was verified before.
        try ring.replace(with: KeySet(activeKey: new, verificationKeys: [old]))
        #expect(await sessions.resolve(request).session?.subject == .user(id: "1"))
        try ring.replace(with: KeySet(activeKey: new))
        #expect(await sessions.resolve(request).session == nil)
    }

    @Test func aRingThatBecomesAbleToIssueIsAReplacement() throws {
        let (old, new) = try Self.rotation()
        // Verification-only, then the same keys with one of them active: a change, not "the same keys".
        let ring = KeyRing(try KeySet(verificationKeys: [old, new]))
        #expect(try ring.replace(with: KeySet(activeKey: old, verificationKeys: [new])))
        #expect(ring.current.activeKey?.keyID == old.keyID)
    }

    /// A loader the tests steer: it hands out `keys` (or fails) and announces each call.
    final class Loader: Sendable {
        let calls: AsyncStream<Int>
        private let announce: AsyncStream<Int>.Continuation
        private let state: Mutex<(count: Int, keys: KeySet?)>

        init(_ keys: KeySet) {
            (calls, announce) = AsyncStream.makeStream(of: Int.self)
            state = Mutex((0, keys))
        }

        func serve(_ keys: KeySet?) { state.withLock { $0.keys = keys } }

        func load() throws -> KeySet {
            let (count, keys) = state.withLock { state in
                state.count += 1
                return (state.count, state.keys)
            }
            defer { announce.yield(count) }
            guard let keys else { throw TokenError.invalidKey.with(detail: "half-written file") }
            return keys
        }
    }

    @Test func theServiceLoadsOnItsIntervalKeepsTheKeysWhenALoadFailsAndStopsOnShutdown() async throws {
        let (old, new) = try Self.rotation()
        let ring = KeyRing(try KeySet(activeKey: old))
        let loader = Loader(try KeySet(activeKey: new, verificationKeys: [old]))
        let service = KeyReloadService(ring: ring, interval: .milliseconds(1), signal: nil) { try loader.load() }
        await testGracefulShutdown { trigger in
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await service.run() }
                var calls = loader.calls.makeAsyncIterator()
                // The second load begins after the first one's keys are in the ring.
                _ = await calls.next()
                loader.serve(nil)
                _ = await calls.next()
                #expect(ring.current.activeKey?.keyID == new.keyID)
                let generation = ring.generation
                // Failed loads keep the keys.
                _ = await calls.next()
                _ = await calls.next()
                #expect(ring.current.activeKey?.keyID == new.keyID && ring.generation == generation)
                trigger.triggerGracefulShutdown()
                await group.waitForAll()
            }
        }
    }

    @Test func theSignalTriggersALoad() async throws {
        let (old, new) = try Self.rotation()
        let ring = KeyRing(try KeySet(activeKey: old))
        let loader = Loader(try KeySet(activeKey: new))
        // SIGWINCH, whose default is to be ignored: sent before the service traps it, it does nothing.
        let service = KeyReloadService(ring: ring, interval: nil, signal: .sigwinch) { try loader.load() }
        let running = Task { await service.run() }
        let sender = Task {
            while !Task.isCancelled {
                kill(getpid(), SIGWINCH)
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        var calls = loader.calls.makeAsyncIterator()
        _ = await calls.next()
        _ = await calls.next()
        sender.cancel()
        #expect(ring.current.activeKey?.keyID == new.keyID)
        running.cancel()
        await running.value
    }

    @Test func reloadOnceReportsWhetherTheKeysChanged() async throws {
        let (old, new) = try Self.rotation()
        let ring = KeyRing(try KeySet(activeKey: old))
        let loader = Loader(try KeySet(activeKey: old))
        let service = KeyReloadService(ring: ring) { try loader.load() }
        #expect(try await service.reloadOnce() == false)
        loader.serve(try KeySet(activeKey: new))
        #expect(try await service.reloadOnce() == true)
        loader.serve(nil)
        await #expect(throws: TokenError.invalidKey) { try await service.reloadOnce() }
        #expect(ring.current.activeKey?.keyID == new.keyID)
    }
}
