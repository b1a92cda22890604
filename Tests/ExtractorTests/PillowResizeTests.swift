import Testing

@testable import Extractor

@Suite("Decode and resize match Pillow byte for byte")
struct PillowResizeTests {
    @Test(arguments: Fixtures.manifest.good)
    func resizedBytesMatchPillow(_ fixture: Fixtures.Good) throws {
        let decoder = JPEGDecoder()
        let image = try decoder.decode(try Fixtures.bytes(fixture.name + ".jpg"))
        #expect(image.width == fixture.width && image.height == fixture.height)
        let resized = PillowResize.resize(image, width: 224, height: 224)
        let expected = try Fixtures.bytes(fixture.name + ".rgb")
        #expect(resized.pixels.count == expected.count)
        let differences = zip(resized.pixels, expected).filter { $0 != $1 }
        let largest = differences.map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(differences.isEmpty, "\(differences.count) of \(expected.count) bytes differ, by at most \(largest)")
    }

    @Test func sameSizeIsUntouched() {
        let pixels = (0..<(224 * 224 * 3)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let image = RGBImage(width: 224, height: 224, pixels: pixels)
        #expect(PillowResize.resize(image, width: 224, height: 224) == image)
    }

    @Test func constantImageStaysConstant() {
        let image = RGBImage(width: 13, height: 77, pixels: [UInt8](repeating: 173, count: 13 * 77 * 3))
        let resized = PillowResize.resize(image, width: 224, height: 224)
        #expect(resized.pixels.allSatisfy { $0 == 173 })
    }

    @Test(arguments: [(100, 224), (1600, 224), (224, 224), (7, 224)])
    func fixedPointWeightsSumToOne(input: Int, output: Int) {
        let coefficients = PillowResize.Coefficients(inputSize: input, outputSize: output)
        for position in 0..<output {
            let row = coefficients.weights[(position * coefficients.taps)..<((position + 1) * coefficients.taps)]
            let sum = row.reduce(0) { $0 + Int($1) }
            // Rounding each tap to 22 bits may lose up to half a unit per tap.
            #expect(abs(sum - (1 << 22)) <= coefficients.taps)
        }
    }

    /// Windows padded for the vector pass read inside the row, put every weight
    /// on the input position it had, and are refused when the row is narrower
    /// than one padded window (7 pixels: 5 taps, 8 padded).
    @Test(arguments: [(7, 224), (8, 224), (100, 224), (1008, 224), (2016, 224), (4032, 224)])
    func paddedWindowsStayInsideTheInput(input: Int, output: Int) throws {
        guard let padded = PillowResize.Coefficients(inputSize: input, outputSize: output, windowMultiple: 8) else {
            #expect(input < 8)
            return
        }
        let plain = PillowResize.Coefficients(inputSize: input, outputSize: output)
        #expect(padded.taps % 8 == 0 && padded.taps >= plain.taps && padded.taps < plain.taps + 8)
        #expect(padded.starts.allSatisfy { $0 >= 0 && $0 + padded.taps <= input })
        func weightsByInput(_ c: PillowResize.Coefficients, _ position: Int) -> [Int: Int32] {
            var byInput: [Int: Int32] = [:]
            for t in 0..<c.taps where c.weights[position * c.taps + t] != 0 { byInput[c.starts[position] + t] = c.weights[position * c.taps + t] }
            return byInput
        }
        for position in 0..<output {
            #expect(weightsByInput(padded, position) == weightsByInput(plain, position), "output \(position)")
        }
    }

    /// The fast passes (fixed-width windows, pointer loops, the vector pass and
    /// its scalar fallback) against a direct transcription of Pillow's algorithm,
    /// on shapes the fixtures do not cover: tiny, odd, just above and below the
    /// target, long strips, a phone photo's width at 1/2 and full size.
    @Test(arguments: [(7, 50), (8, 8), (9, 300), (100, 100), (223, 225), (225, 223), (640, 37), (1000, 8), (2016, 10), (4032, 5)])
    func fastPassesEqualTheDirectAlgorithm(width: Int, height: Int) {
        var state: UInt32 = UInt32(width * 7919 + height)
        let pixels = (0..<(width * height * 3)).map { _ in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
        let image = RGBImage(width: width, height: height, pixels: pixels)
        let fast = PillowResize.resize(image, width: 224, height: 224).pixels
        let direct = DirectResize.resize(image, width: 224, height: 224).pixels
        let differing = zip(fast, direct).filter { $0 != $1 }.count
        #expect(differing == 0, "\(differing) of \(direct.count) bytes differ")
    }

    /// Resizing the stored pixels along the shown axes equals resizing the
    /// turned photo, for every orientation: shrinking, enlarging, mixed, a side
    /// already at its target (no pass on that axis, in either orientation), both,
    /// targets that are not square, and rows too narrow for the vectors.
    @Test(arguments: [
        (640, 480, 224, 224), (333, 517, 224, 224), (100, 60, 224, 224), (300, 150, 224, 224), (224, 300, 224, 224),
        (300, 224, 224, 224), (7, 9, 224, 224), (1000, 31, 224, 224), (640, 480, 224, 160), (640, 480, 160, 224),
        (160, 224, 224, 160), (224, 160, 224, 160), (224, 224, 224, 224),
    ])
    func resizingAlongTheShownAxesEqualsResizingTheTurnedPhoto(width: Int, height: Int, toWidth: Int, toHeight: Int) {
        var state = UInt32(width * 31 + height)
        let pixels = (0..<(width * height * 3)).map { _ in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
        let stored = RGBImage(width: width, height: height, pixels: pixels)
        for orientation in ImageOrientation.allCases {
            let oriented = OrientedImage(stored: stored, orientation: orientation)
            let direct = PillowResize.resize(oriented.shown, width: toWidth, height: toHeight)
            let alongAxes = PillowResize.resize(oriented, width: toWidth, height: toHeight)
            #expect(alongAxes == direct, "\(orientation) on \(width)x\(height) to \(toWidth)x\(toHeight)")
        }
    }

    @Test func bicubicKernelIsKeysWithAMinusHalf() {
        #expect(PillowResize.bicubic(0) == 1)
        #expect(PillowResize.bicubic(1) == 0)
        #expect(PillowResize.bicubic(2) == 0)
        #expect(PillowResize.bicubic(-0.5) == PillowResize.bicubic(0.5))
        #expect(abs(PillowResize.bicubic(1.5) - (-0.0625)) < 1e-12)
    }
}

/// Pillow's resample, written the obvious way: variable-length windows, a full
/// horizontal pass over every row, then the vertical pass.
private enum DirectResize {
    static func resize(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        let horizontal = pass(image.pixels, lines: image.height, inputSize: image.width, outputSize: width,
                              index: { line, x, c in (line * image.width + x) * 3 + c },
                              outIndex: { line, x, c in (line * width + x) * 3 + c })
        let vertical = pass(horizontal, lines: width, inputSize: image.height, outputSize: height,
                            index: { column, y, c in (y * width + column) * 3 + c },
                            outIndex: { column, y, c in (y * width + column) * 3 + c })
        return RGBImage(width: width, height: height, pixels: vertical)
    }

    private static func pass(
        _ input: [UInt8], lines: Int, inputSize: Int, outputSize: Int,
        index: (Int, Int, Int) -> Int, outIndex: (Int, Int, Int) -> Int
    ) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: lines * outputSize * 3)
        let scale = Double(inputSize) / Double(outputSize)
        let filterScale = max(scale, 1)
        let support = 2.0 * filterScale
        for position in 0..<outputSize {
            let center = (Double(position) + 0.5) * scale
            let start = max(Int(center - support + 0.5), 0)
            let end = min(Int(center + support + 0.5), inputSize)
            let raw = (start..<end).map { PillowResize.bicubic((Double($0) - center + 0.5) / filterScale) }
            let total = raw.reduce(0, +)
            let weights = raw.map { w -> Int in
                let scaled = (total != 0 ? w / total : w) * Double(1 << 22)
                return Int(scaled < 0 ? scaled - 0.5 : scaled + 0.5)
            }
            for line in 0..<lines {
                for c in 0..<3 {
                    var sum = 1 << 21
                    for (t, w) in weights.enumerated() { sum += Int(input[index(line, start + t, c)]) * w }
                    output[outIndex(line, position, c)] = UInt8(min(max(sum >> 22, 0), 255))
                }
            }
        }
        return output
    }
}
