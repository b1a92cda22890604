extension S3Error {
    /// Who a failed read concerns, which decides what becomes of the image
    /// that asked for it.
    public enum Blame: Sendable, Equatable {
        /// This service's credentials, signature, clock or account: every
        /// request fails alike, and only an operator can fix it.
        case service
        /// Access denied: the object's own (a KMS key the role may not use, a
        /// policy on its key) or, when every object is refused, the service's
        /// (a role that lost s3:GetObject). The answer alone cannot tell.
        case denial
        /// This object, or its bucket, only: missing, archived, encrypted with
        /// a key of the customer's, in another region, asked for badly.
        case object
        /// May pass without anyone acting: throttling, a server error, no answer.
        case transient
    }

    public var blame: Blame {
        switch self {
        case .missingCredentials, .credentialSource: .service
        case .unreachable, .invalidResponse: .transient
        case .invalidLocation, .objectTooLarge: .object
        case .http(let status, let code, _, _): Self.blame(status: status, code: code)
        }
    }

    static func blame(status: Int, code: String) -> Blame {
        // 307: S3 redirects while a new bucket's DNS name spreads.
        if status == 200 || status == 307 || retriableStatuses.contains(status) || code.hasSuffix("ThrottlingException") { return .transient }
        if status == 401 || credentialCodes.contains(code) { return .service }
        if code == "AccessDenied" || code == "AllAccessDisabled" || code.hasPrefix("KMS.") { return .denial }
        return .object
    }

    /// Codes about the request's credentials or signature, whatever the
    /// object (S3 answers some with 400, some with 403).
    static let credentialCodes: Set<String> = [
        "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired",
        "RequestTimeTooSkewed", "AuthorizationHeaderMalformed", "AuthorizationQueryParametersError", "IncompleteSignature",
        "MissingSecurityHeader", "InvalidSecurity", "AccountProblem", "NotSignedUp",
    ]

    /// What an operator reading a dead letter or a log line should know of a code.
    var hint: String? {
        guard case .http(_, let code, _, _) = self else { return nil }
        switch blame {
        case .service:
            return "check the access key, secret and region (AWS_* variables or ~/.aws/credentials)"
        case .denial where code.hasPrefix("KMS."):
            return "the object's KMS key is disabled, deleted or not usable by this role"
        case .denial:
            return "check the role's s3:GetObject permission on the object and, if it is encrypted with SSE-KMS, kms:Decrypt on its key"
        case .object where code == "InvalidObjectState":
            return "the object is archived (Glacier, Deep Archive): restore it first"
        case .object where code == "PermanentRedirect":
            return "the bucket is in another region than AWS_REGION"
        default:
            return nil
        }
    }
}
