import CCurl
import Synchronization

/// Blocking HTTP over libcurl easy handles, pooled so connections are kept
/// alive between requests. Safe to call from any thread.
public final class CurlHTTPClient: Sendable {
    public struct Timeouts: Sendable {
        public var connect: Duration = .seconds(5)
        /// A transfer slower than 1 byte/s for this long is abandoned (a
        /// total timeout would cut large uploads).
        public var stall: Duration = .seconds(30)
        public init() {}
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()
    private let idle = Mutex<[EasyHandle]>([])
    public let timeouts: Timeouts

    public init(timeouts: Timeouts = Timeouts()) {
        _ = Self.globalInit
        self.timeouts = timeouts
    }

    deinit {
        for handle in idle.withLock({ $0 }) { curl_easy_cleanup(handle.pointer) }
    }

    public func perform(_ request: HTTPRequest) throws -> HTTPResponse {
        let handle = idle.withLock { $0.popLast() } ?? EasyHandle(pointer: curl_easy_init()!)
        defer {
            curl_easy_reset(handle.pointer)
            idle.withLock { $0.append(handle) }
        }
        return try perform(request, on: handle.pointer)
    }

    private func perform(_ request: HTTPRequest, on curl: UnsafeMutableRawPointer) throws -> HTTPResponse {
        let sink = ResponseSink(limit: request.maxResponseBytes)
        let context = Unmanaged.passUnretained(sink).toOpaque()
        var headerList: UnsafeMutablePointer<curl_slist>?
        // An empty "Expect:" stops curl from waiting for 100-continue.
        for (name, value) in request.headers + [("Expect", "")] {
            headerList = curl_slist_append(headerList, value.isEmpty ? "\(name):" : "\(name): \(value)")
        }
        defer { curl_slist_free_all(headerList) }

        var status = CURLE_OK
        func set(_ code: CURLcode) { if status == CURLE_OK { status = code } }
        set(fruits_curl_set_string(curl, CURLOPT_URL, request.url))
        set(fruits_curl_set_long(curl, CURLOPT_NOSIGNAL, 1))
        // S3 keys may hold "/./", "/../" and "//": send the path byte for byte,
        // as it was signed, instead of letting curl squash the dot segments.
        set(fruits_curl_set_long(curl, CURLOPT_PATH_AS_IS, 1))
        set(fruits_curl_set_long(curl, CURLOPT_CONNECTTIMEOUT_MS, Int(timeouts.connect.components.seconds * 1000)))
        set(fruits_curl_set_long(curl, CURLOPT_LOW_SPEED_LIMIT, 1))
        set(fruits_curl_set_long(curl, CURLOPT_LOW_SPEED_TIME, Int(timeouts.stall.components.seconds)))
        set(fruits_curl_set_pointer(curl, CURLOPT_HTTPHEADER, headerList))
        set(fruits_curl_set_callback(curl, CURLOPT_WRITEFUNCTION, collectBody))
        set(fruits_curl_set_pointer(curl, CURLOPT_WRITEDATA, context))
        set(fruits_curl_set_callback(curl, CURLOPT_HEADERFUNCTION, collectHeader))
        set(fruits_curl_set_pointer(curl, CURLOPT_HEADERDATA, context))
        switch request.method {
        case "GET":
            break
        case "HEAD":
            set(fruits_curl_set_long(curl, CURLOPT_NOBODY, 1))
        default:
            set(fruits_curl_set_string(curl, CURLOPT_CUSTOMREQUEST, request.method))
        }
        guard status == CURLE_OK else { throw transportError(status, request) }

        let code: CURLcode = request.body.withUnsafeBytes { body in
            if request.method != "GET" && request.method != "HEAD" {
                set(fruits_curl_set_offset(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
                // POSTFIELDS with a size sends exactly these bytes, whatever the method.
                set(fruits_curl_set_pointer(curl, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: body.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!)))
            }
            guard status == CURLE_OK else { return status }
            return curl_easy_perform(curl)
        }
        var responseCode = 0
        _ = fruits_curl_get_long(curl, CURLINFO_RESPONSE_CODE, &responseCode)
        if sink.exceeded, let limit = request.maxResponseBytes {
            throw HTTPResponseTooLarge(status: responseCode, limit: limit, declaredBytes: sink.headers["content-length"].flatMap(Int.init))
        }
        guard code == CURLE_OK else { throw transportError(code, request) }
        return HTTPResponse(status: responseCode, headers: sink.headers, body: sink.body)
    }

    private func transportError(_ code: CURLcode, _ request: HTTPRequest) -> HTTPTransportError {
        HTTPTransportError(curlCode: Int32(code.rawValue), message: String(cString: curl_easy_strerror(code)), url: request.url)
    }
}

/// A curl easy handle; the pool lends it to one transfer at a time.
private struct EasyHandle: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
}

/// Receives one response; reached from libcurl's callbacks through the
/// context pointer and used by one transfer at a time.
private final class ResponseSink {
    let limit: Int?
    var body: [UInt8] = []
    var headers: [String: String] = [:]
    var exceeded = false

    init(limit: Int?) { self.limit = limit }
}

/// Stops the transfer (a short count makes libcurl fail it) as soon as the
/// body, declared or received, passes the sink's limit: memory stays bounded
/// by what the caller accepts, whatever the server sends.
private let collectBody: fruits_curl_data_callback = { data, size, count, context in
    let sink = Unmanaged<ResponseSink>.fromOpaque(context!).takeUnretainedValue()
    let length = size * count
    if let limit = sink.limit {
        let declared = sink.headers["content-length"].flatMap(Int.init) ?? 0
        guard declared <= limit, sink.body.count + length <= limit else {
            sink.exceeded = true
            return 0
        }
    }
    if let data { sink.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length)) }
    return length
}

private let collectHeader: fruits_curl_data_callback = { data, size, count, context in
    let sink = Unmanaged<ResponseSink>.fromOpaque(context!).takeUnretainedValue()
    let length = size * count
    guard let data else { return length }
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    if line.hasPrefix("HTTP/") {
        sink.headers = [:]  // a new response (after a redirect or 100 Continue)
    } else if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        sink.headers[name] = value
    }
    return length
}
