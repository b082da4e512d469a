import Sesame
@testable import SesameRedis
import Testing

/// The RESP2 reply parser against byte fixtures: framing across reads, every reply type, and the malformed
/// and oversized replies it must reject.
@Suite struct RESPDecoderTests {
    /// Parses `bytes` fed in chunks of `chunkSize`, returning every complete reply.
    static func replies(_ bytes: [UInt8], chunkSize: Int, maximumReplySize: Int = 1 << 20) throws -> [RESPValue] {
        var reader = RESPFrameReader(maximumReplySize: maximumReplySize)
        var replies: [RESPValue] = []
        var start = 0
        while start < bytes.count {
            reader.append(bytes[start..<min(start + chunkSize, bytes.count)])
            start += chunkSize
            while let reply = try reader.next() { replies.append(reply) }
        }
        #expect(reader.bufferedBytes == 0)
        return replies
    }

    static func expectInvalid(_ text: String, maximumReplySize: Int = 1 << 20, sourceLocation: SourceLocation = #_sourceLocation) {
        for chunkSize in [1, 3, text.utf8.count] {
            let error = #expect(throws: SessionStoreError.self, sourceLocation: sourceLocation) {
                _ = try replies(Array(text.utf8), chunkSize: chunkSize, maximumReplySize: maximumReplySize)
            }
            guard case .invalidResponse = error else {
                Issue.record("expected invalidResponse for \(text.debugDescription), got \(String(describing: error))", sourceLocation: sourceLocation)
                return
            }
        }
    }

    static let stream = Array(
        """
        +OK\r
        -ERR unknown command 'FOO'\r
        :42\r
        :-7\r
        $5\r
        hello\r
        $0\r
        \r
        $-1\r
        *-1\r
        *0\r
        *3\r
        *2\r
        :1\r
        $-1\r
        *1\r
        *1\r
        +deep\r
        $4\r
        a\r
        b\r
        -WRONGTYPE Operation against a key holding the wrong kind of value\r

        """.utf8)

    static let expected: [RESPValue] = [
        .simpleString("OK"),
        .error("ERR unknown command 'FOO'"),
        .integer(42),
        .integer(-7),
        .bulkString(Array("hello".utf8)),
        .bulkString([]),
        .null,
        .null,
        .array([]),
        .array([.array([.integer(1), .null]), .array([.array([.simpleString("deep")])]), .bulkString(Array("a\r\nb".utf8))]),
        .error("WRONGTYPE Operation against a key holding the wrong kind of value"),
    ]

    /// However the bytes are cut into reads, the same replies come out, and a partial reply waits.
    @Test(arguments: [1, 2, 3, 5, 7, 64, 4_096])
    func framingAcrossReads(chunkSize: Int) throws {
        #expect(try Self.replies(Self.stream, chunkSize: chunkSize) == Self.expected)
    }

    @Test func incompleteRepliesConsumeNothing() throws {
        var reader = RESPFrameReader()
        reader.append(Array("*2\r\n$3\r\nfoo\r\n$3\r\nba".utf8))
        #expect(try reader.next() == nil)
        #expect(reader.bufferedBytes == 19)
        reader.append(Array("r\r\n:1".utf8))
        #expect(try reader.next() == .array([.bulkString(Array("foo".utf8)), .bulkString(Array("bar".utf8))]))
        #expect(try reader.next() == nil)
        reader.append(Array("\r\n".utf8))
        #expect(try reader.next() == .integer(1))
    }

    @Test func bulkStringsAreBinarySafe() throws {
        let bytes = [UInt8](0...255)
        let encoded = Array("$256\r\n".utf8) + bytes + Array("\r\n".utf8)
        #expect(try Self.replies(encoded, chunkSize: 10) == [.bulkString(bytes)])
    }

    /// Error replies stay values in the connection; the client turns them into errors.
    @Test func errorRepliesBecomeErrors() {
        #expect(throws: SessionStoreError.invalidResponse("Redis: ERR syntax error")) {
            try RedisClient.checked(.error("ERR syntax error"))
        }
        #expect(throws: SessionStoreError.unavailable("Redis: NOAUTH Authentication required.")) {
            try RedisClient.checked(.error("NOAUTH Authentication required."))
        }
        #expect(throws: SessionStoreError.unavailable("Redis: LOADING Redis is loading the dataset in memory")) {
            try RedisClient.checked(.error("LOADING Redis is loading the dataset in memory"))
        }
        #expect((try? RedisClient.checked(.integer(1))) == .integer(1))
    }

    @Test(arguments: [
        "?what\r\n",  // unknown type byte
        ":12a\r\n",  // not a number
        ":\r\n",  // empty number
        ":99999999999999999999\r\n",  // overflows 64 bits
        "$3\r\nabcXY",  // bulk string not followed by CRLF
        "$-2\r\n",  // negative length other than -1
        "$x\r\n",  // length not a number
        "*-5\r\n",  // negative count other than -1
        "*2\r\n:1\r\n!\r\n",  // bad element inside an array
        "+OK\rX",  // CR without LF
        "+OK\n",  // LF without CR
    ])
    func malformedRepliesAreRejected(_ text: String) {
        Self.expectInvalid(text)
    }

    /// Replies over the cap are rejected as soon as their size is announced, or once the bytes pile up.
    @Test func oversizedRepliesAreRejected() throws {
        Self.expectInvalid("$2000\r\n", maximumReplySize: 1_024)
        Self.expectInvalid("*1000000\r\n", maximumReplySize: 1_024)
        Self.expectInvalid("*2\r\n$1000\r\n" + String(repeating: "a", count: 1_000) + "\r\n$100\r\n", maximumReplySize: 1_024)
        Self.expectInvalid("+" + String(repeating: "a", count: 2_000), maximumReplySize: 1_024)
        Self.expectInvalid(String(repeating: "*1\r\n", count: 100) + ":1\r\n")
        // Just under the cap is fine.
        let fits = "$1000\r\n" + String(repeating: "a", count: 1_000) + "\r\n"
        #expect(try Self.replies(Array(fits.utf8), chunkSize: 100, maximumReplySize: 1_024).count == 1)
    }

    @Test func commandsAreEncodedAsArraysOfBulkStrings() {
        var command = RedisCommand("SET", "k")
        command.append(bytes: [0, 13, 10])
        #expect(command.encodedBytes == Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n".utf8) + [0, 13, 10] + Array("\r\n".utf8))
    }
}
