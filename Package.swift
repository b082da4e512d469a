// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "sesame",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Sesame", targets: ["Sesame"]),
        .library(name: "SesameHummingbird", targets: ["SesameHummingbird"]),
        .library(name: "SesameVapor", targets: ["SesameVapor"]),
        .library(name: "SesameDemo", targets: ["SesameDemo"]),
        .library(name: "SesameRedis", targets: ["SesameRedis"]),
        .library(name: "SesamePostgres", targets: ["SesamePostgres"]),
        .library(name: "SesameSQLite", targets: ["SesameSQLite"]),
        .library(name: "SesameClient", targets: ["SesameClient"]),
        .library(name: "SesameConfiguration", targets: ["SesameConfiguration"]),
        .executable(name: "sesame", targets: ["SesameCLI"]),
        .executable(name: "sesame-demo", targets: ["SesameDemoServer"]),
        .executable(name: "sesame-demo-vapor", targets: ["SesameDemoVaporServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0", traits: ["FullFoundation"]),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.100.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.0"),
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.0"),
        // `swift package generate-documentation`: the DocC catalogues (scripts/docs builds them, warnings as errors).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin.git", from: "1.4.0"),
    ],
    targets: [
        // The framework-agnostic core: swift-crypto, swift-http-types and swift-log, swift-certificates (packed
        // passkey attestations' X.509 chains), AsyncHTTPClient (with its NIO types) for talking to identity
        // providers, swift-metrics, swift-distributed-tracing and swift-service-lifecycle (the cleanup service).
        .target(
            name: "Sesame",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The thin Hummingbird 2 integration.
        .target(
            name: "SesameHummingbird",
            dependencies: [
                "Sesame",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
            ]
        ),
        // The thin Vapor 4 integration.
        .target(
            name: "SesameVapor",
            dependencies: [
                "Sesame",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        // Session stores, one module per backend. Redis speaks RESP over SwiftNIO itself (no Redis package).
        .target(
            name: "SesameRedis",
            dependencies: [
                "Sesame",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "SesamePostgres",
            dependencies: [
                "Sesame",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "SesameSQLite",
            dependencies: [
                "Sesame",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The client for apps and services that call a Sesame server: Foundation's URLSession and swift-crypto
        // (CryptoKit on Apple platforms), none of the server's packages.
        .target(
            name: "SesameClient",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // Settings from apple/swift-configuration, checked at start.
        .target(
            name: "SesameConfiguration",
            dependencies: [
                "Sesame",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "SesameCLI",
            dependencies: [
                "Sesame", "SesameSQLite", "SesamePostgres", "SesameRedis",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "SesameDemo",
            dependencies: [
                "Sesame", "SesameHummingbird", "SesameSQLite", "SesameRedis", "SesamePostgres", "SesameConfiguration",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .executableTarget(
            name: "SesameDemoServer",
            dependencies: ["SesameDemo", "Sesame", .product(name: "Hummingbird", package: "hummingbird")]
        ),
        .target(
            name: "SesameDemoVapor",
            dependencies: ["SesameDemo", "Sesame", "SesameVapor", .product(name: "Vapor", package: "vapor")]
        ),
        .executableTarget(
            name: "SesameDemoVaporServer",
            dependencies: [
                "SesameDemo", "SesameDemoVapor", "Sesame", .product(name: "Vapor", package: "vapor"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "SesameConfigurationTests",
            dependencies: [
                "SesameConfiguration", "Sesame", .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .testTarget(
            name: "SesameTests",
            dependencies: [
                "Sesame", "SesameTestSupport", .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"), .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            // WebAuthn vectors: the specification's, and real authenticators' responses from py_webauthn's tests.
            resources: [.copy("Fixtures")]
        ),
        // What the Hummingbird and Vapor tests share: loopback HTTP helpers and the demo's flows.
        .target(
            name: "SesameTestSupport",
            dependencies: [
                "Sesame", .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/SesameTestSupport"
        ),
        .testTarget(
            name: "SesameVaporTests",
            dependencies: [
                "Sesame", "SesameVapor", "SesameDemo", "SesameDemoVapor", "SesameSQLite", "SesameTestSupport",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "VaporTesting", package: "vapor"),
            ]
        ),
        // One behavioural suite for every store, against the real servers (started by scripts/test).
        .testTarget(
            name: "SesameStoreTests",
            dependencies: [
                "Sesame", "SesameRedis", "SesamePostgres", "SesameSQLite", "SesameTestSupport",
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]
        ),
        // The Swift client against the live demo on a loopback port.
        .testTarget(
            name: "SesameClientTests",
            dependencies: [
                "SesameClient", "Sesame", "SesameDemo", "SesameTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "SesameHummingbirdTests",
            dependencies: [
                "Sesame",
                "SesameHummingbird",
                "SesameDemo",
                "SesameSQLite",
                "SesameTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
    ] + tutorialTargets,
    swiftLanguageModes: [.v6]
)

/// The DocC tutorials' code, each step's version of the app with a test of it, compiled and run with the other
/// tests so that the tutorials cannot rot. The files live in the catalogues, where the tutorials show them.
var tutorialTargets: [Target] {
    let hummingbird: [Target.Dependency] = [
        "Sesame", "SesameHummingbird", .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdTesting", package: "hummingbird"),
    ]
    let vapor: [Target.Dependency] = [
        "Sesame", "SesameVapor", .product(name: "Vapor", package: "vapor"), .product(name: "VaporTesting", package: "vapor"),
    ]
    return (1...3).flatMap { step in
        [
            Target.testTarget(
                name: "HummingbirdTutorialStep\(step)Tests", dependencies: hummingbird,
                path: "Sources/SesameHummingbird/SesameHummingbird.docc/Resources/TutorialStep\(step)"),
            Target.testTarget(
                name: "VaporTutorialStep\(step)Tests", dependencies: vapor,
                path: "Sources/SesameVapor/SesameVapor.docc/Resources/TutorialStep\(step)"),
        ]
    }
}
