import Foundation

/// The standard AWS credential chain, in the SDKs' order; the first source
/// the environment configures wins:
///
/// 1. `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`);
/// 2. a web identity: `AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE` (EKS IRSA)
///    → STS `AssumeRoleWithWebIdentity`;
/// 3. the container agent: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` or
///    `_FULL_URI`, with `AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]`;
/// 4. the profile of `~/.aws/credentials` (`AWS_PROFILE`, `AWS_SHARED_CREDENTIALS_FILE`);
/// 5. the instance metadata service (IMDSv2), unless `AWS_EC2_METADATA_DISABLED=true`.
///
/// Role credentials (2, 3, 5) are fetched on first use and again five
/// minutes before they expire. Nothing here is ever logged.
public enum AWSCredentialChain {
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment, http: CurlHTTPClient = .credentialClient
    ) throws -> any AWSCredentialProvider {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let region = value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") ?? "us-east-1"

        if let keys = AWSCredentials.fromVariables(environment) { return keys }
        if let roleARN = value("AWS_ROLE_ARN"), let tokenFile = value("AWS_WEB_IDENTITY_TOKEN_FILE") {
            let sts = value("AWS_ENDPOINT_URL_STS") ?? value("AWS_ENDPOINT_URL") ?? "https://sts.\(region).amazonaws.com/"
            let session = value("AWS_ROLE_SESSION_NAME") ?? "fruits-\(ProcessInfo.processInfo.processIdentifier)"
            return RefreshingCredentials(source: "web identity") {
                try await RoleCredentialSources.webIdentity(roleARN: roleARN, tokenFile: tokenFile, sessionName: session,
                                                      stsEndpoint: sts, http: http)
            }
        }
        let containerURL = value("AWS_CONTAINER_CREDENTIALS_FULL_URI")
            ?? value("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").map { "http://169.254.170.2" + $0 }
        if let containerURL {
            let token = value("AWS_CONTAINER_AUTHORIZATION_TOKEN")
            let tokenFile = value("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
            return RefreshingCredentials(source: "container credentials") {
                // The token file is re-read on every fetch: the agent rotates it.
                let authorization = try token ?? tokenFile.map {
                    try String(contentsOfFile: $0, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                }
                return try await RoleCredentialSources.container(url: containerURL, authorization: authorization, http: http)
            }
        }
        if let keys = AWSCredentials.fromProfile(environment) { return keys }
        let profile = AWSCredentials.profileName(environment), file = AWSCredentials.credentialsFile(environment)
        guard value("AWS_EC2_METADATA_DISABLED")?.lowercased() != "true" else {
            throw S3Error.missingCredentials(profile: profile, file: file)
        }
        let imds = value("AWS_EC2_METADATA_SERVICE_ENDPOINT") ?? "http://169.254.169.254"
        return RefreshingCredentials(source: "instance metadata") {
            do { return try await RoleCredentialSources.instanceMetadata(endpoint: imds, http: http) } catch {
                // The last resort failed too: say what the user can set.
                throw S3Error.missingCredentials(profile: profile, file: file, instanceMetadata: "\(error)")
            }
        }
    }
}

extension CurlHTTPClient {
    /// For the credential services: close by, so a short connect timeout (a
    /// machine without IMDS answers nothing) and a short stall.
    public static let credentialClient: CurlHTTPClient = {
        var timeouts = Timeouts()
        timeouts.connect = .seconds(2)
        timeouts.stall = .seconds(5)
        return CurlHTTPClient(timeouts: timeouts)
    }()
}
