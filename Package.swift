
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

/// Thin module maps over Debian's native libraries, each in Sources/<name>.
let nativeLibraries = ["CTurboJPEG", "CDNNL", "CRdKafka", "CZstd", "CCurl", "CLinearAlgebra"]

let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")

/// What every long-running service links: logs, its place in a service group, metrics.
let serviceLibraries: [Target.Dependency] = [
    logging,
    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
    .product(name: "Metrics", package: "swift-metrics"),
]

let package = Package(
    name: "fruits",
    platforms: [.macOS(.v14)],
    products: [.executable(name: "fruits", targets: ["FruitsCLI"])]
        + ["Extractor", "Common", "Kafka", "ObjectStorage", "Parquet", "Events"].map { .library(name: $0, targets: [$0]) },
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
    targets: nativeLibraries.map { .systemLibrary(name: $0, path: "Sources/\($0)") } + [
        // Clients and formats, one concept each, knowing nothing of the pipeline.
        // Process-level helpers: CPU budget, blocking-I/O threads, progress, markup.
        .target(name: "Common"),
        // librdkafka behind Swift types: producer, consumer, admin, embedded cluster.
        .target(name: "Kafka", dependencies: ["CRdKafka", "Common"]),
        // S3 (SigV4, the AWS credential chain, HTTP over libcurl) and a local
        // directory behind one `ObjectStore`.
        .target(
            name: "ObjectStorage",
            dependencies: ["CCurl", "Common", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Kafka on AWS: MSK IAM authentication from the AWS credential chain.
        .target(name: "KafkaAWS", dependencies: ["Kafka", "ObjectStorage", logging]),
        // Parquet files (writer, reader, Thrift compact protocol, ZSTD).
        .target(name: "Parquet", dependencies: ["CZstd"]),
        // Prometheus /metrics for every service.
        .target(
            name: "Observability",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ] + serviceLibraries
        ),
        // The pipeline's contracts: events.proto, image ids, topics and groups, dead letters.
        .target(
            name: "Events",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),

        // The results' contract: the layout of a results store, flush names,
        // the model and classifier files and their loading.
        .target(
            name: "Results",
            dependencies: ["CLinearAlgebra", "Common", "Events", "ObjectStorage", "Parquet"]
        ),

        // The HTML report of a results store (fruits report, the upload endpoint's status page).
        .target(
            name: "Report",
            dependencies: ["Common", "ObjectStorage", "Parquet", "Results"]
        ),

        // The four processes, each knowing the contracts below it and never
        // another process (docs/code-map.md, checked by LayeringTests):
        // ingest, extract, reduce, answer.
        .target(
            name: "Extractor",
            dependencies: [
                "CTurboJPEG", "CDNNL", "Common", "Events", "Kafka", "ObjectStorage",
            ] + serviceLibraries,
            swiftSettings: imageKernelFlags
        ),
        .target(
            name: "Ingest",
            dependencies: [
                "Common", "Events", "Kafka", "ObjectStorage",
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                "Report",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ] + serviceLibraries
        ),
        .target(
            name: "Reducer",
            dependencies: [
                "Common", "Events", "Kafka", "ObjectStorage", "Parquet", "Results", "CLinearAlgebra",
            ] + serviceLibraries
        ),
        .target(
            name: "Answerer",
            dependencies: ["Common", "Events", "Kafka", "ObjectStorage", "Results"] + serviceLibraries
        ),

        // What measures them, and the fruits command over all of it.
        .target(
            name: "Benchmarks",
            dependencies: ["Common", "Events", "Extractor", "Kafka", "ObjectStorage", "Reducer", "Results", logging]
        ),
        .executableTarget(
            name: "FruitsCLI",
            dependencies: [
                "Answerer", "Benchmarks", "Extractor", "Common", "Events", "Kafka", "KafkaAWS", "ObjectStorage", "Parquet", "Ingest", "Reducer",
                "Report", "Results", "Observability",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                logging,
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "TestSupport",
            dependencies: ["Common", "ObjectStorage"],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "CommonTests", dependencies: ["Common"]),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka", "KafkaAWS", "ObjectStorage", "TestSupport", logging]),
        .testTarget(name: "ObjectStorageTests", dependencies: ["ObjectStorage", "TestSupport"]),
        .testTarget(name: "ParquetTests", dependencies: ["Parquet", "TestSupport"]),
        .testTarget(name: "EventsTests", dependencies: ["Events", "TestSupport"]),
        .testTarget(
            name: "IngestTests",
            dependencies: [
                "Ingest", "Common", "Events", "Kafka", "ObjectStorage", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "ReducerTests",
            dependencies: ["Reducer", "Results", "Common", "Events", "Kafka", "ObjectStorage", "Parquet", "TestSupport", logging]
        ),
        .testTarget(
            name: "ReportTests",
            dependencies: ["Report", "Reducer", "Results", "Common", "ObjectStorage", "Parquet", "TestSupport", logging]
        ),
        .testTarget(name: "ResultsTests", dependencies: ["Results", "TestSupport"]),
        .testTarget(name: "PackageTests", dependencies: ["TestSupport"]),
        .testTarget(
            name: "AnswererTests",
            dependencies: ["Answerer", "Events", "Kafka", "ObjectStorage", "TestSupport", logging]
        ),
        .testTarget(
            name: "PipelineTests",
            dependencies: ["Answerer", "Common", "Events", "Kafka", "ObjectStorage", "Parquet", "Reducer", "Results", "TestSupport"]
        ),
        .testTarget(
            name: "ExtractorTests",
            dependencies: ["Extractor", "Common", "Events", "Kafka", "ObjectStorage", "TestSupport"],
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
