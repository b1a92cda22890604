import CDNNL

/// The number type of a convolution's activations and weights. The network
/// runs in FP32, which matches TensorFlow to float rounding. BF16 (bias and
/// accumulation stay FP32) runs on the CPU's AVX512-BF16 or AMX units where
/// they exist; `fruits bench extract` measures it on the reference
/// convolution, the experiment behind README "Beyond FP32".
enum Precision {
    case fp32
    case bf16

    var dataType: dnnl_data_type_t {
        switch self {
        case .fp32: dnnl_f32
        case .bf16: dnnl_bf16
        }
    }
}
