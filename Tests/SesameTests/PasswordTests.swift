import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing

@testable import Sesame

/// Password hashing (scrypt, PHC strings), the hashing queue, and the password policy.
@Suite(.timeLimit(.minutes(2))) struct PasswordTests {
    /// Cheap parameters for tests; the OWASP defaults cost about a tenth of a second per hash.
    static let cheap = ScryptParameters(logN: 10, blockSize: 8, parallelism: 1)

    @Test func scryptMatchesRFC7914() throws {
        // RFC 7914 §12, vectors 1–3 (vector 4, N = 2^20, needs 1 GiB).
        #expect(try ScryptPasswordHasher.derive([], salt: [], parameters: ScryptParameters(logN: 4, blockSize: 1, parallelism: 1), length: 64)
            == hexBytes("77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"))
        #expect(try ScryptPasswordHasher.derive(Array("password".utf8), salt: Array("NaCl".utf8), parameters: ScryptParameters(logN: 10, blockSize: 8, parallelism: 16), length: 64)
            == hexBytes("fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"))
        #expect(try ScryptPasswordHasher.derive(Array("pleaseletmein".utf8), salt: Array("SodiumChloride".utf8), parameters: ScryptParameters(logN: 14, blockSize: 8, parallelism: 1), length: 64)
            == hexBytes("7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887"))
    }

    @Test func verifiesAHashAnotherImplementationWrote() async throws {
        // Written by Python's hashlib.scrypt (OpenSSL): salt 00 01 … 0f, N = 2^10, r = 8, p = 1, 32 bytes.
        let stored = "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$0cPffFDSaYqkmyrRZkBSNaO8laiNrS0cK2e72ukB2Qk"
        let hasher = ScryptPasswordHasher(parameters: Self.cheap, queue: .forTests)
        #expect(try await hasher.verify("fish-and-chips-42", against: stored) == .valid(replacement: nil))
        #expect(try await hasher.verify("fish-and-chips-43", against: stored) == .invalid)
    }

    @Test func hashesVerifyAndNormalise() async throws {
        let hasher = ScryptPasswordHasher(parameters: Self.cheap, queue: .forTests)
        let stored = try await hasher.hash("ﬁsh-and-chips-42")  // with the "fi" ligature
        #expect(stored.hasPrefix("$scrypt$ln=10,r=8,p=1$"))
        let record = try #require(PasswordHashString(parsing: stored))
        #expect(record.salt.count == 16 && record.hash.count == 32)
        #expect(try await hasher.verify("fish-and-chips-42", against: stored) == .valid(replacement: nil), "NFKC: the ligature is f + i")
        #expect(try await hasher.verify("fish-and-chips-4", against: stored) == .invalid)
        #expect(try await hasher.verify("", against: stored) == .invalid)
        // A new salt every time.
        #expect(try await hasher.hash("fish-and-chips-42") != stored)
    }

    @Test func aHashWithOtherParametersIsReplacedOnSignIn() async throws {
        let old = try await ScryptPasswordHasher(parameters: Self.cheap, queue: .forTests).hash("correct horse battery staple")
        let current = ScryptPasswordHasher(parameters: ScryptParameters(logN: 11, blockSize: 8, parallelism: 1), queue: .forTests)
        guard case .valid(let replacement?) = try await current.verify("correct horse battery staple", against: old) else {
            Issue.record("expected a replacement hash")
            return
        }
        #expect(replacement.hasPrefix("$scrypt$ln=11,r=8,p=1$"))
        #expect(try await current.verify("correct horse battery staple", against: replacement) == .valid(replacement: nil))
        // A wrong password is invalid whatever the parameters, and gets no replacement.
        #expect(try await current.verify("wrong horse battery staple", against: old) == .invalid)
    }

    @Test(arguments: [
        "",
        "$scrypt$",
        "scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$0cPffFDSaYqkmyrRZkBSNaO8laiNrS0cK2e72ukB2Qk",
        "$argon2id$v=19$m=65536,t=3,p=4$AAECAwQFBgcICQoLDA0ODw$0cPffFDSaYqkmyrRZkBSNaO8laiNrS0cK2e72ukB2Qk",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        "$scrypt$ln=10,r=8$AAECAwQFBgcICQoLDA0ODw$0cPffFDSaYqkmyrRZkBSNaO8laiNrS0cK2e72ukB2Qk",
        "$scrypt$ln=10,r=8,p=1,x=1$AAECAwQFBgcICQoLDA0ODw$0cPffFDSaYqkmyrRZkBSNaO8laiNrS0cK2e72ukB2Qk",
        "$scrypt$r=8,ln=10,p=1$AAECAwQFBgcICQoLDA0ODw$0cPffFDSaYqkmyrRZkBSNaO8laiNrS0cK2e72ukB2Qk",
        "$scrypt$ln=010,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$0cPffFDSaYqkmyrRZkBSNaO8laiNrS0cK2e72ukB2Qk",
        "$scrypt$ln=+10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$0cPffFDSaYqkmyrRZkBSNaO8laiNrS0cK2e72ukB2Qk",
        "$scrypt$ln=0,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$0cPffFDSaYqkmyrRZkBSNaO8laiNrS0cK2e72ukB2Qk",
        "$scrypt$ln=40,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$0cPffFDSaYqkmyrRZkBSNaO8laiNrS0cK2e72ukB2Qk",
        "$scrypt$ln=21,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$0cPffFDSaYqkmyrRZkBSNaO8laiNrS0cK2e72ukB2Qk",
        "$scrypt$ln=10,r=0,p=1$AAECAwQFBgcICQoLDA0ODw$0cPffFDSaYqkmyrRZkBSNaO8laiNrS0cK2e72ukB2Qk",
        "$scrypt$ln=10,r=8,p=0$AAECAwQFBgcICQoLDA0ODw$0cPffFDSaYqkmyrRZkBSNaO8laiNrS0cK2e72ukB2Qk",
        "$scrypt$ln=10,r=8,p=99999999999$AAECAwQFBgcICQoLDA0ODw$0cPffFDSaYqkmyrRZkBSNaO8laiNrS0cK2e72ukB2Qk",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$0cPffFDSaYqkmyrRZkBSNaO8laiNrS0cK2e72ukB2Qk",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODx$0cPffFDSaYqkmyrRZkBSNaO8laiNrS0cK2e72ukB2Qk",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0OD-$0cPffFDSaYqkmyrRZkBSNaO8laiNrS0cK2e72ukB2Qk",
        "$scrypt$ln=10,r=8,p=1$AAECAw$0cPffFDSaYqkmyrRZkBSNaO8laiNrS0cK2e72ukB2Qk",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$0cPffFDSaYqkmyrR",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$0cPffFDSaYqkmyrRZkBSNaO8laiNrS0cK2e72ukB2Qk$",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$0cPffFDSaYqkmyrRZkBSNaO8laiNrS0cK2e72ukB2Qk ",
        "$scrypt$ln=10,r=8,p=1$$0cPffFDSaYqkmyrRZkBSNaO8laiNrS0cK2e72ukB2Qk",
    ])
    func malformedStoredHashesAreInvalidWithoutComputing(_ stored: String) async throws {
        // A queue that refuses all work: an invalid string must be answered before anything is computed.
        let hasher = ScryptPasswordHasher(parameters: Self.cheap, queue: PasswordHashingQueue(maximumConcurrent: 1, maximumWaiting: 0))
        #expect(PasswordHashString(parsing: stored) == nil)
        #expect(try await hasher.verify("fish-and-chips-42", against: stored) == .invalid)
    }

    @Test func aFullQueueRefusesWithRetryAfterAndRunsNothing() async throws {
        let queue = PasswordHashingQueue(maximumConcurrent: 1, maximumWaiting: 1)
        let gate = Gate()
        async let first = queue.run { gate.pass() }
        async let second = queue.run { gate.pass() }
        while queue.load < 2 { try await Task.sleep(for: .milliseconds(1)) }
        // Running one, waiting one: the third is refused at once.
        await #expect(throws: AuthError.serverBusy) { try await queue.run { gate.pass() } }
        let refusal = AuthError.serverBusy.jsonResponse
        #expect(refusal.head.status == .serviceUnavailable)
        #expect(refusal.head.headerFields[.retryAfter] == "1")
        gate.release.store(true, ordering: .releasing)
        #expect(try await Set([first, second]) == [1, 2])
        #expect(gate.passed.load(ordering: .relaxed) == 2, "the refused hash never ran")
        #expect(queue.load == 0)
        // With room again, work runs.
        #expect(try await queue.run { 7 } == 7)
    }

    /// Work that waits on a queue thread until released.
    final class Gate: Sendable {
        let release = Atomic(false)
        let passed = Atomic(0)

        func pass() -> Int {
            while !release.load(ordering: .acquiring) { usleep(1000) }
            return passed.add(1, ordering: .relaxed).newValue
        }
    }

    /// Hashing threads yield to request threads: they run at the queue's nice value, and the caller's thread keeps its own.
    @Test func hashesRunAtALowerPriority() async throws {
        #if os(Linux)
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        let queue = PasswordHashingQueue(maximumConcurrent: 1, niceness: 7)
        let before = getpriority(which, 0)
        #expect(try await queue.run { getpriority(which, 0) } == 7)
        #expect(try await PasswordHashingQueue(maximumConcurrent: 1).run { getpriority(which, 0) } == 10, "the default")
        #expect(getpriority(which, 0) == before)
        #endif
    }

    @Test func policyFollowsNIST() {
        let policy = PasswordPolicy()
        #expect(policy.violation(of: "short1!") == .tooShort(minimum: 8))
        #expect(policy.violation(of: String(repeating: "a", count: 129)) == .tooLong(maximum: 128))
        #expect(policy.violation(of: String(repeating: "correct horse ", count: 4) + "staple!!") == nil, "64 characters and more are allowed")
        #expect(policy.violation(of: "password") == .common)
        #expect(policy.violation(of: "PassWord123") == .common, "case does not make a common password uncommon")
        #expect(policy.violation(of: "iloveyou2") == .common || policy.violation(of: "iloveyou2") == nil)
        #expect(policy.violation(of: "qwertyuiop") == .common)
        #expect(policy.violation(of: "violet kettle under 7 moons") == nil, "no composition rules")
        // Length counts characters after NFKC: "ﬃ" is three.
        #expect(policy.violation(of: "ﬃﬃ") == .tooShort(minimum: 8))
        #expect(policy.violation(of: "ﬃﬃﬃ") == nil)
        // The floor is NIST's 8; 15 is there for password-only sign-in.
        #expect(PasswordPolicy(minimumLength: 4).minimumLength == 8)
        #expect(PasswordPolicy(minimumLength: 15).violation(of: "violet kettle") == .tooShort(minimum: 15))
        #expect(PasswordPolicy(maximumLength: 10).maximumLength == 64)
        #expect(PasswordPolicy(refusesCommonPasswords: false).violation(of: "password") == nil)
        #expect(PasswordPolicy.Violation.common.authError.code == "weak_password")
        #expect(PasswordPolicy.Violation.common.authError.status == .badRequest)
    }

    @Test func theCommonListIsShipped() {
        #expect(CommonPasswords.set.count >= 10_000)
        #expect(CommonPasswords.set.allSatisfy { $0.count >= 8 && $0 == $0.lowercased() })
        #expect(CommonPasswords.contains("12345678") && CommonPasswords.contains("QWERTY123") == CommonPasswords.contains("qwerty123"))
    }
}
