import Foundation

/// The services that hand out a role's temporary credentials: STS for a web
/// identity (EKS IRSA), the container agent (ECS, EKS Pod Identity), the
/// instance metadata service (EC2, IMDSv2). Each `fetch` is one round trip;
/// `RefreshingCredentials` decides when.
enum RoleCredentialSources {
    /// STS `AssumeRoleWithWebIdentity`, which needs no signature: the token
    /// file (re-read every time: the kubelet rotates it) is the proof.
    static func webIdentity(roleARN: String, tokenFile: String, sessionName: String, stsEndpoint: String,
                            http: CurlHTTPClient) async throws -> AWSCredentials {
        let token: String
        do { token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) } catch {
            throw S3Error.credentialSource("web identity", "cannot read AWS_WEB_IDENTITY_TOKEN_FILE \(tokenFile): \(error.localizedDescription)")
        }
        let form = [("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleARN),
                    ("RoleSessionName", sessionName), ("WebIdentityToken", token)]
            .map { "\($0.0)=\(S3URIEncoding.encode($0.1, keepSlash: false))" }.joined(separator: "&")
        let response = try await perform(HTTPRequest(method: "POST", url: stsEndpoint,
                                               headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                               body: Array(form.utf8)), source: "web identity (STS)", http: http)
        let xml = String(decoding: response.body, as: UTF8.self)[...]
        guard let key = XMLScan.text("AccessKeyId", in: xml), let secret = XMLScan.text("SecretAccessKey", in: xml),
              let session = XMLScan.text("SessionToken", in: xml), let expiration = XMLScan.text("Expiration", in: xml).flatMap(parseDate)
        else { throw S3Error.credentialSource("web identity (STS)", "no credentials in the AssumeRoleWithWebIdentity answer") }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: session, expiration: expiration)
    }

    /// The container agent: `AWS_CONTAINER_CREDENTIALS_FULL_URI` (or the
    /// relative URI on 169.254.170.2), with `AWS_CONTAINER_AUTHORIZATION_TOKEN`
    /// or the token file as the Authorization header when given.
    static func container(url: String, authorization: String?, http: CurlHTTPClient) async throws -> AWSCredentials {
        var headers: [(name: String, value: String)] = []
        if let authorization { headers.append(("Authorization", authorization)) }
        let response = try await perform(HTTPRequest(method: "GET", url: url, headers: headers), source: "container credentials", http: http)
        return try decodeJSON(response.body, source: "container credentials")
    }

    /// IMDSv2: a session token first (PUT), then the role's name, then its credentials.
    static func instanceMetadata(endpoint: String, http: CurlHTTPClient) async throws -> AWSCredentials {
        let base = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        let source = "instance metadata (IMDSv2) at \(base)"
        let token = try await perform(HTTPRequest(method: "PUT", url: base + "/latest/api/token",
                                            headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")]), source: source, http: http)
        let session = [("X-aws-ec2-metadata-token", String(decoding: token.body, as: UTF8.self))]
        let roles = try await perform(HTTPRequest(method: "GET", url: base + "/latest/meta-data/iam/security-credentials/", headers: session),
                                source: source, http: http)
        guard let role = String(decoding: roles.body, as: UTF8.self).split(whereSeparator: \.isNewline).first else {
            throw S3Error.credentialSource(source, "the instance has no IAM role")
        }
        let credentials = try await perform(HTTPRequest(method: "GET", url: base + "/latest/meta-data/iam/security-credentials/\(role)",
                                                  headers: session), source: source, http: http)
        return try decodeJSON(credentials.body, source: source)
    }

    private static func perform(_ request: HTTPRequest, source: String, http: CurlHTTPClient) async throws -> HTTPResponse {
        let response: HTTPResponse
        do { response = try await http.perform(request) } catch {
            throw S3Error.credentialSource(source, "\(error)")
        }
        guard (200..<300).contains(response.status) else {
            let text = String(decoding: response.body.prefix(300), as: UTF8.self)
            throw S3Error.credentialSource(source, "HTTP \(response.status): \(text)")
        }
        return response
    }

    /// The JSON of the container agent and of IMDS.
    private struct RoleCredentialsJSON: Decodable {
        let AccessKeyId: String
        let SecretAccessKey: String
        let Token: String?
        let Expiration: String?
    }

    private static func decodeJSON(_ body: [UInt8], source: String) throws -> AWSCredentials {
        guard let json = try? JSONDecoder().decode(RoleCredentialsJSON.self, from: Data(body)) else {
            // Named by its shape, never quoted: a half-right answer may hold a secret key.
            let fields = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
            let missing = ["AccessKeyId", "SecretAccessKey"].filter { !(fields?[$0] is String) }
            throw S3Error.credentialSource(source, fields == nil
                ? "unexpected answer: \(body.count) bytes that are not a JSON object (not shown: they may hold a secret)"
                : "unexpected answer: a JSON object without string \(missing.isEmpty ? "fields of the expected types" : missing.joined(separator: " and "))")
        }
        return AWSCredentials(accessKeyID: json.AccessKeyId, secretAccessKey: json.SecretAccessKey, sessionToken: json.Token,
                              expiration: json.Expiration.flatMap(parseDate))
    }

    /// ISO 8601 in UTC ("2026-11-26T12:00:00Z"); fractional seconds, which
    /// STS sends with up to six digits, are dropped.
    static func parseDate(_ text: String) -> Date? {
        var whole = text
        if let dot = text.firstIndex(of: "."), let zone = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" }) {
            whole = String(text[..<dot] + text[zone...])
        }
        return ISO8601DateFormatter().date(from: whole)
    }
}
