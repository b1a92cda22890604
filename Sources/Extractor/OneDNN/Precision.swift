import CDNNL

/// The number type of the network's activations and weights. FP32 is what
/// the pipeline runs and matches TensorFlow to float rounding. BF16 (8-bit
/// mantissa; bias, accumulation and the last layer's output stay FP32) runs
/// on the CPU's AVX512-BF16 or AMX units, 1.4-1.9x faster here, but drifts
/// to cosine 0.95-0.99: an experiment behind `fruits bench extract` only
/// (README: "Beyond FP32").
public enum Precision: String, Sendable, CaseIterable {
    case fp32
    case bf16

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
