/// Resizes exactly like Pillow's `Image.resize(size)` with its default bicubic
/// filter: a separable convolution (horizontal pass, then vertical) whose
/// support widens by the scale factor when shrinking (antialiasing), with
/// coefficients normalised to 22-bit fixed point and 8-bit results per pass.
///
/// Matching Pillow byte for byte matters: the model was characterised on
/// Pillow-resized inputs, and the golden tests compare the bytes.
public enum PillowResize {
    private static let precisionBits = 32 - 8 - 2
    private static let bicubicSupport = 2.0

    public static func resize(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        if image.width == width && image.height == height { return image }
        let horizontal = Coefficients(inputSize: image.width, outputSize: width)
        let vertical = Coefficients(inputSize: image.height, outputSize: height)

        // Only the rows the vertical pass reads are resampled horizontally.
        let firstRow = vertical.bounds[0].start
        let lastRow = vertical.bounds[height - 1].start + vertical.bounds[height - 1].count
        var rows = image.pixels
        var rowsWidth = image.width
        var rowOffset = 0
        if width != image.width {
            rows = horizontalPass(image, rows: firstRow..<lastRow, coefficients: horizontal)
            rowsWidth = width
            rowOffset = firstRow
        }
        guard height != image.height else { return RGBImage(width: width, height: height, pixels: rows) }
        let pixels = verticalPass(rows, width: rowsWidth, rowOffset: rowOffset, coefficients: vertical, outputHeight: height)
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    static func bicubic(_ x: Double) -> Double {
        let a = -0.5
        let x = abs(x)
        if x < 1.0 { return ((a + 2.0) * x - (a + 3.0)) * x * x + 1 }
        if x < 2.0 { return (((x - 5) * x + 8) * x - 4) * a }
        return 0.0
    }

    /// Fixed-point taps for every output position along one axis.
    struct Coefficients {
        let taps: Int
        let bounds: [(start: Int, count: Int)]
        let weights: [Int32]

        init(inputSize: Int, outputSize: Int) {
            let scale = Double(inputSize) / Double(outputSize)
            let filterScale = max(scale, 1.0)
            let support = PillowResize.bicubicSupport * filterScale
            let taps = Int(support.rounded(.up)) * 2 + 1
            var bounds: [(start: Int, count: Int)] = []
            bounds.reserveCapacity(outputSize)
            var weights = [Int32](repeating: 0, count: outputSize * taps)
            var row = [Double](repeating: 0, count: taps)
            let inverseScale = 1.0 / filterScale
            for position in 0..<outputSize {
                let center = (Double(position) + 0.5) * scale
                let start = max(Int(center - support + 0.5), 0)
                let end = min(Int(center + support + 0.5), inputSize)
                var total = 0.0
                for x in 0..<(end - start) {
                    let w = PillowResize.bicubic((Double(x + start) - center + 0.5) * inverseScale)
                    row[x] = w
                    total += w
                }
                for x in 0..<(end - start) {
                    let normalised = total != 0 ? row[x] / total : row[x]
                    let scaled = normalised * Double(1 << PillowResize.precisionBits)
                    weights[position * taps + x] = Int32(normalised < 0 ? scaled - 0.5 : scaled + 0.5)
                }
                bounds.append((start, end - start))
            }
            self.taps = taps
            self.bounds = bounds
            self.weights = weights
        }
    }

    @inline(__always)
    private static func clip8(_ value: Int32) -> UInt8 {
        if value >= Int32(1) << (precisionBits + 8) { return 255 }
        if value <= 0 { return 0 }
        return UInt8(truncatingIfNeeded: value >> precisionBits)
    }

    private static func horizontalPass(_ image: RGBImage, rows: Range<Int>, coefficients: Coefficients) -> [UInt8] {
        let outWidth = coefficients.bounds.count
        var out = [UInt8](repeating: 0, count: rows.count * outWidth * 3)
        let half = Int32(1) << (precisionBits - 1)
        image.pixels.withUnsafeBufferPointer { input in
            coefficients.weights.withUnsafeBufferPointer { weights in
                out.withUnsafeMutableBufferPointer { output in
                    for (outRow, inRow) in rows.enumerated() {
                        let inBase = inRow * image.width * 3
                        let outBase = outRow * outWidth * 3
                        for x in 0..<outWidth {
                            let (start, count) = coefficients.bounds[x]
                            let k = x * coefficients.taps
                            var r = half, g = half, b = half
                            var p = inBase + start * 3
                            for t in 0..<count {
                                let w = weights[k + t]
                                r &+= Int32(input[p]) &* w
                                g &+= Int32(input[p + 1]) &* w
                                b &+= Int32(input[p + 2]) &* w
                                p += 3
                            }
                            output[outBase + x * 3] = clip8(r)
                            output[outBase + x * 3 + 1] = clip8(g)
                            output[outBase + x * 3 + 2] = clip8(b)
                        }
                    }
                }
            }
        }
        return out
    }

    private static func verticalPass(
        _ rows: [UInt8], width: Int, rowOffset: Int, coefficients: Coefficients, outputHeight: Int
    ) -> [UInt8] {
        let rowBytes = width * 3
        var out = [UInt8](repeating: 0, count: outputHeight * rowBytes)
        let half = Int32(1) << (precisionBits - 1)
        var accumulator = [Int32](repeating: 0, count: rowBytes)
        rows.withUnsafeBufferPointer { input in
            coefficients.weights.withUnsafeBufferPointer { weights in
                out.withUnsafeMutableBufferPointer { output in
                    accumulator.withUnsafeMutableBufferPointer { acc in
                        for y in 0..<outputHeight {
                            let (start, count) = coefficients.bounds[y]
                            let k = y * coefficients.taps
                            for i in 0..<rowBytes { acc[i] = half }
                            // Row-major accumulation keeps the inner loop contiguous; integer
                            // sums are exact, so the order does not change the result.
                            for t in 0..<count {
                                let w = weights[k + t]
                                let base = (start - rowOffset + t) * rowBytes
                                for i in 0..<rowBytes { acc[i] &+= Int32(input[base + i]) &* w }
                            }
                            let outBase = y * rowBytes
                            for i in 0..<rowBytes { output[outBase + i] = clip8(acc[i]) }
                        }
                    }
                }
            }
        }
        return out
    }
}
