import Kafka
import Testing

@Suite("KafkaError: what is worth retrying")
struct KafkaErrorTests {
    // librdkafka's codes (rdkafka.h), written out: the test reads like the header.
    static let messageTimedOut: Int32 = -192
    static let notLeaderForPartition: Int32 = 6
    static let messageSizeTooLarge: Int32 = 10
    static let topicAuthorizationFailed: Int32 = 29

    @Test func transientBrokerStatesAreRetriable() {
        #expect(KafkaError(.delivery, code: Self.messageTimedOut, "delivery").isRetriable)
        #expect(KafkaError(.delivery, code: Self.notLeaderForPartition, "delivery").isRetriable)
        #expect(KafkaError(.brokerUnreachable, "no broker").isRetriable)
        #expect(KafkaError(.rebalanced, "commit lost to a rebalance").isRetriable)
    }

    @Test func refusalsAndOurOwnMistakesAreNot() {
        #expect(!KafkaError(.delivery, code: Self.messageSizeTooLarge, "delivery").isRetriable)
        #expect(!KafkaError(.consume, code: Self.topicAuthorizationFailed, "consume").isRetriable)
        #expect(!KafkaError(.configuration, code: Self.messageTimedOut, "bad property").isRetriable)
        #expect(!KafkaError(.closed, "closed").isRetriable)
        #expect(!KafkaError(.client, "no code").isRetriable)
    }
}
