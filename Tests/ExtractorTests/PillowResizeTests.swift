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

    @Test func bicubicKernelIsKeysWithAMinusHalf() {
        #expect(PillowResize.bicubic(0) == 1)
        #expect(PillowResize.bicubic(1) == 0)
        #expect(PillowResize.bicubic(2) == 0)
        #expect(PillowResize.bicubic(-0.5) == PillowResize.bicubic(0.5))
        #expect(abs(PillowResize.bicubic(1.5) - (-0.0625)) < 1e-12)
    }
}
