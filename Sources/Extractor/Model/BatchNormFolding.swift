/// Folds an inference-mode batch norm into the convolution before it:
/// `w' = w * gamma / sqrt(var + eps)` per output channel and
/// `b' = beta - mean * gamma / sqrt(var + eps)`, computed in Double.
struct FoldedConvolution {
    /// OIHW (depthwise: C x 1 x 1 x H x W), the plain layouts oneDNN reorders from.
    let weights: [Float]
    let bias: [Float]

    init(layer: MobileNetV2.Layer, weights file: WeightFile) throws {
        let k = layer.kernel
        let bn = layer.batchNorm
        let out = layer.outputChannels
        let gamma = try file.values("\(bn)/gamma", shape: [out])
        let beta = try file.values("\(bn)/beta", shape: [out])
        let mean = try file.values("\(bn)/moving_mean", shape: [out])
        let variance = try file.values("\(bn)/moving_variance", shape: [out])
        var scale = [Double](repeating: 0, count: out)
        var bias = [Float](repeating: 0, count: out)
        for o in 0..<out {
            scale[o] = Double(gamma[o]) / (Double(variance[o]) + MobileNetV2.batchNormEpsilon).squareRoot()
            bias[o] = Float(Double(beta[o]) - Double(mean[o]) * scale[o])
        }

        var folded = [Float](repeating: 0, count: out * (layer.depthwise ? 1 : layer.inputChannels) * k * k)
        if layer.depthwise {
            // Keras depthwise kernel: [kh][kw][channel][multiplier = 1].
            let kernel = try file.values("\(layer.convolution)/depthwise_kernel", shape: [k, k, out, 1])
            for c in 0..<out {
                for y in 0..<k {
                    for x in 0..<k {
                        folded[(c * k + y) * k + x] = Float(Double(kernel[(y * k + x) * out + c]) * scale[c])
                    }
                }
            }
        } else {
            // Keras kernel: [kh][kw][in][out].
            let input = layer.inputChannels
            let kernel = try file.values("\(layer.convolution)/kernel", shape: [k, k, input, out])
            for o in 0..<out {
                for i in 0..<input {
                    for y in 0..<k {
                        for x in 0..<k {
                            let source = ((y * k + x) * input + i) * out + o
                            folded[((o * input + i) * k + y) * k + x] = Float(Double(kernel[source]) * scale[o])
                        }
                    }
                }
            }
        }
        self.weights = folded
        self.bias = bias
    }
}
