import ArgumentParser
import Foundation
import ObjectStorage

/// Where a benchmark writes results: a named place, or a temporary
/// directory removed afterwards.
struct BenchResultsOptions: ParsableArguments {
    @Option(help: "Results: a directory or s3://bucket/prefix/ (default: a temporary directory, removed afterwards).")
    var output: String?

    @OptionGroup var storage: StorageOptions

    func withStore<T>(_ name: String, _ body: (any ObjectStore) async throws -> T) async throws -> T {
        let location = output ?? FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)").path
        defer { if output == nil { try? FileManager.default.removeItem(atPath: location) } }
        return try await body(try storage.store(location))
    }
}

/// The machine-readable last line of a benchmark: `TAG {json}`, keys sorted.
func benchLine(_ tag: String, _ json: [String: Any]) -> String {
    let data = try! JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
    return tag + " " + String(decoding: data, as: UTF8.self)
}
