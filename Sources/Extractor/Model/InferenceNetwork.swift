import CDNNL

#if canImport(Glibc)
import Glibc
#endif

/// MobileNetV2 compiled by oneDNN for one batch size: every convolution is a
/// primitive bound to one of five reusable NHWC activation buffers (see
/// `MobileNetV2.Slot`), so a forward pass allocates nothing. The layers up to
/// block_1 (the 112x112 ones and block_1's projection) run in stripes (see
/// `StripedLayers`) unless `stripeRows` is nil.
package final class InferenceNetwork {
    /// Rows of block_1's 56-row output per stripe: the tallest stripe buffer
    /// (block_1_expand's, 17 rows) is then 0.7 MB, inside L2. Measured on one
    /// thread: these six layers take 1.36–1.39 ms per image in stripes of 8,
    /// 1.43 in stripes of 14, and 1.50–1.62 whole.
    static let defaultStripeRows = 8

    package let batchSize: Int
    let layers: [MobileNetV2.Layer]
    private let engine: DNNLEngine
    private let striped: StripedLayers?
    private let convolutions: [Convolution]
    private let slots: [MobileNetV2.Slot: AlignedBuffer]
    private let scratchpad: AlignedBuffer

    init(weights: WeightFile, batchSize: Int, engine: DNNLEngine, stripeRows: Int? = defaultStripeRows) throws {
        self.batchSize = batchSize
        self.engine = engine
        let layers = MobileNetV2.layers()
        self.layers = layers
        let stripedCount = stripeRows == nil ? 0 : layers.firstIndex { $0.convolution == "block_1_project" }! + 1
        self.striped = try stripeRows.map { rows in
            try StripedLayers(layers: Array(layers.prefix(stripedCount)), weights: weights, batchSize: batchSize,
                              stripeRows: rows, engine: engine)
        }

        // Striped layers need whole buffers only for their first input and last output.
        var slotFloats: [MobileNetV2.Slot: Int] = [:]
        func need(_ slot: MobileNetV2.Slot, _ floats: Int) { slotFloats[slot] = max(slotFloats[slot, default: 0], floats) }
        if stripedCount > 0 {
            need(layers[0].source, Self.shape(of: layers[0], batch: batchSize).inputCount)
            let last = layers[stripedCount - 1]
            need(last.destination, Self.shape(of: last, batch: batchSize).outputCount)
        }
        for layer in layers.dropFirst(stripedCount) {
            let shape = Self.shape(of: layer, batch: batchSize)
            need(layer.source, shape.inputCount)
            need(layer.destination, shape.outputCount)
        }
        let slots = slotFloats.mapValues { AlignedBuffer(byteCount: $0 * MemoryLayout<Float>.size) }
        self.slots = slots

        var convolutions: [Convolution] = []
        for layer in layers.dropFirst(stripedCount) {
            let folded = try FoldedConvolution(layer: layer, weights: weights)
            convolutions.append(try Convolution(
                engine: engine, shape: Self.shape(of: layer, batch: batchSize), postOp: Self.postOp(of: layer),
                plainWeights: folded.weights, bias: folded.bias,
                source: slots[layer.source]!.pointer, destination: slots[layer.destination]!.pointer,
                floatOutput: layer.convolution == layers.last!.convolution))  // pooled in FP32
        }
        self.convolutions = convolutions
        self.scratchpad = AlignedBuffer(byteCount: convolutions.map(\.scratchpadBytes).max() ?? 0)
        for convolution in convolutions { try convolution.attachScratchpad(scratchpad, engine: engine) }
    }

    /// The residual add, a ReLU6 clip or nothing, fused after the convolution.
    static func postOp(of layer: MobileNetV2.Layer) -> Convolution.PostOp {
        layer.addsResidual ? .addToDestination : (layer.relu6 ? .relu6 : .none)
    }

    static func shape(of layer: MobileNetV2.Layer, batch: Int) -> Convolution.Shape {
        let padding = layer.padding
        return Convolution.Shape(
            batch: batch, inputChannels: layer.inputChannels, outputChannels: layer.outputChannels,
            inputHeight: layer.inputSize, inputWidth: layer.inputSize, kernel: layer.kernel, stride: layer.stride,
            padBefore: padding.before, padAfter: padding.after, depthwise: layer.depthwise)
    }

    /// NHWC float input for `batchSize` images of 224x224x3.
    var input: UnsafeMutablePointer<Float> { slots[.input]!.floats }

    package var activationBytes: Int { slots.values.map(\.byteCount).reduce(0, +) + scratchpad.byteCount }

    package var layerDescriptions: [(name: String, macs: Int, implementation: String)] {
        var descriptions: [(name: String, macs: Int, implementation: String)] = []
        if let striped {
            for (index, layer) in striped.layers.enumerated() {
                descriptions.append((layer.convolution, striped.macs[index], striped.implementations[index] + ", in stripes"))
            }
        }
        let rest = layers.dropFirst(descriptions.count)
        return descriptions + zip(rest, convolutions).map { ($0.convolution, $1.shape.macs, $1.implementation) }
    }

    /// Runs every layer and returns the global-average-pooled 1280 features of
    /// each image, in batch order. `timing` receives each layer's index and
    /// wall time in nanoseconds.
    package func forward(timing: ((Int, UInt64) -> Void)? = nil) throws -> [[Float]] {
        let first = layers[0]
        engine.precision.convertInPlace(input, count: batchSize * first.inputSize * first.inputSize * first.inputChannels)
        var offset = 0
        if let striped {
            let destination = slots[striped.layers[striped.layers.count - 1].destination]!.pointer
            try striped.execute(source: UnsafeMutableRawPointer(input), destination: destination, timing: timing)
            offset = striped.layers.count
        }
        for (index, convolution) in convolutions.enumerated() {
            let start = timing == nil ? 0 : DispatchTimeNanos.now()
            try convolution.execute(engine)
            if let timing { timing(offset + index, DispatchTimeNanos.now() - start) }
        }
        return pooledFeatures()
    }

    private func pooledFeatures() -> [[Float]] {
        let last = layers[layers.count - 1]
        let positions = last.outputSize * last.outputSize
        let channels = last.outputChannels
        let output = slots[last.destination]!.floats
        return (0..<batchSize).map { image in
            var sums = [Float](repeating: 0, count: channels)
            sums.withUnsafeMutableBufferPointer { sums in
                let base = output + image * positions * channels
                for position in 0..<positions {
                    let row = base + position * channels
                    for c in 0..<channels { sums[c] += row[c] }
                }
                let inverse = 1 / Float(positions)
                for c in 0..<channels { sums[c] *= inverse }
            }
            return sums
        }
    }
}

package enum DispatchTimeNanos {
    package static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
