import CRdKafka

/// librdkafka properties (`bootstrap.servers`, `compression.type`, ...). Any
/// property of librdkafka's CONFIGURATION.md may be set; typed accessors cover
/// the ones this project sets itself.
public struct KafkaConfiguration: Sendable {
    public var properties: [String: String]
    public var authentication = KafkaAuthentication.none

    public init(bootstrapServers: String, _ properties: [String: String] = [:]) {
        self.properties = properties
        self.properties["bootstrap.servers"] = bootstrapServers
    }

    public var bootstrapServers: String { properties["bootstrap.servers"] ?? "" }

    public subscript(_ key: String) -> String? {
        get { properties[key] }
        set { properties[key] = newValue }
    }

    /// Sets `key` unless the operator already did (`-X`, environment), under
    /// that name or librdkafka's other name for it.
    public mutating func setDefault(_ key: String, _ value: String) {
        let given = properties[key] != nil || Self.aliases[key].map { properties[$0] != nil } == true
        if !given { properties[key] = value }
    }

    /// librdkafka's two names of the properties this project sets by default.
    private static let aliases = ["linger.ms": "queue.buffering.max.ms", "queue.buffering.max.ms": "linger.ms"]

    /// `setDefault` of a (key, value) pair such as `KafkaConsumer.lowLatencyFetch`.
    public mutating func setDefault(_ property: (key: String, value: String)) {
        setDefault(property.key, property.value)
    }

    /// Parses `key=value` overrides as given to `-X` on the command line.
    /// A malformed entry is named by its position, never quoted: it may be
    /// a secret typed with the wrong separator (`sasl.password:...`).
    public mutating func apply(overrides: [String]) throws {
        for (position, override) in overrides.enumerated() {
            guard let equals = override.firstIndex(of: "="), equals != override.startIndex else {
                throw KafkaError(.configuration, "Kafka property \(position + 1) of \(overrides.count) (-X or FRUITS_KAFKA_PROPERTIES) "
                    + "is not key=value; its text is not shown, as it may hold a secret")
            }
            properties[String(override[..<equals])] = String(override[override.index(after: equals)...])
        }
    }

    /// A fresh `rd_kafka_conf_t` of `effectiveProperties()`; ownership passes to `rd_kafka_new`.
    func makeHandle() throws -> OpaquePointer {
        let effective = try effectiveProperties()
        let conf = rd_kafka_conf_new()!
        var errorText = [CChar](repeating: 0, count: 512)
        for (key, value) in effective.sorted(by: { $0.key < $1.key }) {
            if rd_kafka_conf_set(conf, key, value, &errorText, errorText.count) != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                // The value may be a secret (sasl.password, ssl.key.password), and
                // librdkafka's message may quote it: name the key only.
                let reason = text(errorText).replacingOccurrences(of: value, with: "***")
                throw KafkaError(.configuration, "Kafka property \(key) was rejected: \(reason)")
            }
        }
        return conf
    }
}
