import Testing

@testable import Sesame

/// The bcrypt verifier for imported hashes: vectors written by other implementations, the `$2b$` key rules, the cost
/// cap, and the strict parser.
@Suite struct BcryptHashTests {
    /// A password and the hash another implementation wrote for it.
    struct Vector: Sendable, CustomTestStringConvertible {
        /// The password's bytes.
        let password: [UInt8]
        /// The stored hash.
        let stored: String

        /// Creates a vector.
        ///
        /// - Parameters:
        ///   - password: The password (its UTF-8 is hashed).
        ///   - stored: The stored hash.
        init(_ password: String, _ stored: String) {
            self.password = Array(password.utf8)
            self.stored = stored
        }

        /// The stored hash, which names the vector in test output.
        var testDescription: String { stored }
    }

    /// Exactly 72 bytes: all that bcrypt reads of a password.
    static let password72 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    /// 80 bytes whose first 72 are ``password72``.
    static let password80 = password72 + "-ignored"
    /// "pässwörd" with precomposed letters (U+00E4, U+00F6), so its UTF-8 is `70 c3a4 7373 77 c3b6 7264`.
    static let nonASCII = "p\u{E4}ssw\u{F6}rd"

    /// Written by PyPI's `bcrypt` 4.2.1 (pyca, the version before 5.0 began refusing passwords over 72 bytes) with
    /// random salts; libxcrypt's `crypt(3)` gives the same strings. The 72- and 80-byte passwords share a salt.
    static let pyca: [Vector] = [
        Vector("", "$2b$04$wrZueM1XuyOhAMLCpKGn.ueEgOfg0GdQKlClaJs3v1/dTbwcyL2py"),
        Vector("password", "$2b$04$He.r42yKePTDCQqx12Cmo.HWSXxJ.Kbfw0fFK970ehkXHa9wUj7jW"),
        Vector(nonASCII, "$2b$04$h2MH4oMcA6/ypK1zwfAoGegZWT8VwXgrueV2D66Oy9oPfw.lDReJK"),
        Vector(password72, "$2b$04$e9O5rXt9PgDlFpdafKjWfODipbwldzSjMVCaPlWulHNOfcnUo4rmi"),
        Vector(password80, "$2b$04$e9O5rXt9PgDlFpdafKjWfODipbwldzSjMVCaPlWulHNOfcnUo4rmi"),
        Vector("", "$2b$05$WJaZUy19fcdOSaOUcGr4z.tAplZj8CemiSI7okGBZn75INuCYf8a."),
        Vector("password", "$2b$05$4KPSMxz52w5B7j62RNl7ue.lYO6V1x8mqsvuX4wK9b/S5lxFD8zQi"),
        Vector(nonASCII, "$2b$05$fRJ/TJMAXBWl2H128VD9PucG0KgoZIjEyQ3R6RTua4jvqZMQWGbG."),
    ]

    /// The `$2a$` vectors of Solar Designer's crypt_blowfish (Openwall), which many bcrypt ports test against; pyca
    /// `bcrypt` and libxcrypt give the same strings.
    static let openwall: [Vector] = [
        Vector("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
        Vector("U*U*", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK"),
        Vector("U*U*U", "$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a"),
        Vector(password72 + "chars after 72 are ignored", "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui"),
        Vector("", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy"),
    ]

    /// A valid stored hash (of the empty password, cost 4) that the parser tests alter.
    static let valid = "$2b$04$wrZueM1XuyOhAMLCpKGn.ueEgOfg0GdQKlClaJs3v1/dTbwcyL2py"

    @Test(arguments: BcryptHashTests.pyca + BcryptHashTests.openwall)
    func matchesHashesOtherImplementationsWrote(_ vector: Vector) throws {
        let record = try #require(BcryptHash(parsing: vector.stored))
        #expect(record.matches(vector.password))
        #expect(BcryptHash.derive(password: vector.password, salt: record.salt, cost: record.cost) == record.hash)
    }

    @Test(arguments: BcryptHashTests.pyca + BcryptHashTests.openwall)
    func aWrongPasswordDoesNotMatch(_ vector: Vector) throws {
        let record = try #require(BcryptHash(parsing: vector.stored))
        var flipped = vector.password.isEmpty ? [UInt8(ascii: "a")] : vector.password
        flipped[0] ^= 1
        #expect(!record.matches(flipped))
        if (1...BcryptHash.maximumKeyLength).contains(vector.password.count) {
            #expect(!record.matches(Array(vector.password.dropLast())))
        }
        #expect(!record.matches(vector.password.isEmpty ? [UInt8(ascii: " ")] : []))
    }

    @Test func parsesTheFields() throws {
        let record = try #require(BcryptHash(parsing: "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"))
        #expect(record.version == "2a")
        #expect(record.cost == 5)
        // "C" is 4 (000100) in bcrypt's alphabet and "." is 0: the bits repeat 0x10 0x41 0x04.
        #expect(record.salt == [0x10, 0x41, 0x04, 0x10, 0x41, 0x04, 0x10, 0x41, 0x04, 0x10, 0x41, 0x04, 0x10, 0x41, 0x04, 0x10])
        #expect(record.hash.count == 23)
        let other = try #require(BcryptHash(parsing: Self.valid))
        #expect(other.version == "2b" && other.cost == 4 && other.salt.count == 16 && other.hash.count == 23)
    }

    @Test func bytesAfterTheSeventySecondAreIgnored() throws {
        let record = try #require(BcryptHash(parsing: Self.pyca[3].stored))
        let password72 = Array(Self.password72.utf8)
        #expect(password72.count == 72 && Array(Self.password80.utf8).count == 80)
        #expect(record.matches(password72))
        #expect(record.matches(Array(Self.password80.utf8)))
        #expect(record.matches(password72 + [0x01]))
        // 71 bytes are hashed with their NUL, so they are not the 72.
        #expect(!record.matches(Array(password72.dropLast())))
        var lastChanged = password72
        lastChanged[71] ^= 1
        #expect(!record.matches(lastChanged))
    }

    @Test(arguments: ["2a", "2b", "2y"])
    func everyVersionIsCheckedAlike(_ version: String) throws {
        for vector in Self.pyca + Self.openwall {
            let record = try #require(BcryptHash(parsing: "$" + version + vector.stored.dropFirst(3)))
            #expect(record.version == version)
            #expect(record.matches(vector.password), "\(vector.stored)")
        }
    }

    @Test func thePasswordIsTheBytesGivenNotNormalised() throws {
        let record = try #require(BcryptHash(parsing: Self.pyca[2].stored))
        #expect(Self.pyca[2].password == [0x70, 0xC3, 0xA4, 0x73, 0x73, 0x77, 0xC3, 0xB6, 0x72, 0x64])
        // The same letters decomposed (a + U+0308, o + U+0308) are other bytes.
        #expect(!record.matches(Array("pa\u{308}sswo\u{308}rd".utf8)))
    }

    @Test func aPasswordWithANULNeverMatches() throws {
        // C implementations stop at the NUL ("password\0x" is hashed as "password"), others do not: refused.
        let password = try #require(BcryptHash(parsing: Self.pyca[1].stored))
        #expect(password.matches(Array("password".utf8)))
        #expect(!password.matches(Array("password".utf8) + [0]))
        #expect(!password.matches(Array("password".utf8) + [0, UInt8(ascii: "x")]))
        let empty = try #require(BcryptHash(parsing: Self.pyca[0].stored))
        #expect(!empty.matches([0]))
    }

    @Test func costsAboveTheCapAreRefused() {
        let rest = Self.valid.dropFirst(7)
        #expect(BcryptHash.maximumCost == 16)
        // Parsed, never computed: cost 16 is seconds of work.
        #expect(BcryptHash(parsing: "$2b$16$" + rest)?.cost == 16)
        #expect(BcryptHash(parsing: "$2b$10$" + rest)?.cost == 10)
        for cost in ["17", "20", "31"] {
            #expect(BcryptHash(parsing: "$2b$" + cost + "$" + rest) == nil, "cost \(cost)")
        }
    }

    /// Strings that are not bcrypt hashes within limits, each a small change to ``valid``.
    static let malformed: [String] = {
        let valid = BcryptHashTests.valid
        let afterVersion = valid.dropFirst(4), afterCost = valid.dropFirst(7)
        var strings = ["", "$2b$", valid + "\n", valid + " ", " " + valid, valid + "A", String(valid.dropLast())]
        strings += ["$2x$", "$2B$", "$2c$", "$1$", "$2$", "$3$", "$2bb$", "2b$$"].map { $0 + afterVersion }
        strings += ["$2b$4$", "$2b$3$", "$2b$03$", "$2b$00$", "$2b$32$", "$2b$99$", "$2b$0a$", "$2b$a4$", "$2b$ 4$", "$2b$+4$", "$2b$-4$"]
            .map { $0 + afterCost }
        strings.append("$2b$004$" + afterCost.dropFirst())
        strings.append("$2b$04" + afterCost)  // no "$" after the cost (59 characters)
        strings.append("$2b$04+" + afterCost)
        // Characters outside the alphabet, in the salt and in the hash.
        strings.append(String(valid.prefix(10)) + "+" + valid.dropFirst(11))
        strings.append(String(valid.dropLast()) + "=")
        strings.append(String(valid.dropLast()) + "\u{E9}")
        strings.append(String(valid.prefix(40)) + "-" + valid.dropFirst(41))
        // The salt's last character is "u" (110000); "v" (110001) sets one of the 4 bits past its 16 bytes.
        strings.append(String(valid.prefix(28)) + "v" + valid.dropFirst(29))
        // The hash's last character is "y" (110100); "z" (110101) sets one of the 2 bits past its 23 bytes.
        strings.append(String(valid.dropLast()) + "z")
        return strings
    }()

    @Test(arguments: BcryptHashTests.malformed)
    func malformedStringsAreRefused(_ stored: String) {
        #expect(BcryptHash(parsing: stored) == nil)
    }

    @Test func theMalformedCasesDifferFromValidOnlyWhereIntended() {
        // Guards the cases above against refusing for an accidental reason: the valid string parses, and the
        // canonical-bits cases are otherwise well formed.
        #expect(BcryptHash(parsing: Self.valid) != nil)
        #expect(BcryptHash(parsing: String(Self.valid.prefix(28)) + "u" + Self.valid.dropFirst(29)) != nil)
        #expect(Self.malformed.contains(String(Self.valid.prefix(28)) + "v" + Self.valid.dropFirst(29)))
        #expect(Self.valid.utf8.count == 60)
    }
}
