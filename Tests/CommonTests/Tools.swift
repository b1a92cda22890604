import Foundation

/// Paths the tests share: the package root and the tools venv.
enum Tools {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The Python of the tools venv that scripts/setup creates.
    static var python: String {
        ProcessInfo.processInfo.environment["FRUITS_PYTHON"] ?? root.appendingPathComponent(".venv/bin/python").path
    }

    static func temporaryPath(_ name: String) -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fruits-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent(name).path
    }
}
