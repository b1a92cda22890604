import CDNNL

/// The number type of the network's activations and weights. FP32 is what
/// the pipeline runs and matches TensorFlow to float rounding. BF16 (8-bit
/// mantissa; bias, accumulation and the last layer's output stay FP32) runs
/// on the CPU's AVX512-BF16 or AMX units, 1.4-1.9x faster there, but drifts
/// to cosine 0.95-0.99: an experiment behind `fruits bench extract` only
/// (docs/extractor-tuning.md, "Beyond FP32"). oneDNN 2.6 has BF16 convolutions only from
/// AVX-512 on, so check `isSupported` before asking for it.
public enum Precision: String, Sendable, CaseIterable {
    case fp32
    case bf16

    /// Whether this CPU (as oneDNN sees it, `ONEDNN_MAX_CPU_ISA` included)
    /// has convolutions of this precision: found out once by asking oneDNN
    /// for one, since that is the question that matters, not a CPU flag.
    public var isSupported: Bool {
        switch self {
        case .fp32: true
        case .bf16: Self.bf16Supported
        }
    }

    /// Why `isSupported` is false, for a person; nil when it is supported.
    public var unsupportedReason: String? {
        guard !isSupported else { return nil }
        return "this CPU has no BF16 convolutions in oneDNN (they need AVX-512 or AMX; oneDNN runs on \(CPUDescription.oneDNNISA))"
    }

    private static let bf16Supported: Bool = {
        guard let engine = try? DNNLEngine(precision: .bf16) else { return false }
        let shape = Convolution.Shape(batch: 1, inputChannels: 16, outputChannels: 16, inputHeight: 8, inputWidth: 8,
                                      kernel: 1, stride: 1, padBefore: 0, padAfter: 0, depthwise: false)
        let buffer = AlignedBuffer(byteCount: shape.inputCount * 4)
        return (try? Convolution(engine: engine, shape: shape, postOp: .none,
                                 plainWeights: [Float](repeating: 0, count: 16 * 16), bias: [Float](repeating: 0, count: 16),
                                 source: buffer.pointer, destination: buffer.pointer)) != nil
    }()

    var dataType: dnnl_data_type_t {
        switch self {
        case .fp32: dnnl_f32
        case .bf16: dnnl_bf16
        }
    }

    /// Bytes per activation.
    var elementBytes: Int {
        switch self {
        case .fp32: 4
        case .bf16: 2
        }
    }

    /// Rewrites `count` floats at `buffer` as this precision's elements, in
    /// place (the first `count * elementBytes` bytes): bfloat16 rounded to
    /// nearest even. In place is safe: element i is written at or before
    /// where element i was read.
    func convertInPlace(_ buffer: UnsafeMutablePointer<Float>, count: Int) {
        guard self == .bf16 else { return }
        let halves = UnsafeMutableRawPointer(buffer).assumingMemoryBound(to: UInt16.self)
        for index in 0..<count {
            let bits = buffer[index].bitPattern
            halves[index] = UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
        }
    }
}

/// Asked for a precision this CPU has no convolutions for.
public struct UnsupportedPrecision: Error, CustomStringConvertible {
    public let precision: Precision
    public var description: String { "precision \(precision.rawValue): \(precision.unsupportedReason ?? "unsupported")" }
}
