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
        let cluster = try EmbeddedKafkaCluster(brokers: brokers)
        for topic in topics { try cluster.createTopic(topic, partitions: partitions) }
        FileHandle.standardOutput.write(Data((cluster.bootstrapServers + "\n").utf8))
        waitForTermination()
        withExtendedLifetime(cluster) {}
    }
}

/// Blocks until SIGTERM or SIGINT.
func waitForTermination() {
    let stop = DispatchSemaphore(value: 0)
    var sources: [DispatchSourceSignal] = []
    for signalNumber in [SIGTERM, SIGINT] {
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        source.setEventHandler { stop.signal() }
        source.resume()
        sources.append(source)
    }
    stop.wait()
    sources.forEach { $0.cancel() }
}
