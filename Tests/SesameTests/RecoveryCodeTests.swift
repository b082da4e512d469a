import Testing

@testable import Sesame

/// Recovery codes: random, hashed, matched once, refused otherwise.
@Suite struct RecoveryCodeTests {
    @Test func aSetIsTenDistinctCodesOf80BitsStoredAsHashes() {
        let (codes, hashes) = RecoveryCodes.generate()
        #expect(codes.count == 10 && hashes.count == 10)
        #expect(Set(codes).count == 10)
        #expect(codes.allSatisfy { $0.wholeMatch(of: /[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}/) != nil })
        #expect(codes.allSatisfy { Base32Text.decode($0.replacingOccurrences(of: "-", with: "").uppercased())?.count == 10 }, "80 bits each")
        // What is stored is not the code.
        for (code, hash) in zip(codes, hashes) { #expect(hash.count == 32 && !hash.elementsEqual(Array(code.utf8))) }
        #expect(Set(RecoveryCodes.generate().codes).isDisjoint(with: codes))
    }

    @Test func typedCodesMatchTheirHashIgnoringCaseSpacesAndDashes() {
        let (codes, hashes) = RecoveryCodes.generate()
        for (index, code) in codes.enumerated() {
            #expect(RecoveryCodes.match(code, hashes: hashes) == index)
            #expect(RecoveryCodes.match(code.uppercased(), hashes: hashes) == index)
            #expect(RecoveryCodes.match(code.replacingOccurrences(of: "-", with: " "), hashes: hashes) == index)
            #expect(RecoveryCodes.match(code.replacingOccurrences(of: "-", with: ""), hashes: hashes) == index)
        }
        // Once used, the app removes the hash: the code no longer matches.
        var remaining = hashes
        remaining.remove(at: 3)
        #expect(RecoveryCodes.match(codes[3], hashes: remaining) == nil)
    }

    @Test(arguments: ["", "abcd", "abcd-efgh-ijkl-mnop-q", "abcd-efgh-ijkl-mno", "abcd-efgh-ijkl-mno1", "abcd_efgh_ijkl_mnop", "abcd-efgh-ijkl-mnoé"])
    func malformedOrUnknownCodesAreRefused(_ typed: String) {
        let (_, hashes) = RecoveryCodes.generate()
        #expect(RecoveryCodes.match(typed, hashes: hashes) == nil)
    }

    @Test func anotherSetsCodeIsRefused() {
        let (codes, _) = RecoveryCodes.generate()
        let (_, otherHashes) = RecoveryCodes.generate()
        #expect(codes.allSatisfy { RecoveryCodes.match($0, hashes: otherHashes) == nil })
    }
}
