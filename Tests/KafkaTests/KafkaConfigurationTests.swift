import Kafka
import Testing

@Suite("KafkaConfiguration: the project's defaults give way to the operator's")
struct KafkaConfigurationTests {
    @Test func aDefaultIsSetOnlyWhereTheOperatorSetNothing() {
        var configuration = KafkaConfiguration(bootstrapServers: "b:9092", ["fetch.wait.max.ms": "50"])
        configuration.setDefault(KafkaConsumer.lowLatencyFetch)
        configuration.setDefault(KafkaProducer.lowLatency)
        #expect(configuration["fetch.wait.max.ms"] == "50")
        #expect(configuration["linger.ms"] == "1")
    }

    /// librdkafka reads both names; a default under one must not override the
    /// operator's value under the other.
    @Test func lingerGivenUnderItsOtherNameIsTheOperators() {
        var configuration = KafkaConfiguration(bootstrapServers: "b:9092", ["queue.buffering.max.ms": "20"])
        configuration.setDefault(KafkaProducer.lowLatency)
        #expect(configuration["linger.ms"] == nil)
        #expect(configuration["queue.buffering.max.ms"] == "20")
    }
}
