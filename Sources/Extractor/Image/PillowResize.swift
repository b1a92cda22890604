/// Resizes exactly like Pillow's `Image.resize(size)` with its default bicubic
/// filter: a separable convolution (horizontal pass, then vertical) whose
/// support widens by the scale factor when shrinking (antialiasing), with
/// coefficients normalised to 22-bit fixed point and 8-bit results per pass.
///
/// Matching Pillow byte for byte matters: the model was characterised on
/// Pillow-resized inputs, and the golden tests compare the bytes.
public enum PillowResize {
    static let precisionBits = 32 - 8 - 2
    private static let bicubicSupport = 2.0

    public static func resize(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        resize(image, width: width, height: height, reversingX: false, reversingY: false)
    }

    /// Reversing an axis reads it from the far end: the result is the resize
    /// of the image mirrored along that axis, in the same integer sums.
    static func resize(_ image: RGBImage, width: Int, height: Int, reversingX: Bool, reversingY: Bool) -> RGBImage {
        if image.width == width && image.height == height && !reversingX && !reversingY { return image }
        precondition(width != image.width || !reversingX, "an axis without a pass cannot be reversed")
        precondition(height != image.height || !reversingY, "an axis without a pass cannot be reversed")
        var vertical = Coefficients(inputSize: image.height, outputSize: height)
        if reversingY { vertical = vertical.reversed() }

        // Only the rows the vertical pass reads are resampled horizontally.
        let rows = vertical.starts.min()!..<(vertical.starts.max()! + vertical.taps)
        var resampled = image.pixels
        var resampledWidth = image.width
        var rowOffset = 0
        if width != image.width {
            resampled = horizontalPass(image, rows: rows, outputWidth: width, reversed: reversingX)
            resampledWidth = width
            rowOffset = rows.lowerBound
        }
        guard height != image.height else { return RGBImage(width: width, height: height, pixels: resampled) }
        let pixels = verticalPass(resampled, width: resampledWidth, rowOffset: rowOffset, coefficients: vertical, outputHeight: height)
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// On 8-pixel vectors when the row is wide enough for a padded window.
    static func horizontalPass(_ image: RGBImage, rows: Range<Int>, outputWidth: Int, reversed: Bool) -> [UInt8] {
        if var padded = Coefficients(inputSize: image.width, outputSize: outputWidth, windowMultiple: chunkPixels) {
            if reversed { padded = padded.reversed() }
            return vectorHorizontalPass(image, rows: rows, weights: InterleavedWeights(padded))
        }
        var coefficients = Coefficients(inputSize: image.width, outputSize: outputWidth)
        if reversed { coefficients = coefficients.reversed() }
        return scalarHorizontalPass(image, rows: rows, coefficients: coefficients)
    }

    static func bicubic(_ x: Double) -> Double {
        let a = -0.5
        let x = abs(x)
        if x < 1.0 { return ((a + 2.0) * x - (a + 3.0)) * x * x + 1 }
        if x < 2.0 { return (((x - 5) * x + 8) * x - 4) * a }
        return 0.0
    }

    /// Fixed-point taps for every output position along one axis. Pillow's
    /// windows are shorter at the borders; here every position reads exactly
    /// `taps` inputs from `starts[i]`, the window shifted inwards and padded
    /// with zero weights, so the loops have one trip count and the integer
    /// sums are unchanged.
    struct Coefficients {
        let inputSize: Int
        let taps: Int
        let starts: [Int]
        let weights: [Int32]

        init(inputSize: Int, outputSize: Int) {
            self.init(inputSize: inputSize, outputSize: outputSize, windowMultiple: 1)!
        }

        /// Windows rounded up to a multiple of `windowMultiple` taps; nil when
        /// such a window would be wider than the input.
        init?(inputSize: Int, outputSize: Int, windowMultiple: Int) {
            let scale = Double(inputSize) / Double(outputSize)
            let filterScale = max(scale, 1.0)
            let support = PillowResize.bicubicSupport * filterScale
            let needed = min(Int(support.rounded(.up)) * 2 + 1, inputSize)
            let taps = (needed + windowMultiple - 1) / windowMultiple * windowMultiple
            guard taps <= inputSize else { return nil }
            var starts = [Int](repeating: 0, count: outputSize)
            var weights = [Int32](repeating: 0, count: outputSize * taps)
            var window = [Double](repeating: 0, count: taps)
            let inverseScale = 1.0 / filterScale
            for position in 0..<outputSize {
                let center = (Double(position) + 0.5) * scale
                let start = max(Int(center - support + 0.5), 0)
                let end = min(Int(center + support + 0.5), inputSize)
                var total = 0.0
                for x in 0..<(end - start) {
                    let w = PillowResize.bicubic((Double(x + start) - center + 0.5) * inverseScale)
                    window[x] = w
                    total += w
                }
                let shiftedStart = min(start, inputSize - taps)
                let row = position * taps + (start - shiftedStart)
                for x in 0..<(end - start) {
                    let normalised = total != 0 ? window[x] / total : window[x]
                    let scaled = normalised * Double(1 << PillowResize.precisionBits)
                    weights[row + x] = Int32(normalised < 0 ? scaled - 0.5 : scaled + 0.5)
                }
                starts[position] = shiftedStart
            }
            self.init(inputSize: inputSize, taps: taps, starts: starts, weights: weights)
        }

        private init(inputSize: Int, taps: Int, starts: [Int], weights: [Int32]) {
            self.inputSize = inputSize
            self.taps = taps
            self.starts = starts
            self.weights = weights
        }

        /// The same windows read from the far end of the axis: output i then
        /// equals output i of the mirrored input.
        func reversed() -> Coefficients {
            let starts = starts.map { inputSize - $0 - taps }
            var weights = weights
            for position in 0..<starts.count {
                weights[(position * taps)..<((position + 1) * taps)].reverse()
            }
            return Coefficients(inputSize: inputSize, taps: taps, starts: starts, weights: weights)
        }
    }

    /// Pillow's `clip8`: round-shift a fixed-point sum back to 8 bits, saturating.
    @inline(__always)
    static func clip8(_ value: Int32) -> UInt8 {
        UInt8(truncatingIfNeeded: min(max(value, 0), (Int32(1) << (precisionBits + 8)) - 1) >> precisionBits)
    }

    private static func scalarHorizontalPass(_ image: RGBImage, rows: Range<Int>, coefficients: Coefficients) -> [UInt8] {
        let outWidth = coefficients.starts.count
        let taps = coefficients.taps
        let half = Int32(1) << (precisionBits - 1)
        return [UInt8](unsafeUninitializedCapacity: rows.count * outWidth * 3) { output, initialized in
            image.pixels.withUnsafeBufferPointer { input in
                coefficients.weights.withUnsafeBufferPointer { weights in
                    coefficients.starts.withUnsafeBufferPointer { starts in
                        var out = output.baseAddress!
                        for inRow in rows {
                            let row = input.baseAddress! + inRow * image.width * 3
                            for x in 0..<outWidth {
                                var pixel = row + starts[x] * 3
                                let w = weights.baseAddress! + x * taps
                                var r = half, g = half, b = half
                                for t in 0..<taps {
                                    r &+= Int32(pixel[0]) &* w[t]
                                    g &+= Int32(pixel[1]) &* w[t]
                                    b &+= Int32(pixel[2]) &* w[t]
                                    pixel += 3
                                }
                                out[0] = clip8(r)
                                out[1] = clip8(g)
                                out[2] = clip8(b)
                                out += 3
                            }
                        }
                    }
                }
            }
            initialized = rows.count * outWidth * 3
        }
    }

    static func verticalPass(
        _ rows: [UInt8], width: Int, rowOffset: Int, coefficients: Coefficients, outputHeight: Int
    ) -> [UInt8] {
        let rowBytes = width * 3
        let half = Int32(1) << (precisionBits - 1)
        var accumulator = [Int32](repeating: 0, count: rowBytes)
        return [UInt8](unsafeUninitializedCapacity: outputHeight * rowBytes) { output, initialized in
            rows.withUnsafeBufferPointer { input in
                coefficients.weights.withUnsafeBufferPointer { weights in
                    accumulator.withUnsafeMutableBufferPointer { accumulator in
                        let sum = accumulator.baseAddress!
                        for y in 0..<outputHeight {
                            let w = weights.baseAddress! + y * coefficients.taps
                            var source = input.baseAddress! + (coefficients.starts[y] - rowOffset) * rowBytes
                            sum.update(repeating: half, count: rowBytes)
                            // Row by row keeps the inner loop contiguous, so it vectorises;
                            // integer sums are exact, so the order does not change the result.
                            for t in 0..<coefficients.taps {
                                for i in 0..<rowBytes { sum[i] &+= Int32(source[i]) &* w[t] }
                                source += rowBytes
                            }
                            let destination = output.baseAddress! + y * rowBytes
                            for i in 0..<rowBytes { destination[i] = clip8(sum[i]) }
                        }
                    }
                }
            }
            initialized = outputHeight * rowBytes
        }
    }
}
