import Foundation
import Synchronization

/// Paths the tests share: the package root and the tools venv.
public enum Tools {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The Python of the tools venv that scripts/setup creates.
    public static var python: String {
        ProcessInfo.processInfo.environment["FRUITS_PYTHON"] ?? root.appendingPathComponent(".venv/bin/python").path
    }

    /// The converted ImageNet weights (`scripts/setup` makes them), or `FRUITS_WEIGHTS`.
    public static var weights: String {
        ProcessInfo.processInfo.environment["FRUITS_WEIGHTS"] ?? root.appendingPathComponent("models/mobilenet_v2_1.0_224.fw").path
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

    /// Runs a command to completion; returns its exit status and output. Past
    /// `timeout` the command is killed and the call throws. The wait is on a
    /// thread of its own: a test awaiting a minutes-long command must not hold
    /// one of the cooperative pool's threads (two on this machine).
    @discardableResult
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(600),
        directory: String? = nil
    ) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result {
                    try runBlocking(executable, arguments, environment: environment, timeout: timeout, directory: directory)
                })
            }.start()
        }
    }

    private static func runBlocking(
        _ executable: String, _ arguments: [String], environment: [String: String], timeout: Duration, directory: String?
    ) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let timedOut = Mutex(false)
        let deadline = DispatchWorkItem {
            guard process.isRunning else { return }
            timedOut.withLock { $0 = true }
            kill(process.processIdentifier, SIGKILL)
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(timeout.components.seconds * 1000)), execute: deadline)
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        deadline.cancel()
        if timedOut.withLock({ $0 }) {
            throw TestServerError(message: "\(arguments.prefix(2).joined(separator: " ")) did not finish within \(timeout): \(output.suffix(2000))")
        }
        return (process.terminationStatus, output)
    }
}

extension Tools {
    /// A port below Linux's ephemeral range (32768+) that is free right now,
    /// so outgoing client connections cannot take it before a server binds it.
    public static func freePort() -> Int {
        while true {
            let port = Int.random(in: 20_000..<32_000)
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(socket) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if bound == 0 { return port }
        }
    }
}

extension Tools {
    /// Starts a Python test server of tools/ that prints one JSON line once
    /// ready and serves until its standard input closes; its stderr goes to
    /// `log` in the tests' temporary folder. Returns the process, the pipe to
    /// keep open, and the line.
    public static func startServer(script: String, log: String) throws -> (Process, Pipe, Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [root.appendingPathComponent(script).path]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        let logPath = temporaryPath(log)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: logPath)
        try process.run()
        let line = try firstLine(of: output, from: "\(script) (log: \(logPath); run scripts/setup)")
        return (process, input, line)
    }

    /// What a child printed up to its first newline; throws if it exits first.
    public static func firstLine(of output: Pipe, from child: String) throws -> Data {
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw TestServerError(message: "\(child) exited before printing its first line") }
            line += chunk
        }
        return line
    }
}
