import Foundation
import Testing

/// The trait of a suite that runs the built `fruits` (`Tools.fruits`) as
/// separate processes: each of its tests fails at once, saying what to do,
/// if the executable is missing or older than a source file, instead of
/// testing an old build or failing somewhere inside.
public struct UsesFruitsBinary: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        if let problem = FruitsBinary.problem { throw FruitsBinary.Unusable(description: problem) }
        try await function()
    }
}

extension Trait where Self == UsesFruitsBinary {
    /// The suite runs `.build/debug/fruits` (or `FRUITS_BIN`): `swift build` must have made it from these sources.
    public static var usesFruitsBinary: Self { UsesFruitsBinary() }
}

enum FruitsBinary {
    struct Unusable: Error, CustomStringConvertible {
        let description: String
    }

    /// Why `Tools.fruits` cannot be used, or nil; looked up once per test process.
    static let problem: String? = {
        let path = Tools.fruits
        let files = FileManager.default
        guard let built = (try? files.attributesOfItem(atPath: path))?[.modificationDate] as? Date else {
            return "\(path) does not exist: run `swift build` before these tests (scripts/test does)"
        }
        // FRUITS_BIN names a binary built elsewhere, from sources this checkout may not hold.
        guard ProcessInfo.processInfo.environment["FRUITS_BIN"] == nil else { return nil }
        let sources = Tools.root.appendingPathComponent("Sources")
        let newer = files.enumerator(at: sources, includingPropertiesForKeys: [.contentModificationDateKey])?
            .compactMap { $0 as? URL }
            .first { url in
                url.pathExtension == "swift"
                    && ((try? url.resourceValues(forKeys: [.contentModificationDateKey]))?.contentModificationDate ?? .distantPast) > built
            }
        guard let newer else { return nil }
        return "\(path) is older than \(newer.path.dropFirst(Tools.root.path.count + 1)): run `swift build` before these tests (scripts/test does)"
    }()
}
