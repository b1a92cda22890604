import Common
import Foundation
import Kafka
import Synchronization
import TestSupport
import Testing

/// What librdkafka 2.0.2's mock cluster does with SASL: nothing. It has no
/// SaslHandshake or SaslAuthenticate handler (its request table stops at the
/// transaction APIs) and its ApiVersions answer lists neither, so a SASL
/// client that holds a token connects, then gives up ("SASL Handshake not
/// supported by broker"): the mock checks no token and admits no SASL
/// client, and no metadata request can succeed. These tests therefore prove the wiring
/// through librdkafka's own callbacks: a client configured for OAUTHBEARER
/// asks for a token as it starts, without anyone polling it; librdkafka
/// accepts the token (`rd_kafka_oauthbearer_set_token` returns no error,
/// else the refresh reports `.failed`); it asks again before the token
/// expires; a failure is named by `checkReachable` and never quotes a token.
@Suite("OAUTHBEARER tokens through librdkafka's refresh callback", .tags(.integration), .serialized)
struct OAuthBearerTests {
    /// What the token callback was asked and what librdkafka made of it.
    final class Recorder: Sendable {
        let asked = Mutex<[Date]>([])
        let refreshes = Mutex<[KafkaOAuthBearer.Refresh]>([])

        func waitForRefreshes(_ count: Int, within seconds: Double) async throws -> [KafkaOAuthBearer.Refresh] {
            let deadline = Date().addingTimeInterval(seconds)
            while refreshes.withLock({ $0.count }) < count && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
            return refreshes.withLock { $0 }
        }
    }

    static func configuration(
        _ cluster: EmbeddedKafkaCluster, recorder: Recorder, timeout: Duration = .seconds(30),
        token: @escaping @Sendable (Int) async throws -> KafkaOAuthBearer.Token
    ) -> KafkaConfiguration {
        // SASL without TLS: the mock cluster listens in plaintext. Quiet: the
        // mock refusing every handshake is expected here.
        var configuration = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers,
                                               ["security.protocol": "SASL_PLAINTEXT", "log_level": "0"])
        configuration.authentication = .oauthBearer(KafkaOAuthBearer(principal: "fruits-test", timeout: timeout, onRefresh: { refresh in
            recorder.refreshes.withLock { $0.append(refresh) }
        }) {
            let number = recorder.asked.withLock { asked in
                asked.append(Date())
                return asked.count
            }
            return try await token(number)
        })
        return configuration
    }

    /// librdkafka refreshes 80 % of the way to the expiry, checked on a 1 s
    /// timer: with 8 s tokens the second request comes 6.4-7.4 s after the
    /// first token was set, before it expires. `KafkaAdmin` serves no queue:
    /// the callback runs on librdkafka's background thread.
    @Test func aTokenIsSetAtStartAndRefreshedBeforeItExpires() async throws {
        let cluster = try EmbeddedKafkaCluster()
        let recorder = Recorder()
        let admin = try KafkaAdmin(configuration: Self.configuration(cluster, recorder: recorder) { number in
            KafkaOAuthBearer.Token(value: "token-\(number)", expiry: Date().addingTimeInterval(8))
        })
        let refreshes = try await recorder.waitForRefreshes(2, within: 12)
        withExtendedLifetime(admin) {}
        try #require(refreshes.count >= 2, "refreshes: \(refreshes)")
        guard case .set(let firstExpiry) = refreshes[0], case .set = refreshes[1] else {
            Issue.record("librdkafka refused a token: \(refreshes)")
            return
        }
        let asked = recorder.asked.withLock { $0 }
        #expect(asked[1] < firstExpiry, "asked again at \(asked[1]), after the first token expired at \(firstExpiry)")
        #expect(asked[1].timeIntervalSince(asked[0]) > 5, "asked again too early: \(asked)")
    }

    /// The consumer's opaque carries both its rebalance state and its tokens.
    @Test func aConsumerGetsTokensToo() async throws {
        let cluster = try EmbeddedKafkaCluster()
        let recorder = Recorder()
        let consumer = try KafkaConsumer(configuration: Self.configuration(cluster, recorder: recorder) { _ in
            KafkaOAuthBearer.Token(value: "consumer-token", expiry: Date().addingTimeInterval(900))
        }, groupID: "oauth-test", subscription: .partitions([]))
        let refreshes = try await recorder.waitForRefreshes(1, within: 5)
        #expect(refreshes.first.map { if case .set = $0 { true } else { false } } == true, "\(refreshes)")
        try await consumer.close()
    }

    @Test func noTokenStopsTheStartWithTheReason() async throws {
        struct NoCredentials: Error, CustomStringConvertible {
            var description: String { "no AWS credentials from instance metadata: HTTP 404" }
        }
        let cluster = try EmbeddedKafkaCluster()
        let recorder = Recorder()
        let producer = try KafkaProducer(configuration: Self.configuration(cluster, recorder: recorder) { _ in throw NoCredentials() })
        let started = ContinuousClock.now
        let error = try await thrownKafkaError { try await producer.checkReachable(timeout: .seconds(10)) }
        #expect(error.kind == .authentication && !error.isRetriable)
        #expect(error.description.contains("no AWS credentials from instance metadata: HTTP 404"), "\(error)")
        #expect(ContinuousClock.now - started < .seconds(5), "waited for the metadata timeout instead of naming the cause")
        #expect(recorder.refreshes.withLock { $0.first } == .failed("no OAUTHBEARER token: no AWS credentials from instance metadata: HTTP 404"))
        try await producer.close(timeout: .seconds(1))
    }

    /// librdkafka quotes a token it refuses for an illegal character; neither
    /// the refresh report nor the error may carry it.
    @Test func aRefusedTokenIsNeverQuoted() async throws {
        let cluster = try EmbeddedKafkaCluster()
        for (name, token) in [
            ("illegal character", KafkaOAuthBearer.Token(value: "SECRET-MARKER-" + String(repeating: "x", count: 700) + "\u{7f}",
                                                         expiry: Date().addingTimeInterval(900))),
            ("already expired", KafkaOAuthBearer.Token(value: "SECRET-MARKER-expired", expiry: Date().addingTimeInterval(-1))),
        ] {
            let recorder = Recorder()
            let admin = try KafkaAdmin(configuration: Self.configuration(cluster, recorder: recorder) { _ in token })
            let refreshes = try await recorder.waitForRefreshes(1, within: 5)
            let error = try await thrownKafkaError { _ = try await admin.topics(timeout: .seconds(2)) }
            guard case .failed(let reason) = try #require(refreshes.first) else {
                Issue.record("\(name): librdkafka accepted the token")
                continue
            }
            #expect(reason.hasPrefix("librdkafka refused the OAUTHBEARER token: _INVALID_ARG"), "\(name): \(reason)")
            #expect(!reason.contains("SECRET-MARKER") && !"\(error)".contains("SECRET-MARKER"), "\(name): \(reason) / \(error)")
            #expect(error.kind == .authentication, "\(name): \(error)")
        }
    }

    /// A token source that hangs costs librdkafka's background thread the
    /// timeout, then counts as a failure (and librdkafka tries again later).
    @Test func aHangingTokenSourceTimesOut() async throws {
        let cluster = try EmbeddedKafkaCluster()
        let recorder = Recorder()
        let admin = try KafkaAdmin(configuration: Self.configuration(cluster, recorder: recorder, timeout: .seconds(1)) { _ in
            try await Task.sleep(for: .seconds(60))
            return KafkaOAuthBearer.Token(value: "late", expiry: Date().addingTimeInterval(900))
        })
        let refreshes = try await recorder.waitForRefreshes(1, within: 5)
        withExtendedLifetime(admin) {}
        #expect(refreshes.first == .failed("no OAUTHBEARER token: the token took longer than 1.0 seconds"), "\(refreshes)")
    }
}

struct NoErrorThrown: Error {}

/// What a client call throws.
func thrownKafkaError(_ body: () async throws -> Void) async throws -> KafkaError {
    let result: Result<Void, any Error>
    do { result = .success(try await body()) } catch { result = .failure(error) }
    guard case .failure(let error) = result else {
        Issue.record("no error thrown")
        throw NoErrorThrown()
    }
    return try #require(error as? KafkaError, "\(error)")
}
