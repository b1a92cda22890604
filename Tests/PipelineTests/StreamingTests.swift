import Foundation
import ObjectStorage
import Parquet
import TestSupport
import Testing

/// The live path as it is deployed: long-running broker, extractor, reducer
/// and upload endpoint with their defaults (the only tuned value is the
/// first model's minimum image count, since this backfill is 600 photos).
/// A labelled backfill, a model published while the reducer runs, uploads
/// answered, a reducer killed mid-stream and restarted.
@Suite("Streaming: uploads get answers from a model that lives", .tags(.integration), .usesFruitsBinary, .serialized)
struct StreamingTests {
    static let token = "streaming-test-token"

    struct Endpoint {
        let port: Int

        func upload(_ jpeg: [UInt8], label: String, wait: Int) async throws -> (status: Int, answer: [String: Any]) {
            let query = label.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? ""
            let response = try await Tools.http.perform(HTTPRequest(
                method: "POST", url: "http://127.0.0.1:\(port)/v1/images?label=\(query)&wait=\(wait)",
                headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "image/jpeg")], body: jpeg))
            return (response.status, try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:])
        }

        func answer(_ imageID: String) async throws -> (status: Int, body: [UInt8]) {
            let response = try await Tools.http.perform(HTTPRequest(
                method: "GET", url: "http://127.0.0.1:\(port)/v1/images/\(imageID)", headers: [("Authorization", "Bearer \(token)")]))
            return (response.status, response.body)
        }
    }

    static func generate(_ name: String, count: Int, seed: Int) async throws -> String {
        let directory = Tools.temporaryPath("\(name)-\(UUID().uuidString.prefix(8))")
        let generated = try await Tools.run(Tools.python, [Tools.root.appendingPathComponent("tools/synthetic_fruits.py").path,
                                                      "--out", directory, "--n", "\(count)", "--seed", "\(seed)"])
        try #require(generated.status == 0, "\(generated.output)")
        return directory
    }

    static func publishedModel(_ results: LocalObjectStore) async -> (version: Int, k: Int)? {
        guard let bytes = try? await results.get("pca/model.json"),
              let model = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let version = model["version"] as? Int, let k = model["k"] as? Int
        else { return nil }
        return (version, k)
    }

    @Test func aLabelledBackfillThenAnsweredUploadsAndAReducerRestartedMidStream() async throws {
        let started = ContinuousClock.now
        let backfill = try await Self.generate("stream-backfill", count: 600, seed: 1)
        let second = try await Self.generate("stream-second", count: 300, seed: 2)
        let photos = try await Self.generate("stream-uploads", count: 16, seed: 3)
        let uploads = try await LocalObjectStore(root: photos).list(prefix: "").map(\.key)
        let labels = Set(try await LocalObjectStore(root: backfill).list(prefix: "").map { String($0.key.split(separator: "/")[0]) })

        let broker = try Broker()
        let brokers = ["--brokers", broker.bootstrap]
        let output = Tools.temporaryPath("stream-results-\(UUID().uuidString.prefix(8))")
        let results = try LocalObjectStore(root: output)
        let endpoint = Endpoint(port: Tools.freePort())
        func reducer() async throws -> Process {
            try PipelineTests.service(["reduce"] + brokers + ["--output", output, "--model-min-images", "300"], environment: [:])
        }
        var reduce = try await reducer()
        let extractor = try PipelineTests.service(["extract"] + brokers, environment: [:])
        let serve = try PipelineTests.service(["ingest", "serve"] + brokers + ["--store", output + "-uploads", "--port", "\(endpoint.port)"],
                                              environment: ["FRUITS_UPLOAD_TOKEN": Self.token])
        defer { Tools.reap([reduce, extractor, serve]) }
        try await Tools.waitUntil("the upload endpoint answers", timeout: .seconds(30)) {
            await (try? Tools.http.perform(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(endpoint.port)/healthz")).status) == 200
        }

        let ingest = try await Tools.run(Tools.fruits, ["ingest"] + brokers + [backfill], timeout: .seconds(60))
        try #require(ingest.status == 0, "\(ingest.output)")
        try await Tools.waitUntil("pca/model.json is published while the reducer runs", timeout: .seconds(180)) {
            await Self.publishedModel(results) != nil
        }
        #expect(reduce.isRunning)
        let first = try #require(await Self.publishedModel(results))
        #expect(try await results.get("pca/models/\(String(format: "%06d", first.version))/evaluation.json").count > 0)

        // Answerers pick a new model up within 2 s (they poll pca/version): probe until answers use it.
        var probes = 0
        func waitForAnswers(from version: Int) async throws {
            let probe = try await LocalObjectStore(root: photos).get(uploads[0])
            try await Tools.waitUntil("answers come from model \(version)", timeout: .seconds(30)) {
                probes += 1
                return await ((try? endpoint.upload(probe, label: "", wait: 5).answer["model_version"]) as? Int ?? 0) >= version
            }
        }
        try await waitForAnswers(from: first.version)

        var answers: [String: [String: Any]] = [:]
        func uploadAndCheck(_ key: String, atLeast version: Int) async throws {
            let label = String(key.split(separator: "/")[0])
            let (status, answer) = try await endpoint.upload(try await LocalObjectStore(root: photos).get(key), label: label, wait: 10)
            #expect(status == 200, "\(answer)")
            #expect(answer["status"] as? String == "done", "\(answer)")
            let predicted = (answer["prediction"] as? [String: Any])?["label"] as? String
            #expect(predicted.map(labels.contains) == true, "\(answer)")
            #expect((answer["pca"] as? [Double])?.count == first.k)
            #expect((answer["model_version"] as? Int ?? 0) >= version, "\(answer)")
            let id = try #require(answer["image_id"] as? String)
            let again = try await endpoint.answer(id)
            #expect(again.status == 200)
            let stored = try JSONSerialization.jsonObject(with: Data(again.body)) as? [String: Any]
            #expect((stored?["prediction"] as? [String: Any])?["label"] as? String == predicted)
            answers[id] = answer
        }
        for key in uploads.prefix(8) { try await uploadAndCheck(key, atLeast: first.version) }

        // Mid-stream: a second backfill arrives and the reducer is killed while it reads it.
        let more = try await Tools.run(Tools.fruits, ["ingest"] + brokers + [second], timeout: .seconds(60))
        try #require(more.status == 0, "\(more.output)")
        Tools.killHard(reduce)
        reduce = try await reducer()
        try await Tools.waitUntil("the restarted reducer publishes a newer model", timeout: .seconds(180)) {
            await (Self.publishedModel(results)?.version ?? 0) > first.version
        }
        let latest = try #require(await Self.publishedModel(results))
        try await waitForAnswers(from: latest.version)
        for key in uploads.dropFirst(8) { try await uploadAndCheck(key, atLeast: latest.version) }

        // Nothing lost or doubled: every photo's features once, after a graceful stop. The
        // answerer runs ahead of the reducer, so first wait for a flush (every 30 s) to hold them.
        func storedIDs() async -> [String] {
            var ids: [String] = []
            for part in (try? await results.list(prefix: "features/")) ?? [] {
                let bytes = try? await results.get(part.key)
                ids += (bytes.flatMap { try? ParquetReader(bytes: $0).strings("image_id") } ?? []).compactMap { $0 }
            }
            return ids
        }
        try await Tools.waitUntil("the results hold every answered upload", timeout: .seconds(90)) {
            await Set(answers.keys).isSubset(of: storedIDs())
        }
        #expect(try await Tools.stop(reduce, "the reducer") == 0)
        let ids = await storedIDs()
        #expect(ids.count == 600 + 300 + uploads.count + probes)
        #expect(Set(ids).count == ids.count)

        // The answers equal numpy's recomputation from the published models and reference sets.
        let file = output + "-answers.json"
        try JSONSerialization.data(withJSONObject: Array(answers.values)).write(to: URL(fileURLWithPath: file))
        let oracle = try await Tools.run(Tools.python, [Tools.root.appendingPathComponent("tools/check_answers.py").path,
                                                   "--results", output, "--answers", file])
        #expect(oracle.status == 0, "\(oracle.output)")
        print("streaming scenario: \(ContinuousClock.now - started); \(oracle.output)")
        withExtendedLifetime(broker) {}
    }
}
