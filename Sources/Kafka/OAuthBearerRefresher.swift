import CRdKafka
import Dispatch
import Foundation
import Synchronization

/// Answers librdkafka's token-refresh callback for one client: awaits
/// `KafkaOAuthBearer.token` and hands the result to librdkafka.
final class OAuthBearerRefresher: Sendable {
    let source: KafkaOAuthBearer
    /// nil until the first refresh ends; then why the latest failed, or "" once a token is set.
    private let lastFailure = Mutex<String?>(nil)

    init(_ source: KafkaOAuthBearer) {
        self.source = source
    }

    /// On librdkafka's background thread; blocks it until the token comes
    /// or `source.timeout` passes.
    func refresh(_ client: OpaquePointer) {
        let outcome: KafkaOAuthBearer.Refresh
        switch awaitToken() {
        case .success(let token):
            outcome = set(token, on: client)
        case .failure(let error):
            outcome = .failed("no OAUTHBEARER token: \(error)")
        }
        if case .failed(let reason) = outcome { rd_kafka_oauthbearer_set_token_failure(client, reason) }
        lastFailure.withLock {
            if case .failed(let reason) = outcome { $0 = reason } else { $0 = "" }
        }
        source.onRefresh(outcome)
    }

    /// Why the latest refresh failed, after waiting up to `timeout` for the
    /// first one; nil once a token was set.
    func failure(waitingUpTo timeout: Duration) -> String? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let failure = lastFailure.withLock { $0 }
            if let failure { return failure.isEmpty ? nil : failure }
            if ContinuousClock.now >= deadline { return nil }
            usleep(20_000)
        }
    }

    private func set(_ token: KafkaOAuthBearer.Token, on client: OpaquePointer) -> KafkaOAuthBearer.Refresh {
        let expiry = Int64((token.expiry.timeIntervalSince1970 * 1000).rounded(.down))
        var errorText = [CChar](repeating: 0, count: 512)
        let error = rd_kafka_oauthbearer_set_token(client, token.value, expiry, source.principal, nil, 0, &errorText, errorText.count)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            // librdkafka's text may quote the token (an illegal character's
            // message does), cut to the buffer: keep only what precedes it.
            let reason = text(errorText).split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
            return .failed("librdkafka refused the OAUTHBEARER token: \(String(cString: rd_kafka_err2name(error))): \(reason)")
        }
        return .set(expiry: Date(timeIntervalSince1970: TimeInterval(expiry) / 1000))
    }

    private func awaitToken() -> Result<KafkaOAuthBearer.Token, any Error> {
        let pending = PendingToken()
        let source = self.source
        let task = Task {
            do { pending.finish(.success(try await source.token())) } catch { pending.finish(.failure(error)) }
        }
        guard let result = pending.wait(timeout: source.timeout) else {
            task.cancel()
            return .failure(KafkaError(.authentication, "the token took longer than \(source.timeout)"))
        }
        return result
    }
}

/// A token being made on the cooperative pool, awaited from a librdkafka thread.
private final class PendingToken: Sendable {
    private let result = Mutex<Result<KafkaOAuthBearer.Token, any Error>?>(nil)
    private let done = DispatchSemaphore(value: 0)

    func finish(_ outcome: Result<KafkaOAuthBearer.Token, any Error>) {
        result.withLock { $0 = outcome }
        done.signal()
    }

    func wait(timeout: Duration) -> Result<KafkaOAuthBearer.Token, any Error>? {
        guard done.wait(timeout: .now() + .milliseconds(Int(timeout.milliseconds))) == .success else { return nil }
        return result.withLock { $0 }
    }
}

/// librdkafka's token-refresh callback, served on its background thread
/// (the client's SASL queue is forwarded there).
let oauthBearerRefreshCallback: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
    client, _, opaque in
    guard let client, let opaque else { return }
    Unmanaged<KafkaClientContext>.fromOpaque(opaque).takeUnretainedValue().oauthBearer?.refresh(client)
}
