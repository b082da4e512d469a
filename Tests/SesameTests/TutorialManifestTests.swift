import Foundation
import Testing

/// The package manifests the DocC tutorials show are valid manifests that depend on products Sesame has. (The
/// tutorials' Swift code is compiled and tested by the `…TutorialStep…Tests` targets.)
///
/// The manifests load one at a time and outside SwiftPM's shared manifest cache (an SQLite file that two `swift
/// package` processes at once can find locked).
@Suite(.serialized, .timeLimit(.minutes(2))) struct TutorialManifestTests {
    static let manifests = [
        "Sources/SesameHummingbird/SesameHummingbird.docc/Resources/hummingbird-package.swift",
        "Sources/SesameVapor/SesameVapor.docc/Resources/vapor-package.swift",
    ]

    /// The library products Sesame's own manifest declares.
    static func sesameProducts() throws -> Set<String> {
        let manifest = try String(contentsOf: repositoryRoot.appendingPathComponent("Package.swift"), encoding: .utf8)
        return Set(manifest.matches(of: /\.library\(name: "([A-Za-z]+)"/).map { String($0.1) })
    }

    /// Loads a manifest with `swift package dump-package` in a directory of its own and returns its JSON.
    static func dump(_ manifest: String) async throws -> JSONManifest {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sesame-tutorial-\(UUID().uuidString)/App")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        try FileManager.default.copyItem(
            at: repositoryRoot.appendingPathComponent(manifest), to: directory.appendingPathComponent("Package.swift"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swift", "package", "--package-path", directory.path, "--manifest-cache", "none", "dump-package"]
        let output = Pipe()
        process.standardOutput = output
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let (data, diagnostics) = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let data = output.fileHandleForReading.readDataToEndOfFile()
                let diagnostics = errors.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: (data, diagnostics))
            }
        }
        #expect(process.terminationStatus == 0, "\(manifest) does not load: \(String(decoding: diagnostics, as: UTF8.self))")
        return try JSONDecoder().decode(JSONManifest.self, from: data)
    }

    /// What the test reads of `dump-package`'s output.
    struct JSONManifest: Decodable {
        struct Target: Decodable {
            let name: String
            let dependencies: [Dependency]
        }
        /// A target dependency: `{"product": [name, package, …]}` or `{"byName": [name, …]}`.
        struct Dependency: Decodable {
            let product: [String?]?
        }
        let targets: [Target]
    }

    @Test(arguments: manifests) func tutorialManifestLoadsAndNamesSesameProducts(_ manifest: String) async throws {
        let products = try Self.sesameProducts()
        #expect(products.contains("SesameHummingbird") && products.contains("SesameVapor"))
        let dumped = try await Self.dump(manifest)
        let app = try #require(dumped.targets.first { $0.name == "App" })
        let fromSesame = app.dependencies.compactMap(\.product).filter { $0.count > 1 && $0[1] == "sesame" }.compactMap { $0[0] }
        #expect(fromSesame.count == 2)
        for product in fromSesame {
            #expect(products.contains(product), "\(manifest) names \(product), which Sesame does not have")
        }
    }
}
