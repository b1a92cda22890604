/// What the project sets about transport security unless the operator did,
/// and what it warns about when the operator weakened it.
extension KafkaConfiguration {
    /// The properties a client is made with: `properties`, plus
    /// `security.protocol=SASL_SSL` and `sasl.mechanism=OAUTHBEARER` for
    /// `.oauthBearer`, and over TLS the brokers' host names checked against
    /// their certificates (`ssl.endpoint.identification.algorithm=https`),
    /// each unless set. Throws when the properties contradict `authentication`.
    public func effectiveProperties() throws -> [String: String] {
        var effective = properties
        if case .oauthBearer = authentication {
            let transport = effective["security.protocol", default: "SASL_SSL"]
            let mechanism = effective["sasl.mechanism", default: "OAUTHBEARER"]
            guard transport.lowercased().hasPrefix("sasl_") else {
                throw KafkaError(.configuration, "OAUTHBEARER tokens need security.protocol SASL_SSL, not \(transport)")
            }
            guard mechanism.uppercased() == "OAUTHBEARER" else {
                throw KafkaError(.configuration, "OAUTHBEARER tokens need sasl.mechanism OAUTHBEARER, not \(mechanism)")
            }
            effective["security.protocol"] = transport
            effective["sasl.mechanism"] = mechanism
        }
        if Self.usesTLS(effective), effective["ssl.endpoint.identification.algorithm"] == nil {
            effective["ssl.endpoint.identification.algorithm"] = "https"
        }
        return effective
    }

    /// One sentence per way these properties expose the connection, for a
    /// service to log at start. Quotes property names and their values,
    /// never other values.
    public var securityWarnings: [String] {
        let effective = (try? effectiveProperties()) ?? properties
        let transport = effective["security.protocol", default: "plaintext"].lowercased()
        var warnings: [String] = []
        if Self.usesTLS(effective) {
            if let verify = effective["enable.ssl.certificate.verification"], ["false", "f", "0"].contains(verify.lowercased()) {
                warnings.append("enable.ssl.certificate.verification=\(verify): the brokers' certificates are not verified; "
                    + "anyone on the network path can pose as a broker")
            }
            if let algorithm = effective["ssl.endpoint.identification.algorithm"], algorithm.lowercased() == "none" {
                warnings.append("ssl.endpoint.identification.algorithm=none: the brokers' host names are not checked against "
                    + "their certificates; any certificate the CA signed passes")
            }
        } else if transport == "sasl_plaintext" {
            warnings.append("security.protocol=SASL_PLAINTEXT: the SASL credentials or tokens cross the network unencrypted")
        }
        return warnings
    }

    static func usesTLS(_ properties: [String: String]) -> Bool {
        ["ssl", "sasl_ssl"].contains(properties["security.protocol", default: "plaintext"].lowercased())
    }
}
