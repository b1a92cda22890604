import Testing

@testable import Extractor

/// The decode costs are worked out by hand from libjpeg's rules: a component
/// with sampling h x v of a frame whose largest factors are H x V has
/// ceil(width * h / (8 H)) blocks a row, padded to a multiple of h (and the
/// same down the columns); a buffered decode keeps 64 two-byte coefficients
/// per block.
@Suite("Decode cost: a decode's memory read from the JPEG header")
struct DecodeCostTests {
    /// SOI, SOF (baseline or progressive), SOS naming `scanComponents` components: all `DecodeCost` reads.
    static func header(width: Int, height: Int, sampling: [(h: UInt8, v: UInt8)], progressive: Bool, scanComponents: Int? = nil) -> [UInt8] {
        var bytes: [UInt8] = [0xFF, 0xD8]
        let frameLength = 8 + 3 * sampling.count
        bytes += [0xFF, progressive ? 0xC2 : 0xC0, UInt8(frameLength >> 8), UInt8(frameLength & 0xFF), 8,
                  UInt8(height >> 8), UInt8(height & 0xFF), UInt8(width >> 8), UInt8(width & 0xFF), UInt8(sampling.count)]
        for (index, factors) in sampling.enumerated() { bytes += [UInt8(index + 1), factors.h << 4 | factors.v, 0] }
        let inScan = scanComponents ?? sampling.count
        let scanLength = 6 + 2 * inScan
        bytes += [0xFF, 0xDA, UInt8(scanLength >> 8), UInt8(scanLength & 0xFF), UInt8(inScan)]
        for index in 0..<inScan { bytes += [UInt8(index + 1), 0] }
        bytes += [0, 63, 0, 0x00, 0x00, 0xFF, 0xD9]
        return bytes
    }

    static let cmyk = [(h: UInt8(1), v: UInt8(1)), (1, 1), (1, 1), (1, 1)]
    static let yuv420 = [(h: UInt8(2), v: UInt8(2)), (1, 1), (1, 1)]
    static let yuv444 = [(h: UInt8(1), v: UInt8(1)), (1, 1), (1, 1)]

    /// The hostile upload: 50 MP, progressive, CMYK.
    @Test func progressiveCMYKKeepsEveryCoefficientEvenWhenReduced() throws {
        let jpeg = Self.header(width: 8660, height: 5773, sampling: Self.cmyk, progressive: true)
        let exact = try #require(DecodeCost.of(jpeg, options: .seed))
        // 1083 x 722 blocks x 4 components x 128 bytes.
        #expect(exact.coefficientBytes == 1083 * 722 * 4 * 128)
        // CMYK out (4 bytes) and its RGB conversion (3 bytes) per pixel.
        #expect(exact.pixelBytes == 8660 * 5773 * 7)
        #expect(exact.denominator == 1 && exact.buffersCoefficients)
        #expect((740_000_000...780_000_000).contains(exact.bytes), "\(exact)")

        // The upload lane's 1/8 decode: 1/64 of the pixels, the same coefficients.
        let reduced = try #require(DecodeCost.of(jpeg, options: .upload))
        #expect(reduced.denominator == 8)
        #expect(reduced.coefficientBytes == exact.coefficientBytes)
        #expect(reduced.pixelBytes == 1083 * 722 * 7)
    }

    @Test func baselineBuffersNoCoefficients() throws {
        let jpeg = Self.header(width: 4032, height: 3024, sampling: Self.yuv420, progressive: false)
        let exact = try #require(DecodeCost.of(jpeg, options: .seed))
        #expect(exact.coefficientBytes == 0 && !exact.buffersCoefficients)
        #expect(exact.pixelBytes == 4032 * 3024 * 3)
        // The 12 MP phone photo: its pixels, plus a few MB of rows.
        #expect(exact.workingBytes < 4 << 20, "\(exact)")
        let reduced = try #require(DecodeCost.of(jpeg, options: .upload))
        #expect(reduced.denominator == 4 && reduced.pixelBytes == 1008 * 756 * 3)
    }

    /// Chroma at half resolution has a quarter of the blocks; luma is padded to whole MCUs.
    @Test func subsampledChromaHasFewerBlocksAndLumaIsPaddedToMCUs() throws {
        let p420 = try #require(DecodeCost.of(Self.header(width: 100, height: 100, sampling: Self.yuv420, progressive: true), options: .seed))
        // Y: ceil(100/8) = 13, padded to 14 -> 14 x 14; Cb, Cr: ceil(100/16) = 7 -> 7 x 7.
        #expect(p420.coefficientBytes == (14 * 14 + 2 * 7 * 7) * 128)
        let p444 = try #require(DecodeCost.of(Self.header(width: 100, height: 100, sampling: Self.yuv444, progressive: true), options: .seed))
        #expect(p444.coefficientBytes == 3 * 13 * 13 * 128)
    }

    /// A baseline file whose components come in separate scans is buffered like a progressive one.
    @Test func multiScanBaselineBuffersCoefficients() throws {
        let jpeg = Self.header(width: 64, height: 64, sampling: Self.yuv444, progressive: false, scanComponents: 1)
        let cost = try #require(DecodeCost.of(jpeg, options: .seed))
        #expect(cost.buffersCoefficients && cost.coefficientBytes == 3 * 8 * 8 * 128)
    }

    /// The parser agrees with Pillow's reading of the fixtures (`Image.open(f).layer`, `info["progressive"]`).
    @Test func realFilesParseAsPillowReadsThem() throws {
        let progressive = try #require(try Fixtures.bytes("progressive_160.jpg").withUnsafeBufferPointer(JPEGFrameHeader.read))
        #expect(progressive.progressive && progressive.width == 160 && progressive.height == 160)
        #expect(progressive.components == [.init(horizontal: 2, vertical: 2), .init(horizontal: 1, vertical: 1), .init(horizontal: 1, vertical: 1)])
        let cost = try #require(DecodeCost.of(try Fixtures.bytes("progressive_160.jpg"), options: .seed))
        #expect(cost.coefficientBytes == (20 * 20 + 2 * 10 * 10) * 128)

        let cmyk = try #require(DecodeCost.of(try Fixtures.bytes("cmyk_96.jpg"), options: .seed))
        #expect(cmyk.components == 4 && !cmyk.buffersCoefficients && cmyk.pixelBytes == 96 * 96 * 7)
        let gray = try #require(DecodeCost.of(try Fixtures.bytes("gray_120x90.jpg"), options: .seed))
        #expect(gray.components == 1 && gray.pixelBytes == 120 * 90 * 3)  // decoded to RGB
    }

    /// A turned photo is resized along its shown axes: no turned copy to pay
    /// for, even for a strip already 224 wide, which Pillow's resize would
    /// only reorder along that side.
    @Test func aTurnedPhotoCostsWhatItsStoredPixelsCost() throws {
        let rotated = try Fixtures.bytes("orientation/oriented_6.jpg")
        #expect(DecodeCost.of(rotated, options: DecodeOptions(orientation: .exif)) == DecodeCost.of(rotated, options: .seed))
        let tag = EXIFOrientationReaderTests.exif(bigEndian: false, entries: [(0x0112, 3, 1, 6)])
        let header = Self.header(width: 224, height: 20_000, sampling: Self.yuv444, progressive: false)
        let strip = Array(header[0..<2]) + [0xFF, 0xE1, UInt8((tag.count + 2) >> 8), UInt8((tag.count + 2) & 0xFF)] + tag + Array(header[2...])
        let turned = try #require(DecodeCost.of(strip, options: DecodeOptions(orientation: .exif)))
        #expect(turned == DecodeCost.of(strip, options: .seed))
        #expect(turned.pixelBytes == 224 * 20_000 * 3)
    }

    /// Hiding the frame behind thousands of comments does not hide its cost.
    @Test func aFrameAfterManySegmentsStillHasItsCost() throws {
        let jpeg = Self.header(width: 8660, height: 5773, sampling: Self.cmyk, progressive: true)
        let comments = (0..<5_000).flatMap { _ in [0xFF, 0xFE, 0x00, 0x03, 0x41] as [UInt8] }
        let padded = Array(jpeg[0..<2]) + comments + Array(jpeg[2...])
        #expect(DecodeCost.of(padded, options: .seed) == DecodeCost.of(jpeg, options: .seed))
    }

    @Test func malformedHeadersHaveNoCost() {
        #expect(DecodeCost.of([0xFF, 0xD8, 0xFF, 0xD9], options: .seed) == nil)
        #expect(DecodeCost.of([0x89, 0x50, 0x4E, 0x47], options: .seed) == nil)
        var zeroWidth = Self.header(width: 0, height: 10, sampling: Self.yuv444, progressive: false)
        #expect(DecodeCost.of(zeroWidth, options: .seed) == nil)
        zeroWidth[9] = 1  // width 256, then the segment cut short
        #expect(DecodeCost.of(Array(zeroWidth.prefix(12)), options: .seed) == nil)
    }
}
