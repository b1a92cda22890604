import Foundation

/// How a client proves who it is to the brokers beyond what librdkafka
/// properties say (`sasl.username`, client certificates).
public enum KafkaAuthentication: Sendable {
    case none
    /// SASL/OAUTHBEARER with tokens from `KafkaOAuthBearer`, e.g. Amazon
    /// MSK's IAM tokens; `security.protocol=SASL_SSL` and
    /// `sasl.mechanism=OAUTHBEARER` unless the properties say otherwise.
    case oauthBearer(KafkaOAuthBearer)
}

/// Where a client's OAUTHBEARER tokens come from. librdkafka asks for one as
/// the client starts and again 80 % of the way to the current token's
/// `expiry`; without a token it does not connect.
///
/// `token` is awaited on librdkafka's background thread, which waits for it
/// (blocked, up to `timeout`): a credential fetch may take a few seconds,
/// and no cooperative-pool thread is held meanwhile.
public struct KafkaOAuthBearer: Sendable {
    public struct Token: Sendable, CustomStringConvertible {
        /// A bearer credential: never logged, never put in an error.
        public var value: String
        public var expiry: Date

        public init(value: String, expiry: Date) {
            self.value = value
            self.expiry = expiry
        }

        public var description: String { "Token(expires: \(expiry), value: ***)" }
    }

    /// What a refresh came to, without the token: for logs and tests.
    public enum Refresh: Sendable, Equatable {
        /// librdkafka accepted a token valid until `expiry`.
        case set(expiry: Date)
        /// No token: why, never quoting one.
        case failed(String)
    }

    /// The Kafka principal librdkafka pairs with the token; brokers that
    /// derive the identity from the token (MSK) ignore it.
    public var principal: String
    public var timeout: Duration
    public var token: @Sendable () async throws -> Token
    public var onRefresh: @Sendable (Refresh) -> Void

    public init(
        principal: String, timeout: Duration = .seconds(30), onRefresh: @escaping @Sendable (Refresh) -> Void = { _ in },
        token: @escaping @Sendable () async throws -> Token
    ) {
        self.principal = principal
        self.timeout = timeout
        self.onRefresh = onRefresh
        self.token = token
    }
}
