import Testing

extension Tag {
    /// Needs more than the package: the embedded Kafka broker, the loopback
    /// S3 server or another tool of `.venv`, the weights, the built `fruits`,
    /// or Chromium. `scripts/test --fast` skips these.
    @Tag public static var integration: Self
}
