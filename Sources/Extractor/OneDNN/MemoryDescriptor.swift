import CDNNL

/// `dnnl_dims_t` is a fixed C array, imported as a 12-tuple.
func dnnlDims(_ values: [Int]) -> dnnl_dims_t {
    var dims = dnnl_dims_t(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    withUnsafeMutableBytes(of: &dims) { raw in
        let slots = raw.bindMemory(to: Int64.self)
        for (i, value) in values.enumerated() { slots[i] = Int64(value) }
    }
    return dims
}

/// A memory descriptor, float32 unless `type` says otherwise; `dims` are in oneDNN's logical order
/// (N, C, H, W for activations; O, I, H, W or G, O, I, H, W for weights).
func floatDescriptor(_ dims: [Int], _ tag: dnnl_format_tag_t, _ type: dnnl_data_type_t = dnnl_f32) throws -> dnnl_memory_desc_t {
    var descriptor = dnnl_memory_desc_t()
    var cDims = dnnlDims(dims)
    try withUnsafePointer(to: &cDims) { pointer in
        try pointer.withMemoryRebound(to: Int64.self, capacity: 12) { first in
            try dnnlCheck(dnnl_memory_desc_init_by_tag(&descriptor, Int32(dims.count), first, type, tag),
                          "memory_desc_init_by_tag \(dims)")
        }
    }
    return descriptor
}

func byteSize(_ descriptor: dnnl_memory_desc_t) -> Int {
    var descriptor = descriptor
    return dnnl_memory_desc_get_size(&descriptor)
}
