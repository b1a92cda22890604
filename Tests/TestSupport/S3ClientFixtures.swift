import Common
import ObjectStorage

extension S3Client {
    /// Puts every key, eight requests in flight; the first failure is thrown.
    public func putAll(_ keys: [String], bucket: String, body: @escaping @Sendable (String) -> [UInt8]) async throws {
        _ = try await ConcurrentMap.map(keys, parallelism: 8) { key in
            try await self.putObject(bucket: bucket, key: key, body: body(key))
        }
    }
}
