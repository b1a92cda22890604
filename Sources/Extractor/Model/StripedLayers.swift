/// The first layers of the network, run one horizontal stripe at a time.
///
/// At 112x112 the early tensors are larger than a core's L2 (block_1_expand
/// writes 4.8 MB per image), so running them whole sends every layer's output
/// out to L3 and back. Here each stripe of the last layer's output rows is
/// computed from only the rows it depends on, through stripe-sized buffers
/// that stay in L2. Every output value comes from the same inputs through the
/// same kind of kernel, so the features equal a whole-tensor run's (a test
/// checks it); the price is a few rows at each stripe's edges that both
/// neighbours compute.
final class StripedLayers {
    /// One layer's work within one stripe: which rows it reads and writes, and
    /// the primitive compiled for that stripe's height and edge padding.
    private struct Pass {
        let layer: Int
        let inputRows: Range<Int>
        let outputRows: Range<Int>
        let convolution: Convolution
    }

    private struct Variant: Hashable {
        let layer: Int
        let inputRows: Int
        let padTop: Int
        let padBottom: Int
    }

    let layers: [MobileNetV2.Layer]
    let batchSize: Int
    private let engine: DNNLEngine
    private let stripes: [[Pass]]
    private let variants: [Variant: Convolution]
    /// Each layer's stripe output but the last layer's, which goes to the destination.
    private let buffers: [AlignedBuffer]
    private let scratchpad: AlignedBuffer

    /// `stripeRows` rows of the last layer's output per stripe.
    init(layers: [MobileNetV2.Layer], weights: WeightFile, batchSize: Int, stripeRows: Int, engine: DNNLEngine) throws {
        precondition(!layers.isEmpty && stripeRows >= 1 && layers.allSatisfy { !$0.addsResidual },
                     "stripes need a chain of layers without residual adds")
        self.layers = layers
        self.batchSize = batchSize
        self.engine = engine

        let plans = Self.plans(layers: layers, stripeRows: stripeRows)
        var bufferFloats = [Int](repeating: 0, count: layers.count)
        for plan in plans {
            for (layer, rows) in plan {
                let output = layers[layer]
                bufferFloats[layer] = max(bufferFloats[layer], rows.output.count * output.outputSize * output.outputChannels)
            }
        }
        let buffers = bufferFloats.dropLast().map { AlignedBuffer(byteCount: $0 * MemoryLayout<Float>.size) }
        self.buffers = buffers
        let placeholder = AlignedBuffer(byteCount: 64)

        let folded = try layers.map { try FoldedConvolution(layer: $0, weights: weights) }
        var variants: [Variant: Convolution] = [:]
        var stripes: [[Pass]] = []
        for plan in plans {
            stripes.append(try plan.map { layerIndex, rows in
                let layer = layers[layerIndex]
                let variant = Variant(layer: layerIndex, inputRows: rows.input.count, padTop: rows.padTop, padBottom: rows.padBottom)
                if variants[variant] == nil {
                    var shape = InferenceNetwork.shape(of: layer, batch: 1)
                    shape.inputHeight = rows.input.count
                    shape.rowPadding = (rows.padTop, rows.padBottom)
                    variants[variant] = try Convolution(
                        engine: engine, shape: shape, postOp: InferenceNetwork.postOp(of: layer),
                        plainWeights: folded[layerIndex].weights, bias: folded[layerIndex].bias,
                        source: placeholder.pointer, destination: placeholder.pointer)
                }
                return Pass(layer: layerIndex, inputRows: rows.input, outputRows: rows.output, convolution: variants[variant]!)
            })
        }
        self.stripes = stripes
        self.variants = variants
        self.scratchpad = AlignedBuffer(byteCount: variants.values.map(\.scratchpadBytes).max() ?? 0)
        for convolution in variants.values { try convolution.attachScratchpad(scratchpad, engine: engine) }
    }

    /// For every stripe, each layer's input and output rows and the zero rows
    /// it pads with, walking back from the last layer's output rows: a layer
    /// with kernel k and stride s reads rows [o0·s − top, (o1 − 1)·s − top + k),
    /// and what falls outside the image becomes padding.
    static func plans(layers: [MobileNetV2.Layer], stripeRows: Int)
        -> [[(layer: Int, rows: (input: Range<Int>, output: Range<Int>, padTop: Int, padBottom: Int))]]
    {
        let height = layers[layers.count - 1].outputSize
        return stride(from: 0, to: height, by: stripeRows).map { first in
            var rows = first..<min(first + stripeRows, height)
            var plan: [(layer: Int, rows: (input: Range<Int>, output: Range<Int>, padTop: Int, padBottom: Int))] = []
            for index in layers.indices.reversed() {
                let layer = layers[index]
                let top = layer.padding.before
                let low = rows.lowerBound * layer.stride - top
                let high = (rows.upperBound - 1) * layer.stride - top + layer.kernel
                let input = max(low, 0)..<min(high, layer.inputSize)
                plan.append((index, (input, rows, input.lowerBound - low, high - input.upperBound)))
                rows = input
            }
            return plan.reversed()
        }
    }

    var macs: [Int] {
        layers.map { InferenceNetwork.shape(of: $0, batch: batchSize).macs }
    }

    /// The implementation oneDNN picked for each layer (of its tallest stripe).
    var implementations: [String] {
        layers.indices.map { index in
            variants.filter { $0.key.layer == index }.max { $0.key.inputRows < $1.key.inputRows }.map { $0.value.implementation } ?? "?"
        }
    }

    /// NHWC `source` (the first layer's input for the whole batch) to NHWC
    /// `destination` (the last layer's output), elements of the engine's
    /// precision; `timing` gets each layer's
    /// index and nanoseconds, once per stripe.
    func execute(source: UnsafeMutableRawPointer, destination: UnsafeMutableRawPointer,
                 timing: ((Int, UInt64) -> Void)?) throws {
        let first = layers[0], last = layers[layers.count - 1]
        let element = engine.precision.elementBytes
        let inputRow = first.inputSize * first.inputChannels * element
        let outputRow = last.outputSize * last.outputChannels * element
        for image in 0..<batchSize {
            let input = source + image * first.inputSize * inputRow
            let output = destination + image * last.outputSize * outputRow
            for stripe in stripes {
                for pass in stripe {
                    let start = timing == nil ? 0 : DispatchTimeNanos.now()
                    let from = pass.layer == 0 ? input + pass.inputRows.lowerBound * inputRow : buffers[pass.layer - 1].pointer
                    let to = pass.layer == layers.count - 1 ? output + pass.outputRows.lowerBound * outputRow : buffers[pass.layer].pointer
                    try pass.convolution.execute(engine, source: from, destination: to)
                    if let timing { timing(pass.layer, DispatchTimeNanos.now() - start) }
                }
            }
        }
    }
}
