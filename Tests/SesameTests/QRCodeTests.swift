import Foundation
import Testing

@testable import Sesame

/// Sesame's QR encoder, read back by an independent decoder: the SVG is rendered to PNG with rsvg-convert and
/// decoded with zbarimg (Debian's zbar-tools, installed by `scripts/test`).
@Suite(.timeLimit(.minutes(2))) struct QRCodeTests {
    /// What zbarimg reads from the code's SVG.
    static func decode(_ code: QRCode) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sesame-qr-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let svg = directory.appendingPathComponent("code.svg"), png = directory.appendingPathComponent("code.png")
        try code.svg(moduleSize: 4).write(to: svg, atomically: true, encoding: .utf8)
        _ = try run(["rsvg-convert", "-o", png.path, svg.path])
        return try run(["zbarimg", "--raw", "-q", "-Sbinary", png.path])
    }

    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failure(message: "\(arguments[0]) exited \(process.terminationStatus)") }
        return String(decoding: data, as: UTF8.self)
    }

    struct Failure: Error { let message: String }

    @Test(arguments: [
        "A",
        "otpauth://totp/Sesame%20Demo:ada%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Sesame%20Demo&algorithm=SHA1&digits=6&period=30",
        String(repeating: "0123456789", count: 5),
        String(repeating: "x", count: 100),
        String(repeating: "abcdefghij", count: 21) + "abc",  // 213 bytes: the most version 10 holds
        "ünïcödé ✓",
    ])
    func zbarReadsWhatWasEncoded(_ text: String) throws {
        let code = try #require(QRCode(text))
        #expect(code.modules.count == code.size && code.modules.allSatisfy { $0.count == code.size })
        #expect(try Self.decode(code) == text)
    }

    @Test func versionsGrowWithTheText() throws {
        #expect(try #require(QRCode("A")).version == 1)
        #expect(try #require(QRCode(String(repeating: "a", count: 14))).version == 1)  // 16 codewords: 14 bytes fit
        #expect(try #require(QRCode(String(repeating: "a", count: 15))).version == 2)
        #expect(try #require(QRCode(String(repeating: "a", count: 213))).version == 10)
    }

    @Test func textBeyondVersion10IsRefused() {
        #expect(QRCode(String(repeating: "a", count: 214)) == nil)
    }

    @Test func theSVGIsSelfContained() throws {
        let svg = try #require(QRCode("otpauth://totp/x?secret=AAAA")).svg()
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(!svg.contains("<script") && !svg.contains("href") && !svg.contains("style"), "nothing a strict CSP would block")
    }
}
