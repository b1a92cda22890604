import Foundation

/// Where a request's credentials come from. Long-running services sign every
/// request with `credentials()`, so role credentials that expire are replaced
/// without a restart.
public protocol AWSCredentialProvider: Sendable {
    func credentials() async throws -> AWSCredentials
}

extension AWSCredentials: AWSCredentialProvider {
    /// Fixed keys provide themselves.
    public func credentials() async throws -> AWSCredentials { self }
}

/// Credentials fetched from a service (STS, the container agent, the instance
/// metadata service), kept until shortly before they expire, then fetched
/// again. One fetch at a time; the others wait for it.
public actor RefreshingCredentials: AWSCredentialProvider {
    /// Fetched again this long before `expiration`, so a request signed now is
    /// still valid when it arrives.
    public static let refreshMargin: TimeInterval = 5 * 60

    private let fetch: @Sendable () async throws -> AWSCredentials
    private let now: @Sendable () -> Date
    private var cached: AWSCredentials?
    private var fetching: Task<AWSCredentials, any Error>?
    public nonisolated let source: String

    public init(source: String, now: @escaping @Sendable () -> Date = Date.init,
                fetch: @escaping @Sendable () async throws -> AWSCredentials) {
        self.source = source
        self.now = now
        self.fetch = fetch
    }

    public func credentials() async throws -> AWSCredentials {
        if let cached, let expiration = cached.expiration, expiration.timeIntervalSince(now()) > Self.refreshMargin {
            return cached
        }
        if let cached, cached.expiration == nil { return cached }
        if let fetching { return try await fetching.value }
        let fetch = self.fetch
        let task = Task { try await fetch() }
        fetching = task
        defer { fetching = nil }
        let fresh = try await task.value
        cached = fresh
        return fresh
    }
}
