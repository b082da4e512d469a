// swift-tools-version:6.2
import PackageDescription

// Benchmarks live in their own package so that users of Sesame never resolve jwt-kit or other
// benchmark-only dependencies. Run with: swift run -c release --package-path Benchmarks sesame-benchmarks
// and, for HTTP throughput with wrk: swift run -c release --package-path Benchmarks sesame-http-benchmark
// and, for the OAuth/OIDC callback: swift run -c release --package-path Benchmarks sesame-callback-benchmark
// and, for session stores: swift run -c release --package-path Benchmarks sesame-store-benchmark
// and, for Vapor: swift run -c release --package-path Benchmarks sesame-vapor-benchmark
let package = Package(
    name: "sesame-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "sesame", path: ".."),
        .package(url: "https://github.com/vapor/jwt-kit.git", exact: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0", traits: ["FullFoundation"]),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
    ],
    targets: [
        // What the executables share: argument parsing, running wrk and other tools, medians.
        .target(name: "BenchmarkSupport", path: "Sources/BenchmarkSupport"),
        .executableTarget(
            name: "sesame-http-benchmark",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Sesame", package: "sesame"),
                .product(name: "SesameDemo", package: "sesame"),
                .product(name: "SesameHummingbird", package: "sesame"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Sources/SesameHTTPBenchmark"
        ),
        .executableTarget(
            name: "sesame-callback-benchmark",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Sesame", package: "sesame"),
                .product(name: "SesameSQLite", package: "sesame"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Sources/SesameCallbackBenchmark"
        ),
        .executableTarget(
            name: "sesame-store-benchmark",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Sesame", package: "sesame"),
                .product(name: "SesameSQLite", package: "sesame"),
                .product(name: "SesamePostgres", package: "sesame"),
                .product(name: "SesameRedis", package: "sesame"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Sources/SesameStoreBenchmark"
        ),
        .executableTarget(
            name: "sesame-vapor-benchmark",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Sesame", package: "sesame"),
                .product(name: "SesameDemo", package: "sesame"),
                .product(name: "SesameVapor", package: "sesame"),
                .product(name: "Vapor", package: "vapor"),
            ],
            path: "Sources/SesameVaporBenchmark"
        ),
        .executableTarget(
            name: "sesame-account-benchmark",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Sesame", package: "sesame"),
                .product(name: "SesameSQLite", package: "sesame"),
                .product(name: "SesamePostgres", package: "sesame"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/SesameAccountBenchmark"
        ),
        .executableTarget(
            name: "sesame-benchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Sesame", package: "sesame"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Sources/SesameBenchmarks"
        )
    ],
    swiftLanguageModes: [.v6]
)
