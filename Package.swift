// swift-tools-version:6.0
import PackageDescription

/// The image kernels (resize, preprocessing) are plain Swift loops; on x86-64
/// they vectorise with AVX2 (x86-64-v3, every x86 server CPU since 2013), about
/// twice as fast as the SSE2 baseline. `FRUITS_PORTABLE=1` builds for the baseline.
/// oneDNN picks its own kernels at run time either way.
let imageKernelFlags: [SwiftSetting] = {
    #if arch(x86_64)
    if Context.environment["FRUITS_PORTABLE"] == nil {
        return [.unsafeFlags(["-Xcc", "-march=x86-64-v3"])]
    }
    #endif
    return []
}()

let package = Package(
    name: "fruits",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "fruits", targets: ["FruitsCLI"]),
        .library(name: "Extractor", targets: ["Extractor"]),
        .library(name: "Common", targets: ["Common"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        // Already Hummingbird's; named for the upload endpoint's connection handler.
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.24.0"),
    ],
    targets: [
        // Thin module maps over Debian's native libraries.
        .systemLibrary(name: "CTurboJPEG", path: "Sources/CTurboJPEG"),
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        .systemLibrary(name: "CRdKafka", path: "Sources/CRdKafka"),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd"),
        .systemLibrary(name: "CCurl", path: "Sources/CCurl"),
        .systemLibrary(name: "CLinearAlgebra", path: "Sources/CLinearAlgebra"),

        .target(
            name: "Common",
            dependencies: [
                "CRdKafka", "CZstd", "CCurl",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Extractor",
            dependencies: [
                "CTurboJPEG", "CDNNL", "Common",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: imageKernelFlags
        ),
        .target(
            name: "Observability",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Report",
            dependencies: ["Common", "Reducer"]
        ),
        .target(
            name: "Ingest",
            dependencies: [
                "Common",
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                "Report",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "Reducer",
            dependencies: [
                "Common", "CLinearAlgebra",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .executableTarget(
            name: "FruitsCLI",
            dependencies: [
                "Extractor", "Common", "Ingest", "Reducer", "Report", "Observability",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "TestSupport",
            dependencies: ["Common"],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "CommonTests",
            dependencies: ["Common", "TestSupport"]
        ),
        .testTarget(
            name: "IngestTests",
            dependencies: [
                "Ingest", "Common", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "ReducerTests",
            dependencies: ["Reducer", "Common", "TestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "ReportTests",
            dependencies: ["Report", "Reducer", "Common", "TestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "PipelineTests",
            dependencies: ["Common", "Reducer", "TestSupport"]
        ),
        .testTarget(
            name: "ExtractorTests",
            dependencies: ["Extractor", "Common", "TestSupport"],
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
