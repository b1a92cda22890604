/// JPEG bytes in, 1280 MobileNetV2 features out — the same numbers the seed's
/// TensorFlow pipeline computes (Pillow decode and bicubic resize to 224x224,
/// Keras `preprocess_input`, ImageNet MobileNetV2 with global average pooling).
///
/// One extractor per worker: it owns its decoder, oneDNN engine and buffers
/// and is not meant to be shared between threads.
public final class FeatureExtractor {
    public struct Configuration: Sendable {
        /// Images per forward pass; the activation buffers scale with it.
        public var batchSize: Int
        /// OpenMP threads for oneDNN; nil keeps the runtime's default. OpenMP
        /// keeps this per calling thread, so it is applied on every call.
        public var threads: Int?
        public var limits: JPEGDecoder.Limits
        /// FP32 (the default) equals TensorFlow; BF16 trades that for speed.
        public var precision: Precision
        /// How JPEGs are decoded unless a call says otherwise; the default,
        /// `.seed`, reproduces the seed's features.
        public var decoding: DecodeOptions

        public init(batchSize: Int = 1, threads: Int? = nil, limits: JPEGDecoder.Limits = .init(), precision: Precision = .fp32,
                    decoding: DecodeOptions = .seed) {
            precondition(batchSize >= 1, "batch size must be at least 1")
            self.batchSize = batchSize
            self.threads = threads
            self.limits = limits
            self.precision = precision
            self.decoding = decoding
        }
    }

    public let configuration: Configuration
    public let weights: WeightFile
    private let engine: DNNLEngine
    private let decoder: JPEGDecoder
    private var full: InferenceNetwork?
    private var partial: InferenceNetwork?

    public init(weights: WeightFile, configuration: Configuration = .init()) throws {
        guard configuration.precision.isSupported else { throw UnsupportedPrecision(precision: configuration.precision) }
        if let threads = configuration.threads { OpenMP.setThreads(threads) }
        self.configuration = configuration
        self.weights = weights
        self.engine = try DNNLEngine(precision: configuration.precision)
        self.decoder = JPEGDecoder(limits: configuration.limits)
        self.full = try InferenceNetwork(weights: weights, batchSize: configuration.batchSize, engine: engine,
                                         stripeRows: Self.stripeRows(configuration))
    }

    public convenience init(weightsPath: String, configuration: Configuration = .init()) throws {
        try self.init(weights: try WeightFile(path: weightsPath), configuration: configuration)
    }

    /// Decode and resize: the model's input image, or why there is none.
    /// `decoding` overrides the configuration's, e.g. per lane of a service.
    public func prepare(jpeg: [UInt8], decoding: DecodeOptions? = nil) throws(ImageError) -> RGBImage {
        let image = try decoder.decodeStored(jpeg, options: decoding ?? configuration.decoding)
        return PillowResize.resize(image, width: MobileNetV2.inputSize, height: MobileNetV2.inputSize)
    }

    /// Features of 224x224 images, in order; any count, run in batches.
    public func features(of images: [RGBImage]) throws -> [[Float]] {
        if let threads = configuration.threads { OpenMP.setThreads(threads) }
        var result: [[Float]] = []
        result.reserveCapacity(images.count)
        var start = 0
        while start < images.count {
            let count = min(configuration.batchSize, images.count - start)
            let network = try network(for: count)
            for (offset, image) in images[start..<(start + count)].enumerated() {
                precondition(image.width == MobileNetV2.inputSize && image.height == MobileNetV2.inputSize,
                             "features(of:) takes 224x224 images; use prepare(jpeg:) first")
                KerasPreprocessing.write(image, to: network.input + offset * image.pixels.count)
            }
            result += try network.forward()
            start += count
        }
        return result
    }

    /// Features of JPEG files: one result per input, failures kept in place.
    public func features(ofJPEGs jpegs: [[UInt8]], decoding: DecodeOptions? = nil) throws -> [Result<[Float], ImageError>] {
        let prepared = jpegs.map { jpeg in Result { () throws(ImageError) in try prepare(jpeg: jpeg, decoding: decoding) } }
        let good = prepared.compactMap { try? $0.get() }
        var computed = try features(of: good).makeIterator()
        return prepared.map { result in result.map { _ in computed.next()! } }
    }

    /// Stripes are for one thread, where they measurably help. A team of
    /// threads would meet at a barrier after every stripe primitive (42 for
    /// these layers instead of 6), and on this VM two-thread timings swing
    /// too much (180–270 img/s either way) to show that it pays.
    static func stripeRows(_ configuration: Configuration) -> Int? {
        configuration.threads == 1 ? InferenceNetwork.defaultStripeRows : nil
    }

    /// The full-batch network, or one sized for a final partial batch (kept
    /// while consecutive partial batches have the same size).
    package func network(for count: Int) throws -> InferenceNetwork {
        if count == configuration.batchSize, let full { return full }
        if let partial, partial.batchSize == count { return partial }
        partial = nil
        let network = try InferenceNetwork(weights: weights, batchSize: count, engine: engine,
                                           stripeRows: Self.stripeRows(configuration))
        partial = network
        return network
    }
}
