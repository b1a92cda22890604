import CDNNL

/// The CPU engine and its in-order stream. oneDNN's CPU stream executes
/// synchronously with the OpenMP runtime, so `execute` returns when done.
final class DNNLEngine {
    let engine: dnnl_engine_t
    let stream: dnnl_stream_t
    /// The number type of the convolutions made on this engine.
    let precision: Precision

    init(precision: Precision = .fp32) throws {
        self.precision = precision
        var engine: dnnl_engine_t?
        try dnnlCheck(dnnl_engine_create(&engine, dnnl_cpu, 0), "engine_create")
        var stream: dnnl_stream_t?
        try dnnlCheck(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue), "stream_create")
        self.engine = engine!
        self.stream = stream!
    }

    deinit {
        dnnl_stream_destroy(stream)
        dnnl_engine_destroy(engine)
    }

    func wait() throws { try dnnlCheck(dnnl_stream_wait(stream), "stream_wait") }
}
