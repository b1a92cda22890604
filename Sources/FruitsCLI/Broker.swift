import ArgumentParser
import Events
import Foundation
import Kafka

struct Broker: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an embedded Kafka cluster (librdkafka's mock) on loopback until SIGTERM.",
        discussion: """
            The first line of stdout is the bootstrap list. The cluster is a test double: no durability, \
            about 5 MiB kept per partition, no transactions. Use a real Kafka (compose/) for anything else.
            """
    )

    @Option(help: "Brokers in the cluster.")
    var brokers: Int = 1

    @Option(help: "Partitions of each topic created at start.")
    var partitions: Int = 6

    @Option(parsing: .upToNextOption, help: "Topics to create at start.")
    var topics: [String] = PipelineTopics().all

    func run() throws {
        let termination = TerminationSignal()  // before the bootstrap line: a caller may stop us right after reading it
        let cluster = try EmbeddedKafkaCluster(brokers: brokers)
        for topic in topics { try cluster.createTopic(topic, partitions: partitions) }
        FileHandle.standardOutput.write(Data((cluster.bootstrapServers + "\n").utf8))
        termination.wait()
        withExtendedLifetime(cluster) {}
    }
}

/// SIGTERM or SIGINT, caught from the moment it is made.
final class TerminationSignal {
    private let received = DispatchSemaphore(value: 0)
    private var sources: [DispatchSourceSignal] = []

    init() {
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [received] in received.signal() }
            source.resume()
            sources.append(source)
        }
    }

    /// Blocks until the signal.
    func wait() {
        received.wait()
        sources.forEach { $0.cancel() }
    }
}
