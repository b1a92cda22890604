import CCurl
import Common
import Foundation
import Synchronization

/// HTTP over libcurl's multi interface. A client's transfers all run on one
/// thread of its own, which waits on their sockets together: callers await
/// their responses without holding a thread, so a process keeps as many
/// requests in flight as it has callers (up to `maxConnections` connections,
/// then libcurl queues), and connections are kept alive between requests.
public final class CurlHTTPClient: Sendable {
    public struct Timeouts: Sendable {
        public var connect: Duration = .seconds(5)
        /// A transfer slower than 1 byte/s for this long is abandoned (a
        /// total timeout would cut large uploads).
        public var stall: Duration = .seconds(30)
        public init() {}
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()
    public let timeouts: Timeouts
    private let loop: TransferLoop

    /// `maxConnections`: connections open at once, to every host together.
    public init(timeouts: Timeouts = Timeouts(), maxConnections: Int = 64) {
        _ = Self.globalInit
        self.timeouts = timeouts
        loop = TransferLoop(maxConnections: maxConnections)
    }

    deinit { loop.stop() }

    /// The response, or `HTTPTransportError` when none came, or
    /// `HTTPResponseTooLarge`; cancelling the task abandons the transfer.
    public func perform(_ request: HTTPRequest) async throws -> HTTPResponse {
        let transfer = try Transfer(request, timeouts: timeouts)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.continuation = continuation
                loop.add(transfer)
            }
        } onCancel: {
            loop.cancel(transfer)
        }
    }
}

/// The thread that runs a client's transfers: it adds what callers submit,
/// lets libcurl move every transfer along, and answers each caller as its
/// transfer ends. Only this thread touches the multi handle and the
/// transfers it holds.
private final class TransferLoop: Sendable {
    private enum Command {
        case add(Transfer)
        case cancel(Transfer)
    }

    private let multi: MultiHandle
    private let commands = Mutex<(queue: [Command], stopping: Bool)>(([], false))

    init(maxConnections: Int) {
        multi = MultiHandle(pointer: curl_multi_init()!)
        _ = fruits_curl_multi_set_long(multi.pointer, CURLMOPT_MAX_TOTAL_CONNECTIONS, maxConnections)
        Thread.start(named: "fruits-http") { [self] in run() }
    }

    func add(_ transfer: Transfer) { send(.add(transfer)) }

    func cancel(_ transfer: Transfer) {
        transfer.cancelled.store(true, ordering: .releasing)
        send(.cancel(transfer))
    }

    func stop() {
        commands.withLock { $0.stopping = true }
        curl_multi_wakeup(multi.pointer)
    }

    private func send(_ command: Command) {
        commands.withLock { $0.queue.append(command) }
        curl_multi_wakeup(multi.pointer)
    }

    private func run() {
        var active: [UnsafeMutableRawPointer: Transfer] = [:]
        while true {
            let (queue, stopping) = commands.withLock { state in
                defer { state.queue.removeAll() }
                return (state.queue, state.stopping)
            }
            if stopping { break }
            for command in queue {
                switch command {
                case .add(let transfer) where transfer.cancelled.load(ordering: .acquiring):
                    transfer.finish(.failure(CancellationError()))
                case .add(let transfer):
                    active[transfer.easy] = transfer
                    curl_multi_add_handle(multi.pointer, transfer.easy)
                case .cancel(let transfer):
                    guard active.removeValue(forKey: transfer.easy) != nil else { continue }  // not added yet, or done
                    curl_multi_remove_handle(multi.pointer, transfer.easy)
                    transfer.finish(.failure(CancellationError()))
                }
            }
            var running: Int32 = 0
            curl_multi_perform(multi.pointer, &running)
            var left: Int32 = 0
            while let message = curl_multi_info_read(multi.pointer, &left) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                      let transfer = active.removeValue(forKey: easy) else { continue }
                let code = fruits_curl_message_result(message)
                curl_multi_remove_handle(multi.pointer, easy)
                transfer.finish(transfer.outcome(code))
            }
            curl_multi_poll(multi.pointer, nil, 0, 1_000, nil)
        }
        for transfer in active.values {
            curl_multi_remove_handle(multi.pointer, transfer.easy)
            transfer.finish(.failure(HTTPTransportError(curlCode: -1, message: "the HTTP client was closed", url: transfer.url)))
        }
        curl_multi_cleanup(multi.pointer)
    }
}

private struct MultiHandle: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
}

/// One request on its easy handle, with what its callbacks collect. Built by
/// the caller, then owned by the loop thread until `finish` answers.
private final class Transfer: @unchecked Sendable {
    let easy: UnsafeMutableRawPointer
    let url: String
    let cancelled = Atomic<Bool>(false)
    var continuation: CheckedContinuation<HTTPResponse, any Error>?
    private let maxResponseBytes: Int?
    private let sink: ResponseSink
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let body: RequestBody

    init(_ request: HTTPRequest, timeouts: CurlHTTPClient.Timeouts) throws {
        easy = curl_easy_init()!
        url = request.url
        maxResponseBytes = request.maxResponseBytes
        sink = ResponseSink(limit: request.maxResponseBytes)
        body = RequestBody(request.body)
        // An empty "Expect:" stops curl from waiting for 100-continue.
        for (name, value) in request.headers + [("Expect", "")] {
            headerList = curl_slist_append(headerList, value.isEmpty ? "\(name):" : "\(name): \(value)")
        }
        let context = Unmanaged.passUnretained(sink).toOpaque()
        var status = CURLE_OK
        func set(_ code: CURLcode) { if status == CURLE_OK { status = code } }
        set(fruits_curl_set_string(easy, CURLOPT_URL, request.url))
        set(fruits_curl_set_long(easy, CURLOPT_NOSIGNAL, 1))
        // S3 keys may hold "/./", "/../" and "//": send the path byte for byte,
        // as it was signed, instead of letting curl squash the dot segments.
        set(fruits_curl_set_long(easy, CURLOPT_PATH_AS_IS, 1))
        set(fruits_curl_set_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Int(timeouts.connect.components.seconds * 1000)))
        set(fruits_curl_set_long(easy, CURLOPT_LOW_SPEED_LIMIT, 1))
        set(fruits_curl_set_long(easy, CURLOPT_LOW_SPEED_TIME, Int(timeouts.stall.components.seconds)))
        set(fruits_curl_set_pointer(easy, CURLOPT_HTTPHEADER, headerList))
        set(fruits_curl_set_callback(easy, CURLOPT_WRITEFUNCTION, collectBody))
        set(fruits_curl_set_pointer(easy, CURLOPT_WRITEDATA, context))
        set(fruits_curl_set_callback(easy, CURLOPT_HEADERFUNCTION, collectHeader))
        set(fruits_curl_set_pointer(easy, CURLOPT_HEADERDATA, context))
        switch request.method {
        case "GET":
            break
        case "HEAD":
            set(fruits_curl_set_long(easy, CURLOPT_NOBODY, 1))
        default:
            // An upload whatever the method: libcurl reads the body from the
            // request's own bytes as it sends them (no copy), and rewinds it
            // to send it again on a fresh connection.
            let source = Unmanaged.passUnretained(body).toOpaque()
            set(fruits_curl_set_string(easy, CURLOPT_CUSTOMREQUEST, request.method))
            set(fruits_curl_set_long(easy, CURLOPT_UPLOAD, 1))
            set(fruits_curl_set_offset(easy, CURLOPT_INFILESIZE_LARGE, curl_off_t(request.body.count)))
            set(fruits_curl_set_callback(easy, CURLOPT_READFUNCTION, readBody))
            set(fruits_curl_set_pointer(easy, CURLOPT_READDATA, source))
            set(fruits_curl_set_seek_callback(easy, CURLOPT_SEEKFUNCTION, rewindBody))
            set(fruits_curl_set_pointer(easy, CURLOPT_SEEKDATA, source))
        }
        guard status == CURLE_OK else { throw Self.transportError(status, url: request.url) }
    }

    deinit {
        curl_easy_cleanup(easy)
        curl_slist_free_all(headerList)
    }

    /// What the caller gets for a transfer that ended with `code`.
    func outcome(_ code: CURLcode) -> Result<HTTPResponse, any Error> {
        var responseCode = 0
        _ = fruits_curl_get_long(easy, CURLINFO_RESPONSE_CODE, &responseCode)
        if sink.exceeded, let limit = maxResponseBytes {
            return .failure(HTTPResponseTooLarge(status: responseCode, limit: limit,
                                                 declaredBytes: sink.headers["content-length"].flatMap(Int.init)))
        }
        guard code == CURLE_OK else { return .failure(Self.transportError(code, url: url)) }
        return .success(HTTPResponse(status: responseCode, headers: sink.headers, body: sink.body))
    }

    func finish(_ result: Result<HTTPResponse, any Error>) {
        continuation?.resume(with: result)
        continuation = nil
    }

    private static func transportError(_ code: CURLcode, url: String) -> HTTPTransportError {
        HTTPTransportError(curlCode: Int32(code.rawValue), message: String(cString: curl_easy_strerror(code)), url: url)
    }
}

/// A request's body as libcurl reads it, on the loop thread.
private final class RequestBody {
    let bytes: [UInt8]
    var sent = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }
}

private let readBody: fruits_curl_data_callback = { buffer, size, count, context in
    let body = Unmanaged<RequestBody>.fromOpaque(context!).takeUnretainedValue()
    let length = min(size * count, body.bytes.count - body.sent)
    guard length > 0, let buffer else { return 0 }
    body.bytes.withUnsafeBytes { bytes in
        UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress! + body.sent, byteCount: length)
    }
    body.sent += length
    return length
}

private let rewindBody: fruits_curl_seek_callback = { context, offset, origin in
    let body = Unmanaged<RequestBody>.fromOpaque(context!).takeUnretainedValue()
    guard origin == SEEK_SET, offset >= 0, offset <= body.bytes.count else { return Int32(CURL_SEEKFUNC_CANTSEEK) }
    body.sent = Int(offset)
    return Int32(CURL_SEEKFUNC_OK)
}

/// Receives one response; reached from libcurl's callbacks through the
/// context pointer, on the loop thread.
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
