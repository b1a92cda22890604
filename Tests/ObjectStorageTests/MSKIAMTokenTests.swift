import Foundation
import ObjectStorage
import TestSupport
import Testing

@Suite("MSK IAM tokens", .tags(.integration))
struct MSKIAMTokenTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let region: String
        let epoch: Int
        let credentials: AWSCredentials
        var testDescription: String { "\(region) at \(epoch)\(credentials.sessionToken == nil ? "" : " with a session token")" }
    }

    /// Keys, secrets and session tokens with the characters that need encoding
    /// (+ / =), a day boundary, a leap day, regions of three partitions' shapes.
    static let cases = [
        Case(region: "eu-west-1", epoch: 1_700_000_000,
             credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")),
        Case(region: "eu-west-1", epoch: 1_700_000_000,
             credentials: AWSCredentials(accessKeyID: "ASIAEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                         sessionToken: "IQoJb3JpZ2luX2VjEHMaCWV1LXdlc3QtMSJHMEUCIQ+/abc==")),
        Case(region: "us-east-1", epoch: 1_709_164_799,  // 2024-02-28T23:59:59Z
             credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "s3cr3t=/+")),
        Case(region: "ap-southeast-2", epoch: 1_709_251_200,  // 2024-03-01T00:00:00Z, after a leap day
             credentials: AWSCredentials(accessKeyID: "ASIA0000000000000001", secretAccessKey: "x",
                                         sessionToken: String(repeating: "FwoGZXIvYXdzE//////////wEaD", count: 12) + "==")),
        Case(region: "us-gov-west-1", epoch: 0,
             credentials: AWSCredentials(accessKeyID: "AKID", secretAccessKey: "secret", sessionToken: "token")),
    ]

    @Test(arguments: cases)
    func equalsTheReferenceSigner(_ input: Case) async throws {
        let reference = Tools.root.appendingPathComponent("tools/msk_token_oracle.py").path
        let arguments = [reference, input.region, String(input.epoch), input.credentials.accessKeyID, input.credentials.secretAccessKey]
            + (input.credentials.sessionToken.map { [$0] } ?? [])
        let run = try await Tools.run(Tools.python, arguments, timeout: .seconds(60))
        try #require(run.status == 0, "msk_token_oracle.py failed (run scripts/setup for aws-msk-iam-sasl-signer-python): \(run.output)")
        let oracle = try JSONDecoder().decode(Oracle.self, from: Data(run.output.utf8))

        let token = try MSKIAMToken(credentials: input.credentials, region: input.region,
                                    date: Date(timeIntervalSince1970: TimeInterval(input.epoch) + 0.75),
                                    userAgent: "aws-msk-iam-sasl-signer-python/1.0.2")
        #expect(token.value == oracle.token)
        #expect(Int64(token.expiry.timeIntervalSince1970 * 1000) == oracle.expiry_ms)
    }

    struct Oracle: Decodable {
        let token: String
        let expiry_ms: Int64
    }

    @Test func isAPresignedConnectURLWithTheUserAgentLast() throws {
        let token = try MSKIAMToken(credentials: AWSCredentials(accessKeyID: "AKID", secretAccessKey: "secret", sessionToken: "a/b"),
                                    region: "eu-west-1", date: Date(timeIntervalSince1970: 1_700_000_000))
        #expect(!token.value.contains("=") && !token.value.contains("+") && !token.value.contains("/"))
        var base64 = token.value.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        let url = try #require(Data(base64Encoded: base64).map { String(decoding: $0, as: UTF8.self) })
        #expect(url.hasPrefix("https://kafka.eu-west-1.amazonaws.com/?Action=kafka-cluster%3AConnect&X-Amz-Algorithm=AWS4-HMAC-SHA256"
            + "&X-Amz-Credential=AKID%2F20231114%2Feu-west-1%2Fkafka-cluster%2Faws4_request&X-Amz-Date=20231114T221320Z"
            + "&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Security-Token=a%2Fb&X-Amz-Signature="))
        #expect(url.hasSuffix("&User-Agent=fruits-msk-iam%2F1"))
    }

    @Test func expiresWithTheCredentialsIfTheyExpireFirst() throws {
        let signed = Date(timeIntervalSince1970: 1_700_000_000)
        let soon = signed.addingTimeInterval(120)
        let short = try MSKIAMToken(credentials: AWSCredentials(accessKeyID: "A", secretAccessKey: "S", sessionToken: "T", expiration: soon),
                                    region: "eu-west-1", date: signed)
        #expect(short.expiry == soon)
        let long = try MSKIAMToken(credentials: AWSCredentials(accessKeyID: "A", secretAccessKey: "S", sessionToken: "T",
                                                               expiration: signed.addingTimeInterval(3600)), region: "eu-west-1", date: signed)
        #expect(long.expiry == signed.addingTimeInterval(900))
    }

    @Test func neverPrintsItsValueAndRefusesAHostInjection() throws {
        let token = try MSKIAMToken(credentials: AWSCredentials(accessKeyID: "AKID", secretAccessKey: "secret"), region: "eu-west-1")
        #expect(!"\(token)".contains(token.value) && !"\(token)".contains("secret"))
        for region in ["", "EU-WEST-1", "evil.com/x", "eu-west-1.evil.com", "eu west"] {
            #expect(throws: MSKIAMTokenError.self) {
                try MSKIAMToken(credentials: AWSCredentials(accessKeyID: "AKID", secretAccessKey: "secret"), region: region)
            }
        }
    }

    /// Each token is signed with the provider's credentials of that moment,
    /// so rotated role credentials reach the next token.
    @Test func sourceSignsWithTheCurrentCredentials() async throws {
        let issued = Tally<String>()
        let chain = RefreshingCredentials(source: "test") {
            let number = issued.counts.withLock { counts in
                counts["fetches", default: 0] += 1
                return counts["fetches"]!
            }
            return AWSCredentials(accessKeyID: "ASIA\(number)", secretAccessKey: "secret-\(number)", sessionToken: "token-\(number)",
                                  expiration: Date().addingTimeInterval(number == 1 ? 60 : 3600))
        }
        var source = try MSKIAMTokenSource(region: "eu-west-1", credentials: chain)
        source.now = { Date(timeIntervalSince1970: 1_700_000_000) }
        let first = try await source.token()
        let second = try await source.token()
        let expected = try MSKIAMToken(credentials: AWSCredentials(accessKeyID: "ASIA2", secretAccessKey: "secret-2", sessionToken: "token-2"),
                                       region: "eu-west-1", date: Date(timeIntervalSince1970: 1_700_000_000))
        #expect(first.value != second.value)
        #expect(second.value == expected.value)
        #expect(throws: MSKIAMTokenError.self) { try MSKIAMTokenSource(region: "eu-west-1/", credentials: chain) }
    }
}
