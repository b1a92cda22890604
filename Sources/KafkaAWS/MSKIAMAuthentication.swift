import Kafka
import Logging
import ObjectStorage

extension KafkaAuthentication {
    /// Amazon MSK's IAM access control: SASL/OAUTHBEARER with `MSKIAMToken`s
    /// signed with `credentials` (the AWS credential chain) for `region`,
    /// made when librdkafka asks: at start, then 80 % into each token's
    /// 15 minutes. A failed refresh is logged as a warning with its reason;
    /// librdkafka tries again 10 s later and keeps the current token meanwhile.
    public static func awsMSKIAM(region: String, credentials: any AWSCredentialProvider, logger: Logger) throws -> KafkaAuthentication {
        let tokens = try MSKIAMTokenSource(region: region, credentials: credentials)
        let source = KafkaOAuthBearer(principal: "fruits", onRefresh: { refresh in
            switch refresh {
            case .set(let expiry): logger.debug("Kafka token refreshed (MSK IAM)", metadata: ["expires": "\(expiry)"])
            case .failed(let reason): logger.warning("no Kafka token (MSK IAM)", metadata: ["region": "\(region)", "reason": "\(reason)"])
            }
        }) {
            let token = try await tokens.token()
            return KafkaOAuthBearer.Token(value: token.value, expiry: token.expiry)
        }
        return .oauthBearer(source)
    }
}
