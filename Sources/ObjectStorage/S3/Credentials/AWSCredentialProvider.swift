import Foundation
import Synchronization

/// Where a request's credentials come from. Long-running services sign every
/// request with `credentials()`, so role credentials that expire are replaced
/// without a restart.
public protocol AWSCredentialProvider: Sendable {
    func credentials() throws -> AWSCredentials
}

extension AWSCredentials: AWSCredentialProvider {
    /// Fixed keys provide themselves.
    public func credentials() throws -> AWSCredentials { self }
}

/// Credentials fetched from a service (STS, the container agent, the instance
/// metadata service), kept until shortly before they expire, then fetched
/// again. One fetch at a time; the others wait for it.
public final class RefreshingCredentials: AWSCredentialProvider {
    /// Fetched again this long before `expiration`, so a request signed now is
    /// still valid when it arrives.
    public static let refreshMargin: TimeInterval = 5 * 60

    private let fetch: @Sendable () throws -> AWSCredentials
    private let current = Mutex<AWSCredentials?>(nil)
    private let now: @Sendable () -> Date
    public let source: String

    public init(source: String, now: @escaping @Sendable () -> Date = Date.init, fetch: @escaping @Sendable () throws -> AWSCredentials) {
        self.source = source
        self.now = now
        self.fetch = fetch
    }

    public func credentials() throws -> AWSCredentials {
        try current.withLock { cached in
            if let cached, let expiration = cached.expiration, expiration.timeIntervalSince(now()) > Self.refreshMargin {
                return cached
            }
            if let cached, cached.expiration == nil { return cached }
            let fresh = try fetch()
            cached = fresh
            return fresh
        }
    }
}
