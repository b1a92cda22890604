import CRdKafka
import Foundation
@testable import Kafka
import Testing

@Suite("Kafka transport security: defaults, the operator's choices, warnings")
struct KafkaSecurityTests {
    static let oauthBearer = KafkaAuthentication.oauthBearer(KafkaOAuthBearer(principal: "p") {
        KafkaOAuthBearer.Token(value: "t", expiry: Date().addingTimeInterval(900))
    })

    static func configuration(_ properties: [String: String], authentication: KafkaAuthentication = .none) -> KafkaConfiguration {
        var configuration = KafkaConfiguration(bootstrapServers: "b:9098", properties)
        configuration.authentication = authentication
        return configuration
    }

    @Test func tlsChecksTheBrokersHostNameUnlessTheOperatorSaidOtherwise() throws {
        for transport in ["SSL", "SASL_SSL", "sasl_ssl"] {
            let effective = try Self.configuration(["security.protocol": transport]).effectiveProperties()
            #expect(effective["ssl.endpoint.identification.algorithm"] == "https", "\(transport)")
        }
        let plaintext = try Self.configuration([:]).effectiveProperties()
        #expect(plaintext == ["bootstrap.servers": "b:9098"])
        let none = Self.configuration(["security.protocol": "SSL", "ssl.endpoint.identification.algorithm": "none"])
        #expect(try none.effectiveProperties()["ssl.endpoint.identification.algorithm"] == "none")
    }

    /// The client is made with the effective properties, not only `properties`.
    @Test func theClientGetsTheEffectiveProperties() throws {
        let conf = try Self.configuration(["security.protocol": "SASL_SSL", "sasl.mechanism": "OAUTHBEARER"]).makeHandle()
        defer { rd_kafka_conf_destroy(conf) }
        var value = [CChar](repeating: 0, count: 64)
        var size = value.count
        #expect(rd_kafka_conf_get(conf, "ssl.endpoint.identification.algorithm", &value, &size) == RD_KAFKA_CONF_OK)
        #expect(text(value) == "https")
    }

    @Test func oauthBearerMeansSASLOverTLSUnlessTheOperatorSaidOtherwise() throws {
        let effective = try Self.configuration([:], authentication: Self.oauthBearer).effectiveProperties()
        #expect(effective["security.protocol"] == "SASL_SSL" && effective["sasl.mechanism"] == "OAUTHBEARER")
        #expect(effective["ssl.endpoint.identification.algorithm"] == "https")
        let plaintext = Self.configuration(["security.protocol": "SASL_PLAINTEXT"], authentication: Self.oauthBearer)
        #expect(try plaintext.effectiveProperties()["security.protocol"] == "SASL_PLAINTEXT")
        #expect(plaintext.securityWarnings == ["security.protocol=SASL_PLAINTEXT: the SASL credentials or tokens cross the network unencrypted"])
    }

    @Test func propertiesThatContradictOAuthBearerAreRefused() {
        for properties in [["security.protocol": "SSL"], ["security.protocol": "PLAINTEXT"], ["sasl.mechanism": "PLAIN"]] {
            #expect(throws: KafkaError.self, "\(properties)") {
                try Self.configuration(properties, authentication: Self.oauthBearer).effectiveProperties()
            }
            #expect(throws: KafkaError.self, "\(properties)") {
                try KafkaAdmin(configuration: Self.configuration(properties, authentication: Self.oauthBearer))
            }
        }
    }

    @Test func turningVerificationOffIsWarnedAbout() {
        #expect(Self.configuration(["security.protocol": "SASL_SSL"]).securityWarnings.isEmpty)
        #expect(Self.configuration(["security.protocol": "SSL", "enable.ssl.certificate.verification": "true"]).securityWarnings.isEmpty)
        #expect(Self.configuration([:]).securityWarnings.isEmpty)
        let off = Self.configuration(["security.protocol": "SSL", "enable.ssl.certificate.verification": "False"]).securityWarnings
        #expect(off.count == 1 && off[0].hasPrefix("enable.ssl.certificate.verification=False: the brokers' certificates are not verified"))
        let unchecked = Self.configuration(["security.protocol": "SASL_SSL", "ssl.endpoint.identification.algorithm": "none",
                                            "enable.ssl.certificate.verification": "0"]).securityWarnings
        #expect(unchecked.count == 2 && unchecked[1].hasPrefix("ssl.endpoint.identification.algorithm=none"))
    }

    @Test func warningsNameNoOtherValue() {
        let warnings = Self.configuration(["security.protocol": "SASL_SSL", "enable.ssl.certificate.verification": "false",
                                           "sasl.password": "hunter2", "ssl.key.password": "hunter3"]).securityWarnings
        #expect(!warnings.isEmpty && !warnings.joined().contains("hunter"))
    }
}
