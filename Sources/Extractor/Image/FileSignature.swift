/// Names the format of a byte buffer from its first bytes, for error messages.
enum FileSignature {
    static func isJPEG(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF
    }

    static func describe(_ bytes: UnsafeRawBufferPointer) -> String {
        func starts(with prefix: [UInt8], at offset: Int = 0) -> Bool {
            guard bytes.count >= offset + prefix.count else { return false }
            return prefix.indices.allSatisfy { bytes[offset + $0] == prefix[$0] }
        }
        if starts(with: [0x89, 0x50, 0x4E, 0x47]) { return "PNG" }
        if starts(with: Array("GIF8".utf8)) { return "GIF" }
        if starts(with: Array("RIFF".utf8)) && starts(with: Array("WEBP".utf8), at: 8) { return "WebP" }
        if starts(with: Array("ftyp".utf8), at: 4) { return "HEIF/MP4" }
        if starts(with: [0x50, 0x4B, 0x03, 0x04]) { return "ZIP" }
        if starts(with: Array("BM".utf8)) { return "BMP" }
        if starts(with: [0x49, 0x49, 0x2A, 0x00]) || starts(with: [0x4D, 0x4D, 0x00, 0x2A]) { return "TIFF" }
        let head = bytes.prefix(64).drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 || $0 == 0xEF || $0 == 0xBB || $0 == 0xBF }
        if head.first == UInt8(ascii: "<") { return "HTML/XML text" }
        return "unknown data"
    }
}
