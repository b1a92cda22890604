import Common
import Testing

@testable import Extractor

/// The EXIF reader on hand-made segments, malformed ones and mutations: it
/// finds the tag where Pillow would and otherwise says nothing, never reading
/// outside the file.
@Suite("EXIF orientation reader")
struct EXIFOrientationReaderTests {
    /// SOI, the given segments (marker, body), then a scan marker.
    static func jpeg(_ segments: [(UInt8, [UInt8])]) -> [UInt8] {
        var bytes: [UInt8] = [0xFF, 0xD8]
        for (marker, body) in segments {
            let length = body.count + 2
            bytes += [0xFF, marker, UInt8(length >> 8), UInt8(length & 0xFF)] + body
        }
        return bytes + [0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9]
    }

    /// An Exif APP1 body whose IFD0 holds `entries` (tag, type, count, value).
    static func exif(bigEndian: Bool, entries: [(UInt16, UInt16, UInt32, UInt32)], ifdOffset: UInt32 = 8,
                     declaredCount: UInt16? = nil) -> [UInt8] {
        func u16(_ v: UInt16) -> [UInt8] { bigEndian ? [UInt8(v >> 8), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func u32(_ v: UInt32) -> [UInt8] {
            bigEndian ? u16(UInt16(v >> 16)) + u16(UInt16(v & 0xFFFF)) : u16(UInt16(v & 0xFFFF)) + u16(UInt16(v >> 16))
        }
        var tiff: [UInt8] = (bigEndian ? [0x4D, 0x4D] : [0x49, 0x49]) + u16(42) + u32(ifdOffset)
        tiff += u16(declaredCount ?? UInt16(entries.count))
        for (tag, type, count, value) in entries {
            // A SHORT value sits in the first two bytes of the value field.
            let field = type == 3 ? u16(UInt16(value)) + [0, 0] : u32(value)
            tiff += u16(tag) + u16(type) + u32(count) + field
        }
        return Array("Exif".utf8) + [0, 0] + tiff + [0, 0, 0, 0]
    }

    static func read(_ bytes: [UInt8]) -> ImageOrientation? {
        bytes.withUnsafeBufferPointer { EXIFOrientationReader.orientation(in: $0) }
    }

    static let make = (0x010F as UInt16, 2 as UInt16, 4 as UInt32, 0 as UInt32)

    @Test(arguments: [false, true], 1...8)
    func bothByteOrdersAndEveryValue(bigEndian: Bool, value: Int) {
        let body = Self.exif(bigEndian: bigEndian, entries: [Self.make, (0x0112, 3, 1, UInt32(value))])
        #expect(Self.read(Self.jpeg([(0xE0, [1, 2, 3]), (0xE1, body)])) == ImageOrientation(rawValue: value))
    }

    @Test func aLongValueIsAccepted() {
        #expect(Self.read(Self.jpeg([(0xE1, Self.exif(bigEndian: true, entries: [(0x0112, 4, 1, 6)]))])) == .rotatedLeft)
    }

    @Test func xmpBeforeExifIsSkipped() {
        let xmp = Array("http://ns.adobe.com/xap/1.0/\0<x/>".utf8)
        #expect(Self.read(Self.jpeg([(0xE1, xmp), (0xE1, Self.exif(bigEndian: false, entries: [(0x0112, 3, 1, 8)]))])) == .rotatedRight)
    }

    @Test func onlyTheFirstExifSegmentCounts() {
        let first = Self.exif(bigEndian: false, entries: [Self.make])
        let second = Self.exif(bigEndian: false, entries: [(0x0112, 3, 1, 6)])
        #expect(Self.read(Self.jpeg([(0xE1, first), (0xE1, second)])) == nil)
    }

    @Test(arguments: [
        ("value 0", exif(bigEndian: false, entries: [(0x0112, 3, 1, 0)])),
        ("value 9", exif(bigEndian: false, entries: [(0x0112, 3, 1, 9)])),
        ("value 65535", exif(bigEndian: true, entries: [(0x0112, 3, 1, 65535)])),
        ("type ASCII", exif(bigEndian: false, entries: [(0x0112, 2, 1, 6)])),
        ("count 0", exif(bigEndian: false, entries: [(0x0112, 3, 0, 6)])),
        ("IFD past the segment", exif(bigEndian: false, entries: [(0x0112, 3, 1, 6)], ifdOffset: 0xFFFF_FFF0)),
        ("IFD at the last byte", exif(bigEndian: false, entries: [(0x0112, 3, 1, 6)], ifdOffset: 25)),
        ("65535 entries claimed, none has the tag", exif(bigEndian: false, entries: [make], declaredCount: 65535)),
        ("bad byte order", Array("Exif\0\0IM".utf8) + [42, 0, 8, 0, 0, 0]),
        ("bad magic", Array("Exif\0\0II".utf8) + [43, 0, 8, 0, 0, 0]),
        ("header only", Array("Exif\0\0II".utf8)),
    ])
    func malformedExifMeansNoOrientation(name: String, body: [UInt8]) {
        #expect(Self.read(Self.jpeg([(0xE1, body)])) == nil, "\(name)")
    }

    @Test func aSegmentLongerThanTheFileIsNotRead() {
        var bytes = Self.jpeg([(0xE1, Self.exif(bigEndian: false, entries: [(0x0112, 3, 1, 6)]))])
        bytes[5] = 0xFF  // the APP1 length's low byte: the segment now runs past the file
        bytes[4] = 0xFF
        #expect(Self.read(Array(bytes.prefix(60))) == nil)
    }

    @Test func exifAfterTheScanIsIgnored() {
        var bytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02]
        bytes += Self.jpeg([(0xE1, Self.exif(bigEndian: false, entries: [(0x0112, 3, 1, 6)]))]).dropFirst(2)
        #expect(Self.read(bytes) == nil)
    }

    /// Cut anywhere before the value's last byte, the tag cannot be read.
    @Test func everyTruncationBeforeTheValueEndsReadsNothing() {
        let whole = Self.jpeg([(0xE1, Self.exif(bigEndian: true, entries: [Self.make, (0x0112, 3, 1, 6)]))])
        #expect(Self.read(whole) == .rotatedLeft)
        let valueEnd = 2 + 4 + 6 + 8 + 2 + 12 + 10  // SOI, APP1 header, "Exif\0\0", TIFF header, count, first entry, tag up to value
        for length in 0..<valueEnd {
            #expect(Self.read(Array(whole.prefix(length))) == nil, "cut at \(length)")
        }
    }

    /// Random corruption of a valid segment: whatever comes back, the reader
    /// stays within the bytes (a crash fails the run) and finishes.
    @Test func randomMutationsNeverCrash() {
        let whole = Self.jpeg([(0xE1, Self.exif(bigEndian: false, entries: [Self.make, (0x0112, 3, 1, 6)]))])
        var generator = SplitMix64(seed: 26)
        var found = 0
        for _ in 0..<20_000 {
            var bytes = whole
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator)))
            if Self.read(bytes) != nil { found += 1 }
        }
        #expect(found > 0, "some mutations keep the tag readable")
    }
}
