import Testing

@testable import Extractor

@Suite("Bad input gives typed errors, never a crash")
struct JPEGDecoderTests {
    static let expectations: [(file: String, reason: String)] = [
        ("empty.jpg", "empty"),
        ("png_renamed.jpg", "unsupported_format"),
        ("html.jpg", "unsupported_format"),
        ("random.jpg", "unsupported_format"),
        ("truncated.jpg", "truncated"),
        ("header_only.jpg", "truncated"),
        ("one_pixel.jpg", "too_small"),
        ("huge_header.jpg", "too_large"),
    ]

    @Test(arguments: expectations)
    func badFileIsRejected(file: String, reason: String) throws {
        let bytes = try Fixtures.bytes("bad/" + file)
        #expect(throws: ImageError.self) { try JPEGDecoder().decode(bytes) }
        do {
            _ = try JPEGDecoder().decode(bytes)
        } catch {
            #expect(error.reason == reason, "\(file): \(error)")
        }
    }

    /// A progressive JPEG whose last scan is repeated 600 times: libjpeg would
    /// decode the whole image again for every scan. It is refused, quickly.
    @Test func aProgressiveJPEGWithThousandsOfScansIsRefusedQuickly() throws {
        let progressive = try Fixtures.bytes("progressive_160.jpg")
        #expect(throws: Never.self) { try JPEGDecoder().decode(progressive) }
        let scans = Self.scanStarts(progressive)
        try #require(scans.count > 1, "the fixture is progressive")
        let end = progressive.count - 2  // the EOI marker
        let lastScan = Array(progressive[scans.last!..<end])
        var crafted = Array(progressive[..<end])
        for _ in 0..<600 { crafted += lastScan }
        crafted += [0xFF, 0xD9]
        let started = ContinuousClock.now
        #expect(throws: ImageError.self) { try JPEGDecoder().decode(crafted) }
        do { _ = try JPEGDecoder().decode(crafted) } catch { #expect(error.reason == "too_many_scans", "\(error)") }
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    static func scanStarts(_ jpeg: [UInt8]) -> [Int] {
        jpeg.withUnsafeBufferPointer { JPEGScans.starts($0) }
    }

    /// Under the 500-scan limit, a progressive file still costs scans x pixels:
    /// past the budget it is refused before decoding.
    @Test func aProgressiveJPEGOverItsDecodeBudgetIsRefused() throws {
        let progressive = try Fixtures.bytes("progressive_160.jpg")
        let scans = Self.scanStarts(progressive)
        #expect((2...20).contains(scans.count), "an ordinary progressive file: \(scans.count) scans")
        let end = progressive.count - 2
        var crafted = Array(progressive[..<end])
        for _ in 0..<300 { crafted += progressive[scans.last!..<end] }
        crafted += [0xFF, 0xD9]
        let budget = JPEGDecoder.Limits(maxScanPixels: 160 * 160 * 100)
        #expect(throws: Never.self) { try JPEGDecoder(limits: budget).decode(progressive) }
        do { _ = try JPEGDecoder(limits: budget).decode(crafted); Issue.record("decoded a file over its budget") } catch {
            #expect(error.reason == "too_many_scans" && "\(error)".contains("scans of a 160x160 image"), "\(error)")
        }
        #expect(Self.scanStarts(try Fixtures.bytes("fruit_100_a.jpg")).isEmpty, "baseline files are not walked")
    }

    @Test func everyBadFixtureHasAnExpectation() {
        #expect(Set(Fixtures.manifest.bad) == Set(Self.expectations.map(\.file)))
    }

    @Test func formatIsNamedInTheError() throws {
        let png = try Fixtures.bytes("bad/png_renamed.jpg")
        #expect(throws: ImageError.unsupportedFormat("PNG")) { try JPEGDecoder().decode(png) }
        let html = try Fixtures.bytes("bad/html.jpg")
        #expect(throws: ImageError.unsupportedFormat("HTML/XML text")) { try JPEGDecoder().decode(html) }
    }

    @Test func pixelLimitIsCheckedBeforeDecoding() throws {
        let photo = try Fixtures.bytes("photo_1600x1200.jpg")
        let decoder = JPEGDecoder(limits: .init(maxPixels: 1_000_000))
        #expect(throws: ImageError.tooLarge(width: 1600, height: 1200, limitPixels: 1_000_000)) {
            try decoder.decode(photo)
        }
    }

    @Test func everyTruncationPointFailsCleanly() throws {
        let good = try Fixtures.bytes("fruit_100_a.jpg")
        let decoder = JPEGDecoder()
        for length in stride(from: 0, to: good.count - 2, by: 97) {
            #expect(throws: ImageError.self) { try decoder.decode(Array(good[..<length])) }
            do { _ = try decoder.decode(Array(good[..<length])) } catch {
                #expect(error.reason == (length == 0 ? "empty" : "truncated"), "cut at \(length): \(error)")
            }
        }
        // The decoder is still usable after all those failures.
        #expect(try decoder.decode(good).width == 100)
    }

    @Test func cmykMatchesPillowsConversion() {
        // Pillow: C = 255 - raw; out = (255 - K) - C * (255 - K) / 255 in 8-bit fixed point.
        #expect(JPEGDecoder.adobeCMYKToRGB([255, 255, 255, 255]) == [255, 255, 255])
        #expect(JPEGDecoder.adobeCMYKToRGB([0, 0, 0, 255]) == [0, 0, 0])
        #expect(JPEGDecoder.adobeCMYKToRGB([255, 255, 255, 0]) == [0, 0, 0])
        #expect(JPEGDecoder.adobeCMYKToRGB([128, 200, 255, 200]) == [100, 157, 200])
    }
}
