import Foundation

/// An access key: fixed (environment, profile file) or temporary (a role's,
/// with an `expiration`). `AWSCredentialChain` finds them the standard way.
public struct AWSCredentials: Sendable, CustomStringConvertible {
    public let accessKeyID: String
    public let secretAccessKey: String
    public let sessionToken: String?
    /// When temporary credentials stop working; nil for fixed keys.
    public let expiration: Date?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    /// Never prints the secret or the token.
    public var description: String { "AWSCredentials(\(accessKeyID), secret: ***)" }

    /// Fixed keys only: `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
    /// `AWS_SESSION_TOKEN`, else the profile (`AWS_PROFILE`, default
    /// "default") of `~/.aws/credentials` (or `AWS_SHARED_CREDENTIALS_FILE`).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> AWSCredentials {
        if let keys = fromVariables(environment) { return keys }
        if let keys = fromProfile(environment) { return keys }
        throw S3Error.missingCredentials(profile: profileName(environment), file: credentialsFile(environment))
    }

    static func fromVariables(_ environment: [String: String]) -> AWSCredentials? {
        guard let key = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"], !key.isEmpty else { return nil }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 })
    }

    static func fromProfile(_ environment: [String: String]) -> AWSCredentials? {
        guard let text = try? String(contentsOfFile: credentialsFile(environment), encoding: .utf8),
              let section = INIFile.parse(text)[profileName(environment)],
              let key = section["aws_access_key_id"], let secret = section["aws_secret_access_key"]
        else { return nil }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: section["aws_session_token"])
    }

    static func profileName(_ environment: [String: String]) -> String { environment["AWS_PROFILE"] ?? "default" }

    static func credentialsFile(_ environment: [String: String]) -> String {
        environment["AWS_SHARED_CREDENTIALS_FILE"] ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.aws/credentials")
    }
}

/// The INI dialect of ~/.aws/credentials and ~/.aws/config.
enum INIFile {
    static func parse(_ text: String) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                var name = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                if name.hasPrefix("profile ") { name = String(name.dropFirst("profile ".count)) }
                current = name
                continue
            }
            guard let current, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            sections[current, default: [:]][key] = value
        }
        return sections
    }
}
