/// The scans of a JPEG, counted from its markers without decoding it.
///
/// A progressive JPEG re-decodes the whole image for every scan, so its cost
/// is scans x pixels; counting first lets the decoder refuse a crafted file
/// before it spends minutes on it. Baseline files (one frame, SOF0/SOF1) are
/// not walked: their scans are few by construction.
enum JPEGScans {
    /// Offsets of the SOS markers outside entropy-coded data; empty for a
    /// baseline JPEG (only progressive frames, SOF2/SOF6/SOF10/SOF14, are walked).
    static func starts(_ jpeg: UnsafeBufferPointer<UInt8>) -> [Int] {
        var starts: [Int] = []
        var progressive = false
        var index = 2
        while index + 3 < jpeg.count {
            guard jpeg[index] == 0xFF else { index += 1; continue }
            let marker = jpeg[index + 1]
            if marker == 0xD9 { break }
            if marker == 0x00 || marker == 0xFF || (0xD0...0xD7).contains(marker) { index += 1; continue }
            let length = Int(jpeg[index + 2]) << 8 | Int(jpeg[index + 3])
            switch marker {
            case 0xC2, 0xC6, 0xCA, 0xCE:
                progressive = true
            case 0xC0, 0xC1, 0xC3:
                return []
            case 0xDA:
                guard progressive else { return [] }
                starts.append(index)
                // The entropy-coded data runs to the next marker that is not a stuffed byte or a restart.
                index += 2 + length
                while index + 1 < jpeg.count, !(jpeg[index] == 0xFF && jpeg[index + 1] != 0x00 && !(0xD0...0xD7).contains(jpeg[index + 1])) {
                    index += 1
                }
                continue
            default:
                break
            }
            index += 2 + length
        }
        return starts
    }
}
