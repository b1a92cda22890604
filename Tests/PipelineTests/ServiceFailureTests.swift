import Foundation
import TestSupport
import Testing

@Suite("Services fail fast on a missing broker and stop cleanly on SIGTERM")
struct ServiceFailureTests {
    static let unreachable = ["--brokers", "127.0.0.1:1", "--connect-timeout", "2", "-X", "log_level=0"]

    @Test(arguments: [
        ["extract"], ["reduce", "--output", NSTemporaryDirectory() + "fruits-unreachable"], ["ingest", NSTemporaryDirectory()],
    ])
    func unreachableBrokerExitsNonZeroWithinABound(command: [String]) throws {
        let started = ContinuousClock.now
        let result = try Tools.run(Tools.fruits, command + Self.unreachable)
        #expect(result.status != 0)
        #expect(result.output.contains("no Kafka broker answered at 127.0.0.1:1"), "\(result.output.suffix(500))")
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test func sigtermStopsAnIdleExtractorWithExitZero() throws {
        let broker = try Broker()
        let extractor = Process()
        extractor.executableURL = URL(fileURLWithPath: Tools.fruits)
        extractor.arguments = ["extract", "--brokers", broker.bootstrap, "--threads", "1"]
        let errors = Pipe()
        extractor.standardError = errors
        try extractor.run()
        // Wait until it has joined, then ask it to stop.
        var log = ""
        while !log.contains("extractor joined group") {
            let chunk = errors.fileHandleForReading.availableData
            try #require(!chunk.isEmpty, "the extractor exited early: \(log)")
            log += String(decoding: chunk, as: UTF8.self)
        }
        let stopping = ContinuousClock.now
        extractor.terminate()
        extractor.waitUntilExit()
        #expect(extractor.terminationStatus == 0)
        #expect(ContinuousClock.now - stopping < .seconds(15))
        withExtendedLifetime(broker) {}
    }
}
