/// The layers of Keras' `MobileNetV2(alpha=1.0, include_top=False)` at 224x224,
/// as a flat list of convolutions with the names of their Keras weights.
///
/// Padding follows Keras exactly: stride-2 convolutions pad zero rows/columns
/// only at the bottom/right on even inputs (`Conv1` uses `padding="same"`,
/// blocks use `ZeroPadding2D(correct_pad(...))` then `valid`), which is what
/// TensorFlow's asymmetric "same" padding gives.
public enum MobileNetV2 {
    public static let inputSize = 224
    public static let featureCount = 1280
    public static let batchNormEpsilon = 1e-3

    /// Which activation buffer a layer reads or writes; see `InferenceNetwork`.
    enum Slot: Int, CaseIterable { case input, blockA, blockB, expanded, depthwise }

    struct Layer {
        let convolution: String
        let batchNorm: String
        let depthwise: Bool
        let kernel: Int
        let stride: Int
        let inputChannels: Int
        let outputChannels: Int
        let inputSize: Int
        let relu6: Bool
        let addsResidual: Bool
        let source: Slot
        let destination: Slot

        var outputSize: Int { (inputSize + stride - 1) / stride }
        /// TensorFlow "same": total = max((out - 1) * stride + kernel - in, 0), the extra one after.
        var padding: (before: Int, after: Int) {
            let total = max((outputSize - 1) * stride + kernel - inputSize, 0)
            return (total / 2, total - total / 2)
        }
    }

    /// (expansion t, output channels c, repeats n, first stride s), from the paper's Table 2.
    private static let stages: [(t: Int, c: Int, n: Int, s: Int)] = [
        (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
    ]

    static func layers() -> [Layer] {
        var layers: [Layer] = []
        var size = inputSize
        layers.append(Layer(
            convolution: "Conv1", batchNorm: "bn_Conv1", depthwise: false, kernel: 3, stride: 2,
            inputChannels: 3, outputChannels: 32, inputSize: size, relu6: true, addsResidual: false,
            source: .input, destination: .blockA))
        size = layers[0].outputSize
        var channels = 32
        var blockSlot = Slot.blockA
        var block = 0
        for stage in stages {
            for repeatIndex in 0..<stage.n {
                let stride = repeatIndex == 0 ? stage.s : 1
                let prefix = block == 0 ? "expanded_conv" : "block_\(block)"
                let expanded = channels * stage.t
                let residual = stride == 1 && channels == stage.c
                var depthwiseSource = blockSlot
                if stage.t != 1 {
                    layers.append(Layer(
                        convolution: "\(prefix)_expand", batchNorm: "\(prefix)_expand_BN", depthwise: false,
                        kernel: 1, stride: 1, inputChannels: channels, outputChannels: expanded, inputSize: size,
                        relu6: true, addsResidual: false, source: blockSlot, destination: .expanded))
                    depthwiseSource = .expanded
                }
                let depthwise = Layer(
                    convolution: "\(prefix)_depthwise", batchNorm: "\(prefix)_depthwise_BN", depthwise: true,
                    kernel: 3, stride: stride, inputChannels: expanded, outputChannels: expanded, inputSize: size,
                    relu6: true, addsResidual: false, source: depthwiseSource, destination: .depthwise)
                layers.append(depthwise)
                size = depthwise.outputSize
                // A residual block adds in place into its input; otherwise the output
                // goes to the other block buffer.
                let output: Slot = residual ? blockSlot : (blockSlot == .blockA ? .blockB : .blockA)
                layers.append(Layer(
                    convolution: "\(prefix)_project", batchNorm: "\(prefix)_project_BN", depthwise: false,
                    kernel: 1, stride: 1, inputChannels: expanded, outputChannels: stage.c, inputSize: size,
                    relu6: false, addsResidual: residual, source: .depthwise, destination: output))
                blockSlot = output
                channels = stage.c
                block += 1
            }
        }
        layers.append(Layer(
            convolution: "Conv_1", batchNorm: "Conv_1_bn", depthwise: false, kernel: 1, stride: 1,
            inputChannels: channels, outputChannels: featureCount, inputSize: size, relu6: true, addsResidual: false,
            source: blockSlot, destination: .expanded))
        return layers
    }
}
