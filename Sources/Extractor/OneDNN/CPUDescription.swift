import CDNNL
import Foundation

/// The CPU a figure was measured on, for benchmark lines and messages:
/// figures from one CPU do not hold on another.
public enum CPUDescription {
    /// The model name and the instruction set oneDNN runs on, e.g.
    /// "AMD EPYC 7B13, oneDNN on AVX2".
    public static var current: String { "\(modelName), oneDNN on \(oneDNNISA)" }

    public static var modelName: String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let line = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
        return line?.split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
    }

    /// What oneDNN dispatches to (`ONEDNN_MAX_CPU_ISA` can lower it).
    public static var oneDNNISA: String {
        let isa = dnnl_get_effective_cpu_isa()
        let names: [(dnnl_cpu_isa_t, String)] = [
            (dnnl_cpu_isa_avx512_core_amx, "AVX-512 with AMX"), (dnnl_cpu_isa_avx512_core_bf16, "AVX-512 with BF16"),
            (dnnl_cpu_isa_avx512_core_vnni, "AVX-512 with VNNI"), (dnnl_cpu_isa_avx512_core, "AVX-512"),
            (dnnl_cpu_isa_avx2_vnni, "AVX2 with VNNI"), (dnnl_cpu_isa_avx2, "AVX2"), (dnnl_cpu_isa_avx, "AVX"),
            (dnnl_cpu_isa_sse41, "SSE4.1"),
        ]
        return names.first { $0.0 == isa }?.1 ?? "ISA 0x\(String(isa.rawValue, radix: 16))"
    }
}
