import Foundation
import ObjectStorage

extension Tools {
    /// One HTTP client for the tests' probes (metrics, health, fakes): each
    /// client runs a thread of its own, so a client per poll would start one
    /// every 100 ms.
    public static let http = CurlHTTPClient()

    /// A gauge or counter of a service's Prometheus endpoint; nil while it does not answer.
    public static func metric(_ name: String, port: Int) async -> Double? {
        guard let response = try? await Tools.http.perform(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/metrics")) else {
            return nil
        }
        let line = String(decoding: response.body, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
    }

    /// Polls `condition` until it holds; past `timeout` throws, naming `what`.
    public static func waitUntil(_ what: String, timeout: Duration = .seconds(90), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw TestServerError(message: "timed out waiting until \(what)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// SIGKILL, the way a crashed pod dies, and reap it.
    public static func killHard(_ process: Process) {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, as Kubernetes stops a pod, then its exit status. Past
    /// `timeout` the process is killed and the wait throws, naming `what`.
    public static func stop(_ process: Process, _ what: String, timeout: Duration = .seconds(30)) async throws -> Int32 {
        process.terminate()
        return try await exitStatus(of: process, what, timeout: timeout)
    }

    /// Waits for `process` to exit without holding a thread. Past `timeout`
    /// the process is killed and the wait throws, naming `what`.
    public static func exitStatus(of process: Process, _ what: String, timeout: Duration = .seconds(30)) async throws -> Int32 {
        do {
            try await waitUntil("\(what) exits", timeout: timeout) { !process.isRunning }
        } catch {
            killHard(process)
            throw error
        }
        return process.terminationStatus
    }

    /// Clean-up for a `defer`: SIGTERM to all that still run, SIGKILL to
    /// those still running 10 s later. It blocks, but never longer than that.
    public static func reap(_ processes: [Process]) {
        for process in processes where process.isRunning { process.terminate() }
        let deadline = ContinuousClock.now + .seconds(10)
        while processes.contains(where: \.isRunning) && ContinuousClock.now < deadline { usleep(20_000) }
        for process in processes where process.isRunning { killHard(process) }
    }
}
