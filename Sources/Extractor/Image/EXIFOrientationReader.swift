/// Reads the Orientation tag (0x0112) of IFD0 in a JPEG's Exif APP1 segment.
///
/// Written for hostile input: every offset comes from the file and is checked
/// against the segment before it is read, the marker walk stops at the first
/// scan, and the work is bounded by the segment count and IFD0's size. Any
/// malformation means "no orientation", never a failure: the photo still
/// decodes, as stored. Like Pillow, only the first Exif segment counts.
enum EXIFOrientationReader {
    /// Segments examined before the first scan; real files have about ten.
    static let maxSegments = 256

    static func orientation(in jpeg: UnsafeBufferPointer<UInt8>) -> ImageOrientation? {
        guard jpeg.count >= 4, jpeg[0] == 0xFF, jpeg[1] == 0xD8 else { return nil }
        var index = 2
        var segments = 0
        while segments < maxSegments, index + 1 < jpeg.count {
            guard jpeg[index] == 0xFF else { return nil }
            let marker = jpeg[index + 1]
            if marker == 0xFF { index += 1; continue }  // fill byte
            if marker == 0xDA || marker == 0xD9 { return nil }  // the scan: metadata comes before it
            if marker == 0x01 || (0xD0...0xD7).contains(marker) { index += 2; continue }  // no length
            guard index + 3 < jpeg.count else { return nil }
            let length = Int(jpeg[index + 2]) << 8 | Int(jpeg[index + 3])
            let end = index + 2 + length
            guard length >= 2, end <= jpeg.count else { return nil }
            let body = UnsafeBufferPointer(rebasing: jpeg[(index + 4)..<end])
            if marker == 0xE1, isExif(body) {
                return orientation(tiff: UnsafeBufferPointer(rebasing: body[(body.startIndex + 6)...]))
            }
            index = end
            segments += 1
        }
        return nil
    }

    private static func isExif(_ body: UnsafeBufferPointer<UInt8>) -> Bool {
        body.count >= 6 && Array(body.prefix(6)) == [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]  // "Exif\0\0"
    }

    /// `tiff` starts at the TIFF header: byte order, 42, offset of IFD0.
    static func orientation(tiff: UnsafeBufferPointer<UInt8>) -> ImageOrientation? {
        guard tiff.count >= 8 else { return nil }
        let bigEndian: Bool
        switch (tiff[tiff.startIndex], tiff[tiff.startIndex + 1]) {
        case (0x49, 0x49): bigEndian = false  // "II"
        case (0x4D, 0x4D): bigEndian = true  // "MM"
        default: return nil
        }
        let reader = Reader(bytes: tiff, bigEndian: bigEndian)
        guard reader.u16(at: 2) == 42, let ifd = reader.u32(at: 4), let count = reader.u16(at: ifd) else { return nil }
        for entry in 0..<count {
            let at = ifd + 2 + 12 * entry
            guard let tag = reader.u16(at: at) else { return nil }  // IFD0 runs past the segment
            guard tag == 0x0112 else { continue }
            guard let type = reader.u16(at: at + 2), let values = reader.u32(at: at + 4), values >= 1 else { return nil }
            let value: Int?
            switch type {
            case 3: value = reader.u16(at: at + 8)  // SHORT, as the standard says
            case 4: value = reader.u32(at: at + 8)  // LONG, which some writers use and Pillow accepts
            default: value = nil
            }
            return value.flatMap(ImageOrientation.init(rawValue:))
        }
        return nil
    }

    /// Bounds-checked integer reads at offsets relative to the TIFF header.
    /// Offsets are at most 2^32 + 12 * 2^16, far from Int's limits.
    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        let bigEndian: Bool

        func u16(at offset: Int) -> Int? {
            guard offset >= 0, offset <= bytes.count - 2 else { return nil }
            let a = Int(bytes[bytes.startIndex + offset]), b = Int(bytes[bytes.startIndex + offset + 1])
            return bigEndian ? a << 8 | b : b << 8 | a
        }

        func u32(at offset: Int) -> Int? {
            guard let first = u16(at: offset), let second = u16(at: offset + 2) else { return nil }
            return bigEndian ? first << 16 | second : second << 16 | first
        }
    }
}
