import CDNNL

/// One forward-inference convolution with its weights already in the layout
/// oneDNN chose for this CPU, and its post-ops fused: a ReLU6 clip, or a sum
/// into the destination (the residual add of an inverted-residual block).
final class Convolution {
    struct Shape {
        var batch: Int
        var inputChannels: Int
        var outputChannels: Int
        var inputHeight: Int
        var inputWidth: Int
        var kernel: Int
        var stride: Int
        var padBefore: Int
        var padAfter: Int
        var depthwise: Bool
        /// Zero rows above and below when they differ from the columns' padding
        /// (a horizontal stripe of a larger image).
        var rowPadding: (before: Int, after: Int)? = nil

        var padTop: Int { rowPadding?.before ?? padBefore }
        var padBottom: Int { rowPadding?.after ?? padAfter }
        var outputHeight: Int { (inputHeight + padTop + padBottom - kernel) / stride + 1 }
        var outputWidth: Int { (inputWidth + padBefore + padAfter - kernel) / stride + 1 }
        var outputCount: Int { batch * outputHeight * outputWidth * outputChannels }
        var inputCount: Int { batch * inputHeight * inputWidth * inputChannels }
        /// Multiply-accumulates for the whole batch.
        var macs: Int {
            let perOutput = depthwise ? kernel * kernel : kernel * kernel * inputChannels
            return outputCount * perOutput
        }
    }

    enum PostOp { case none, relu6, addToDestination }

    let shape: Shape
    let implementation: String
    let scratchpadBytes: Int
    private let scratchpadDescriptor: dnnl_memory_desc_t
    private let primitive: dnnl_primitive_t
    private let weights: AlignedBuffer
    private let bias: AlignedBuffer
    private var memories: [DNNLMemory] = []
    private var arguments: [dnnl_exec_arg_t] = []

    /// `plainWeights` are OIHW (GOIHW with O = I = 1 for depthwise), already
    /// BN-folded; `source` and `destination` are NHWC float buffers.
    /// Activations and weights are of the engine's precision; `floatOutput`
    /// makes the destination FP32 whatever it is (the network's last layer).
    init(
        engine: DNNLEngine, shape: Shape, postOp: PostOp,
        plainWeights: [Float], bias biasValues: [Float],
        source: UnsafeMutableRawPointer, destination: UnsafeMutableRawPointer, floatOutput: Bool = false
    ) throws {
        self.shape = shape
        let type = engine.precision.dataType
        let src = try floatDescriptor([shape.batch, shape.inputChannels, shape.inputHeight, shape.inputWidth], dnnl_nhwc, type)
        let dst = try floatDescriptor([shape.batch, shape.outputChannels, shape.outputHeight, shape.outputWidth], dnnl_nhwc,
                                      floatOutput ? dnnl_f32 : type)
        let weightDims = shape.depthwise
            ? [shape.outputChannels, 1, 1, shape.kernel, shape.kernel]
            : [shape.outputChannels, shape.inputChannels, shape.kernel, shape.kernel]
        let plainTag = shape.depthwise ? dnnl_goihw : dnnl_oihw
        let anyWeights = try floatDescriptor(weightDims, dnnl_format_tag_any, type)
        let biasDescriptor = try floatDescriptor([shape.outputChannels], dnnl_a)

        var description = dnnl_convolution_desc_t()
        var (srcMD, weightsMD, biasMD, dstMD) = (src, anyWeights, biasDescriptor, dst)
        var strides = dnnlDims([shape.stride, shape.stride])
        var padL = dnnlDims([shape.padTop, shape.padBefore])
        var padR = dnnlDims([shape.padBottom, shape.padAfter])
        try withDims(&strides) { strides in
            try withDims(&padL) { padL in
                try withDims(&padR) { padR in
                    try dnnlCheck(dnnl_convolution_forward_desc_init(
                        &description, dnnl_forward_inference, dnnl_convolution_direct,
                        &srcMD, &weightsMD, &biasMD, &dstMD, strides, padL, padR), "convolution_forward_desc_init")
                }
            }
        }

        var attributes: dnnl_primitive_attr_t?
        try dnnlCheck(dnnl_primitive_attr_create(&attributes), "primitive_attr_create")
        defer { dnnl_primitive_attr_destroy(attributes) }
        try dnnlCheck(dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user), "set_scratchpad_mode")
        var postOps: dnnl_post_ops_t?
        try dnnlCheck(dnnl_post_ops_create(&postOps), "post_ops_create")
        defer { dnnl_post_ops_destroy(postOps) }
        switch postOp {
        case .none: break
        case .relu6: try dnnlCheck(dnnl_post_ops_append_eltwise(postOps, 1, dnnl_eltwise_clip, 0, 6), "append_eltwise")
        case .addToDestination: try dnnlCheck(dnnl_post_ops_append_sum(postOps, 1), "append_sum")
        }
        try dnnlCheck(dnnl_primitive_attr_set_post_ops(attributes, postOps), "set_post_ops")

        var descriptor: dnnl_primitive_desc_t?
        try withUnsafePointer(to: &description) { pointer in
            try dnnlCheck(dnnl_primitive_desc_create(&descriptor, UnsafeRawPointer(pointer), attributes, engine.engine, nil),
                          "primitive_desc_create (convolution \(shape))")
        }
        defer { dnnl_primitive_desc_destroy(descriptor) }
        var info: UnsafePointer<CChar>?
        dnnl_primitive_desc_query(descriptor, dnnl_query_impl_info_str, 0, &info)
        self.implementation = info.map { String(cString: $0) } ?? "?"
        let chosenWeights = dnnl_primitive_desc_query_md(descriptor, dnnl_query_weights_md, 0)!.pointee
        let scratchpad = dnnl_primitive_desc_query_md(descriptor, dnnl_query_scratchpad_md, 0)!.pointee
        self.scratchpadBytes = byteSize(scratchpad)
        self.scratchpadDescriptor = scratchpad

        var primitive: dnnl_primitive_t?
        try dnnlCheck(dnnl_primitive_create(&primitive, descriptor), "primitive_create")
        self.primitive = primitive!

        // Weights: plain FP32 layout -> the layout (and type) oneDNN picked, once.
        let weights = AlignedBuffer(byteCount: byteSize(chosenWeights))
        var plain = plainWeights
        try plain.withUnsafeMutableBytes { raw in
            let plainMemory = try DNNLMemory(try floatDescriptor(weightDims, plainTag), engine: engine, data: raw.baseAddress!)
            let chosenMemory = try DNNLMemory(chosenWeights, engine: engine, data: weights.pointer)
            try Reorder.run(from: plainMemory, to: chosenMemory, engine: engine)
        }
        let bias = AlignedBuffer(byteCount: biasValues.count * 4)
        biasValues.withUnsafeBytes { bias.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        self.weights = weights
        self.bias = bias

        let memories = [
            try DNNLMemory(src, engine: engine, data: source),
            try DNNLMemory(chosenWeights, engine: engine, data: weights.pointer),
            try DNNLMemory(biasDescriptor, engine: engine, data: bias.pointer),
            try DNNLMemory(dst, engine: engine, data: destination),
        ]
        self.memories = memories
        self.arguments = [
            dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: memories[0].handle),
            dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS, memory: memories[1].handle),
            dnnl_exec_arg_t(arg: DNNL_ARG_BIAS, memory: memories[2].handle),
            dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: memories[3].handle),
        ]
    }

    /// Binds the shared scratchpad; call once, after every layer reported its size.
    func attachScratchpad(_ buffer: AlignedBuffer, engine: DNNLEngine) throws {
        guard scratchpadBytes > 0 else { return }
        precondition(buffer.byteCount >= scratchpadBytes, "scratchpad too small")
        let memory = try DNNLMemory(scratchpadDescriptor, engine: engine, data: buffer.pointer)
        memories.append(memory)
        arguments.append(dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: memory.handle))
    }

    func execute(_ engine: DNNLEngine) throws {
        try dnnlCheck(dnnl_primitive_execute(primitive, engine.stream, Int32(arguments.count), arguments), "primitive_execute")
    }

    /// Runs on other NHWC buffers of the same shape than the ones bound at init.
    func execute(_ engine: DNNLEngine, source: UnsafeMutableRawPointer, destination: UnsafeMutableRawPointer) throws {
        try memories[0].rebind(to: source)
        try memories[3].rebind(to: destination)
        try execute(engine)
    }

    deinit { dnnl_primitive_destroy(primitive) }
}

private func withDims<R>(_ dims: inout dnnl_dims_t, _ body: (UnsafePointer<Int64>) throws -> R) rethrows -> R {
    try withUnsafePointer(to: &dims) { pointer in
        try pointer.withMemoryRebound(to: Int64.self, capacity: 12) { try body($0) }
    }
}

enum Reorder {
    static func run(from source: DNNLMemory, to destination: DNNLMemory, engine: DNNLEngine) throws {
        var descriptor: dnnl_primitive_desc_t?
        var (src, dst) = (source.descriptor, destination.descriptor)
        try dnnlCheck(dnnl_reorder_primitive_desc_create(&descriptor, &src, engine.engine, &dst, engine.engine, nil),
                      "reorder_primitive_desc_create")
        defer { dnnl_primitive_desc_destroy(descriptor) }
        var primitive: dnnl_primitive_t?
        try dnnlCheck(dnnl_primitive_create(&primitive, descriptor), "primitive_create (reorder)")
        defer { dnnl_primitive_destroy(primitive) }
        let arguments = [
            dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: source.handle),
            dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: destination.handle),
        ]
        try dnnlCheck(dnnl_primitive_execute(primitive, engine.stream, 2, arguments), "primitive_execute (reorder)")
        try engine.wait()
    }
}
