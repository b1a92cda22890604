import TestSupport
import Testing

@testable import Extractor

@Suite("Features match TensorFlow's MobileNetV2", .tags(.integration))
struct FeatureGoldenTests {
    static func extractor(batchSize: Int) throws -> FeatureExtractor {
        try FeatureExtractor(weights: Fixtures.weights.get(), configuration: .init(batchSize: batchSize))
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            na += Double(x) * Double(x)
            nb += Double(y) * Double(y)
        }
        return dot / (na.squareRoot() * nb.squareRoot())
    }

    @Test func everyFixtureMatchesTheReference() throws {
        let extractor = try Self.extractor(batchSize: 4)
        let fixtures = Fixtures.manifest.good
        let jpegs = try fixtures.map { try Fixtures.bytes($0.name + ".jpg") }
        let results = try extractor.features(ofJPEGs: jpegs)
        for (fixture, result) in zip(fixtures, results) {
            let features = try result.get()
            let reference = try Fixtures.floats(fixture.name + ".f32")
            #expect(features.count == 1280)
            let cosine = Self.cosine(features, reference)
            let maxDifference = zip(features, reference).map { abs($0 - $1) }.max()!
            #expect(cosine >= 0.9999, "\(fixture.name): cosine \(cosine)")
            #expect(maxDifference <= 1e-3, "\(fixture.name): max |Δ| \(maxDifference)")
        }
    }

    @Test func batchSizeDoesNotChangeTheResult() throws {
        let images = try Fixtures.manifest.good.prefix(5).map { try Self.extractor(batchSize: 1).prepare(jpeg: try Fixtures.bytes($0.name + ".jpg")) }
        let one = try Self.extractor(batchSize: 1).features(of: images)
        let three = try Self.extractor(batchSize: 3).features(of: images)  // a full batch, then a partial one of 2
        for (a, b) in zip(one, three) {
            #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-4 })
        }
    }

    @Test func failedImagesKeepTheirPlace() throws {
        let good = try Fixtures.bytes("fruit_100_a.jpg")
        let results = try Self.extractor(batchSize: 2).features(ofJPEGs: [good, [], good])
        #expect((try? results[0].get())?.count == 1280)
        #expect(throws: ImageError.empty) { try results[1].get() }
        #expect(try results[0].get() == results[2].get())
    }

    @Test func missingWeightsSayHowToGetThem() {
        #expect {
            try WeightFile(path: "/nonexistent/weights.fw")
        } throws: { error in
            "\(error)".contains("scripts/fetch-weights")
        }
    }

    @Test func aFileThatIsNotAWeightFileIsRefused() throws {
        let path = Fixtures.directory.appendingPathComponent("fruit_100_a.jpg").path
        #expect(throws: WeightFile.LoadError.self) { try WeightFile(path: path) }
    }
}

@Suite("Striped early layers", .tags(.integration))
struct StripedLayersTests {
    /// The stripes recompute nothing differently: features equal the whole-tensor
    /// network's exactly, for every stripe height and for each image of a batch.
    @Test(arguments: [1, 8, 13, 56])
    func stripesEqualTheWholeTensorRun(stripeRows: Int) throws {
        let weights = try Fixtures.weights.get()
        let engine = try DNNLEngine()
        let whole = try InferenceNetwork(weights: weights, batchSize: 2, engine: engine, stripeRows: nil)
        let striped = try InferenceNetwork(weights: weights, batchSize: 2, engine: engine, stripeRows: stripeRows)
        let decoder = JPEGDecoder()
        let images = try ["fruit_100_a", "odd_301x199"].map {
            PillowResize.resize(try decoder.decode(try Fixtures.bytes($0 + ".jpg")), width: 224, height: 224)
        }
        for network in [whole, striped] {
            for (index, image) in images.enumerated() {
                KerasPreprocessing.write(image, to: network.input + index * image.pixels.count)
            }
        }
        let expected = try whole.forward()
        let actual = try striped.forward()
        #expect(actual == expected)
    }

    @Test func stripesCoverEveryOutputRowOnceAndReadInsideTheImage() {
        let layers = Array(MobileNetV2.layers().prefix(6))
        for stripeRows in [1, 5, 8, 56] {
            let plans = StripedLayers.plans(layers: layers, stripeRows: stripeRows)
            let lastRows = plans.flatMap { Array($0[$0.count - 1].rows.output) }
            #expect(lastRows == Array(0..<56))
            for plan in plans {
                for (layer, rows) in plan {
                    #expect(rows.input.lowerBound >= 0 && rows.input.upperBound <= layers[layer].inputSize)
                    #expect(rows.padTop >= 0 && rows.padBottom >= 0)
                }
            }
        }
    }
}

@Suite("BF16: the experiment's fidelity", .tags(.integration))
struct BF16FeatureTests {
    /// BF16 activations and weights (`fruits bench extract --precision bf16`)
    /// measured on the golden fixtures: cosine 0.948-0.994 to TensorFlow's
    /// features, short of the 0.999 the issue set for offering it, so the
    /// pipeline stays FP32 (docs/extractor-tuning.md, "Beyond FP32"). This pins what was
    /// measured: a broken BF16 path (wrong strides, unconverted input) falls
    /// far below, a better one shows up here first.
    @Test(.enabled(if: Precision.bf16.isSupported, "needs BF16 convolutions, which oneDNN 2.6 has only on AVX-512 or AMX CPUs"),
          arguments: [1, 3])
    func everyFixtureStaysWhereItWasMeasured(batchSize: Int) throws {
        let extractor = try FeatureExtractor(weights: Fixtures.weights.get(), configuration: .init(batchSize: batchSize, precision: .bf16))
        let fixtures = Fixtures.manifest.good
        let results = try extractor.features(ofJPEGs: fixtures.map { try Fixtures.bytes($0.name + ".jpg") })
        let cosines = try zip(fixtures, results).map { fixture, result in
            FeatureGoldenTests.cosine(try result.get(), try Fixtures.floats(fixture.name + ".f32"))
        }
        print("BF16, batch \(batchSize): cosine to TensorFlow \(cosines.min()!)...\(cosines.max()!) over \(fixtures.count) fixtures")
        #expect(cosines.allSatisfy { $0 >= 0.94 }, "\(cosines)")
    }
}

@Suite("Precisions a CPU lacks", .tags(.integration))
struct UnsupportedPrecisionTests {
    /// On a CPU without BF16 convolutions the extractor refuses BF16 with the
    /// reason, instead of oneDNN's "no implementation for these shapes".
    @Test(.disabled(if: Precision.bf16.isSupported, "this CPU has BF16 convolutions; BenchExtractTests runs the refusal with oneDNN held to AVX2"))
    func bf16IsRefusedWithTheReason() throws {
        #expect {
            try FeatureExtractor(weights: Fixtures.weights.get(), configuration: .init(precision: .bf16))
        } throws: { error in
            "\(error)".contains("need AVX-512 or AMX")
        }
    }
}
