import CDNNL

/// A oneDNN memory object over a buffer it does not own.
final class DNNLMemory {
    let handle: dnnl_memory_t
    let descriptor: dnnl_memory_desc_t

    init(_ descriptor: dnnl_memory_desc_t, engine: DNNLEngine, data: UnsafeMutableRawPointer) throws {
        var descriptor = descriptor
        var handle: dnnl_memory_t?
        try dnnlCheck(dnnl_memory_create(&handle, &descriptor, engine.engine, data), "memory_create")
        self.handle = handle!
        self.descriptor = descriptor
    }

    /// Points the memory at another buffer of the same layout.
    func rebind(to data: UnsafeMutableRawPointer) throws {
        try dnnlCheck(dnnl_memory_set_data_handle(handle, data), "memory_set_data_handle")
    }

    deinit { dnnl_memory_destroy(handle) }
}
