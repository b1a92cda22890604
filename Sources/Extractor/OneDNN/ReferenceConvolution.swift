/// One large 1x1 convolution (the best case for oneDNN on this CPU), the
/// yardstick for how much of the machine the whole network uses.
package enum ReferenceConvolution {
    static let shape = Convolution.Shape(
        batch: 8, inputChannels: 256, outputChannels: 256, inputHeight: 56, inputWidth: 56,
        kernel: 1, stride: 1, padBefore: 0, padAfter: 0, depthwise: false)

    /// In BF16 the buffers hold other numbers than the FP32 run's (the same
    /// bytes, read as bfloat16); the timing is what counts.
    package static func gflops(seconds: Double, precision: Precision = .fp32) throws -> (gflops: Double, implementation: String) {
        let engine = try DNNLEngine(precision: precision)
        let source = AlignedBuffer(byteCount: shape.inputCount * 4)
        let destination = AlignedBuffer(byteCount: shape.outputCount * 4)
        for i in 0..<shape.inputCount { source.floats[i] = Float(i % 17) / 17 }
        let weights = (0..<(shape.inputChannels * shape.outputChannels)).map { Float($0 % 13) / 130 }
        let convolution = try Convolution(
            engine: engine, shape: shape, postOp: .relu6, plainWeights: weights,
            bias: [Float](repeating: 0.1, count: shape.outputChannels),
            source: source.pointer, destination: destination.pointer)
        let scratchpad = AlignedBuffer(byteCount: convolution.scratchpadBytes)
        try convolution.attachScratchpad(scratchpad, engine: engine)
        try convolution.execute(engine)
        var runs = 0
        let start = DispatchTimeNanos.now()
        var elapsed = 0.0
        repeat {
            try convolution.execute(engine)
            runs += 1
            elapsed = Double(DispatchTimeNanos.now() - start) / 1e9
        } while elapsed < seconds
        return (2 * Double(shape.macs) * Double(runs) / elapsed / 1e9, convolution.implementation)
    }
}
