import CDNNL

#if canImport(Glibc)
import Glibc
#endif

/// MobileNetV2 compiled by oneDNN for one batch size: every convolution is a
/// primitive bound to one of five reusable NHWC activation buffers (see
/// `MobileNetV2.Slot`), so a forward pass allocates nothing.
final class InferenceNetwork {
    let batchSize: Int
    let layers: [MobileNetV2.Layer]
    private let engine: DNNLEngine
    private let convolutions: [Convolution]
    private let slots: [MobileNetV2.Slot: AlignedBuffer]
    private let scratchpad: AlignedBuffer

    init(weights: WeightFile, batchSize: Int, engine: DNNLEngine) throws {
        self.batchSize = batchSize
        self.engine = engine
        let layers = MobileNetV2.layers()
        self.layers = layers

        var slotFloats: [MobileNetV2.Slot: Int] = [:]
        for layer in layers {
            let shape = Self.shape(of: layer, batch: batchSize)
            slotFloats[layer.source, default: 0] = max(slotFloats[layer.source, default: 0], shape.inputCount)
            slotFloats[layer.destination, default: 0] = max(slotFloats[layer.destination, default: 0], shape.outputCount)
        }
        let slots = slotFloats.mapValues { AlignedBuffer(byteCount: $0 * MemoryLayout<Float>.size) }
        self.slots = slots

        var convolutions: [Convolution] = []
        for layer in layers {
            let folded = try FoldedConvolution(layer: layer, weights: weights)
            let postOp: Convolution.PostOp = layer.addsResidual ? .addToDestination : (layer.relu6 ? .relu6 : .none)
            convolutions.append(try Convolution(
                engine: engine, shape: Self.shape(of: layer, batch: batchSize), postOp: postOp,
                plainWeights: folded.weights, bias: folded.bias,
                source: slots[layer.source]!.pointer, destination: slots[layer.destination]!.pointer))
        }
        self.convolutions = convolutions
        self.scratchpad = AlignedBuffer(byteCount: convolutions.map(\.scratchpadBytes).max() ?? 0)
        for convolution in convolutions { try convolution.attachScratchpad(scratchpad, engine: engine) }
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

    var activationBytes: Int { slots.values.map(\.byteCount).reduce(0, +) + scratchpad.byteCount }

    var layerDescriptions: [(name: String, macs: Int, implementation: String)] {
        zip(layers, convolutions).map { ($0.convolution, $1.shape.macs, $1.implementation) }
    }

    /// Runs every layer and returns the global-average-pooled 1280 features of
    /// each image, in batch order. `timing` receives each layer's index and
    /// wall time in nanoseconds.
    func forward(timing: ((Int, UInt64) -> Void)? = nil) throws -> [[Float]] {
        for (index, convolution) in convolutions.enumerated() {
            let start = timing == nil ? 0 : DispatchTimeNanos.now()
            try convolution.execute(engine)
            if let timing { timing(index, DispatchTimeNanos.now() - start) }
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

enum DispatchTimeNanos {
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
