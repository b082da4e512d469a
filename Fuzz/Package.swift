// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for every parser that reads an attacker's bytes. Built apart from the main package because
// everything here is compiled with `-sanitize=fuzzer,address` and `-enable-testing` (the parsers are internal):
// `scripts/fuzz TARGET SECONDS` builds and runs one target against its corpus in `Fuzz/Corpus/TARGET`.
let package = Package(
    name: "sesame-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "sesame", path: ".."),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.100.0"),
    ],
    targets: [
        .executableTarget(
            name: "SesameFuzz",
            dependencies: [
                .product(name: "Sesame", package: "sesame"),
                .product(name: "SesameRedis", package: "sesame"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            // libFuzzer supplies `main`.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    ]
)
