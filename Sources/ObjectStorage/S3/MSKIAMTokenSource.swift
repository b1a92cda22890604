import Foundation

/// Fresh MSK IAM tokens for one region, each signed with what the credential
/// provider (the chain of `AWSCredentialChain`) holds at that moment, so role
/// credentials that rotate are picked up by the next token.
public struct MSKIAMTokenSource: Sendable {
    public let region: String
    public let credentials: any AWSCredentialProvider
    public var userAgent = MSKIAMToken.defaultUserAgent
    public var now: @Sendable () -> Date = Date.init

    public init(region: String, credentials: any AWSCredentialProvider) throws {
        guard MSKIAMToken.isRegion(region) else { throw MSKIAMTokenError.invalidRegion(region) }
        self.region = region
        self.credentials = credentials
    }

    public func token() async throws -> MSKIAMToken {
        try MSKIAMToken(credentials: try await credentials.credentials(), region: region, date: now(), userAgent: userAgent)
    }
}
