import Foundation

/// Buffered writes to standard output.
struct BufferedOutput {
    private let handle: FileHandle
    private var buffer = Data()

    static var standardOutput: BufferedOutput { BufferedOutput(handle: .standardOutput) }

    private init(handle: FileHandle) { self.handle = handle }

    mutating func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count > 1 << 16 { flush() }
    }

    mutating func flush() {
        guard !buffer.isEmpty else { return }
        handle.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Unbuffered diagnostics on standard error.
enum StandardError {
    static func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}
