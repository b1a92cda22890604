import Foundation
import Synchronization
import TestSupport
import Testing

@testable import ObjectStorage

/// The standard chain, each source against a loopback fake
/// (tools/aws_credential_fakes.py): STS for a web identity, the container
/// agent, IMDSv2; role credentials are fetched again before they expire.
@Suite("AWS credentials the way clusters provide them", .tags(.integration), .serialized)
struct AWSCredentialChainTests {
    /// Never the real metadata address: every test names its endpoint or disables IMDS.
    static let base = ["AWS_EC2_METADATA_DISABLED": "true", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials", "HOME": "/nonexistent"]

    @Test func keysInTheEnvironmentComeFirst() async throws {
        let provider = try AWSCredentialChain.fromEnvironment(Self.base.merging([
            "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_ROLE_ARN": "arn:aws:iam::1:role/r",
            "AWS_WEB_IDENTITY_TOKEN_FILE": "/nonexistent/token",
        ]) { $1 })
        #expect(try await provider.credentials().accessKeyID == "AKIDENV")
    }

    @Test func webIdentityAssumesTheRoleThroughSTS() async throws {
        let fakes = try await AWSCredentialFakes.shared()
        let token = Tools.temporaryPath("web-identity-token")
        try "eyJhbGciOiJSUzI1NiJ9.test.token".write(toFile: token, atomically: true, encoding: .utf8)
        let provider = try AWSCredentialChain.fromEnvironment(Self.base.merging([
            "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/fruits-pipeline", "AWS_WEB_IDENTITY_TOKEN_FILE": token,
            "AWS_ENDPOINT_URL_STS": fakes.sts,
        ]) { $1 })
        let credentials = try await provider.credentials()
        #expect(credentials.accessKeyID.hasPrefix("ASIA"))
        #expect(credentials.sessionToken?.isEmpty == false)
        #expect(credentials.expiration.map { $0 > Date() } == true)
        // Cached while far from expiry: the same key again, no second call.
        #expect(try await provider.credentials().accessKeyID == credentials.accessKeyID)
    }

    @Test func containerCredentialsNeedTheirToken() async throws {
        let fakes = try await AWSCredentialFakes.shared()
        let tokenFile = Tools.temporaryPath("container-token")
        try AWSCredentialFakes.containerToken.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let good = try AWSCredentialChain.fromEnvironment(Self.base.merging([
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": fakes.container, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile,
        ]) { $1 })
        #expect(try await good.credentials().accessKeyID.hasPrefix("AKIDFAKE"))
        let wrong = try AWSCredentialChain.fromEnvironment(Self.base.merging([
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": fakes.container, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "wrong",
        ]) { $1 })
        let error = await #expect(throws: S3Error.self) { try await wrong.credentials() }
        #expect(error?.isMissingCredentials == true)
    }

    /// IMDSv2 credentials that expire within the refresh margin are fetched
    /// again on the next request; ones far from expiry are kept.
    @Test func instanceMetadataCredentialsAreRefreshedBeforeTheyExpire() async throws {
        let fakes = try await AWSCredentialFakes.shared()
        var environment = Self.base
        environment["AWS_EC2_METADATA_DISABLED"] = nil
        environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = fakes.metadata
        try await fakes.setExpiry(seconds: 60)
        let expiring = try AWSCredentialChain.fromEnvironment(environment)
        let first = try await expiring.credentials()
        let second = try await expiring.credentials()
        #expect(first.accessKeyID != second.accessKeyID, "credentials 60 s from expiry must be fetched again")

        try await fakes.setExpiry(seconds: 3600)
        let lasting = try AWSCredentialChain.fromEnvironment(environment)
        let issued = try await fakes.issued()
        let key = try await lasting.credentials().accessKeyID
        #expect(try await lasting.credentials().accessKeyID == key)
        #expect(try await fakes.issued() == issued + 1)
    }

    @Test func nothingConfiguredFailsAtOnceNamingWhatToSet() async throws {
        let started = ContinuousClock.now
        let error = #expect(throws: S3Error.self) { try AWSCredentialChain.fromEnvironment(Self.base) }
        #expect(error?.isMissingCredentials == true)
        #expect("\(error!)".contains("AWS_ROLE_ARN"))
        #expect(ContinuousClock.now - started < .seconds(1))
    }

    @Test func refreshingCredentialsFetchOnceUntilTheMargin() async throws {
        let clock = Mutex(Date(timeIntervalSince1970: 1_000_000))
        let fetches = Mutex(0)
        let provider = RefreshingCredentials(source: "test", now: { clock.withLock { $0 } }) {
            let count = fetches.withLock { $0 += 1; return $0 }
            return AWSCredentials(accessKeyID: "K\(count)", secretAccessKey: "s",
                                  expiration: clock.withLock { $0 }.addingTimeInterval(3600))
        }
        #expect(try await provider.credentials().accessKeyID == "K1")
        clock.withLock { $0 += 3600 - RefreshingCredentials.refreshMargin - 1 }
        #expect(try await provider.credentials().accessKeyID == "K1")
        clock.withLock { $0 += 2 }
        #expect(try await provider.credentials().accessKeyID == "K2")
    }

    @Test func stsDatesWithMicrosecondsParse() {
        #expect(RoleCredentialSources.parseDate("2026-11-26T11:57:32.225324Z") == RoleCredentialSources.parseDate("2026-11-26T11:57:32Z"))
        #expect(RoleCredentialSources.parseDate("2026-11-26T11:57:32Z") != nil)
    }
}
