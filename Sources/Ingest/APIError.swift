import Foundation
import Hummingbird

/// A refusal the API documents (schemas/openapi.yaml): a status and a JSON
/// body `{"error": ..., "parameter": ...}`, `parameter` naming the query
/// parameter or header at fault when there is one.
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    let message: String
    var parameter: String?
    var headers: HTTPFields = [:]

    private struct Body: Encodable {
        let error: String
        let parameter: String?
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        UploadServer.json(status, Body(error: message, parameter: parameter), headers: headers)
    }

    static func badParameter(_ name: String, _ message: String) -> APIError {
        APIError(status: .badRequest, message: message, parameter: name)
    }

    static let unauthorized = APIError(status: .unauthorized, message: "missing or wrong bearer token", headers: [.wwwAuthenticate: "Bearer"])

    static func tooLarge(limit: Int) -> APIError {
        APIError(status: .contentTooLarge, message: "the photo is larger than \(limit) bytes")
    }

    static let busy = APIError(status: .serviceUnavailable, message: "too many uploads at once, retry shortly", headers: [.retryAfter: "1"])
}
