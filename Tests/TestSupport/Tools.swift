import Foundation

/// Paths the tests share: the package root and the tools venv.
public enum Tools {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The Python of the tools venv that scripts/setup creates.
    public static var python: String {
        ProcessInfo.processInfo.environment["FRUITS_PYTHON"] ?? root.appendingPathComponent(".venv/bin/python").path
    }

    public static func temporaryPath(_ name: String) -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fruits-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent(name).path
    }
}

extension Tools {
    /// The `fruits` executable of this build (`swift build` makes it).
    public static var fruits: String {
        ProcessInfo.processInfo.environment["FRUITS_BIN"] ?? root.appendingPathComponent(".build/debug/fruits").path
    }

    /// Runs a command to completion; returns its exit status and output.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}
