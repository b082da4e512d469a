// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "sesame",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Sesame", targets: ["Sesame"]),
        .executable(name: "sesame", targets: ["SesameCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
    ],
    targets: [
        .target(
            name: "Sesame",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "SesameCLI",
            dependencies: ["Sesame"]
        ),
        .testTarget(
            name: "SesameTests",
            dependencies: ["Sesame"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
