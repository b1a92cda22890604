/// The horizontal pass on 8-lane integer vectors.
///
/// Pixels are interleaved RGB, so a window of 8 pixels is 24 bytes: three
/// vectors whose lanes hold the channels in a rotating order. Each byte is
/// multiplied by its pixel's weight (repeated three times in `InterleavedWeights`),
/// and the lanes of one channel are summed at the end. Integer sums do not
/// depend on their order, so the bytes equal the scalar pass's.
extension PillowResize {
    static let chunkPixels = 8

    /// Each output position's weights, one per byte of its window, as vectors.
    struct InterleavedWeights {
        let chunks: Int
        let starts: [Int]
        let vectors: [SIMD8<Int32>]

        init(_ coefficients: Coefficients) {
            precondition(coefficients.taps % PillowResize.chunkPixels == 0)
            let taps = coefficients.taps
            let perByte = (0..<coefficients.starts.count * taps * 3).map { index in
                coefficients.weights[index / 3]
            }
            chunks = taps / PillowResize.chunkPixels
            starts = coefficients.starts
            vectors = stride(from: 0, to: perByte.count, by: 8).map { SIMD8(perByte[$0..<($0 + 8)]) }
        }
    }

    static func vectorHorizontalPass(_ image: RGBImage, rows: Range<Int>, weights: InterleavedWeights) -> [UInt8] {
        let outWidth = weights.starts.count
        let half = Int32(1) << (precisionBits - 1)
        return [UInt8](unsafeUninitializedCapacity: rows.count * outWidth * 3) { output, initialized in
            image.pixels.withUnsafeBufferPointer { input in
                weights.vectors.withUnsafeBufferPointer { vectors in
                    weights.starts.withUnsafeBufferPointer { starts in
                        var out = output.baseAddress!
                        for inRow in rows {
                            let row = UnsafeRawPointer(input.baseAddress! + inRow * image.width * 3)
                            for x in 0..<outWidth {
                                var bytes = row + starts[x] * 3
                                var w = vectors.baseAddress! + x * weights.chunks * 3
                                var a = SIMD8<Int32>(), b = SIMD8<Int32>(), c = SIMD8<Int32>()
                                for _ in 0..<weights.chunks {
                                    a &+= widened(bytes) &* w[0]
                                    b &+= widened(bytes + 8) &* w[1]
                                    c &+= widened(bytes + 16) &* w[2]
                                    bytes += 24
                                    w += 3
                                }
                                // Byte k of a window is channel k % 3: a holds bytes 0-7,
                                // b bytes 8-15, c bytes 16-23.
                                let red = a[0] &+ a[3] &+ a[6] &+ b[1] &+ b[4] &+ b[7] &+ c[2] &+ c[5]
                                let green = a[1] &+ a[4] &+ a[7] &+ b[2] &+ b[5] &+ c[0] &+ c[3] &+ c[6]
                                let blue = a[2] &+ a[5] &+ b[0] &+ b[3] &+ b[6] &+ c[1] &+ c[4] &+ c[7]
                                out[0] = clip8(half &+ red)
                                out[1] = clip8(half &+ green)
                                out[2] = clip8(half &+ blue)
                                out += 3
                            }
                        }
                    }
                }
            }
            initialized = rows.count * outWidth * 3
        }
    }

    @inline(__always)
    private static func widened(_ bytes: UnsafeRawPointer) -> SIMD8<Int32> {
        SIMD8<Int32>(truncatingIfNeeded: bytes.loadUnaligned(as: SIMD8<UInt8>.self))
    }
}
