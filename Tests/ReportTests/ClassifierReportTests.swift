import Common
import Events
import Foundation
import Kafka
import Logging
import ObjectStorage
import Reducer
import Report
import TestSupport
import Testing

/// The classifier's sections for results of three model versions: three
/// reducer runs over one results folder, each adding images and publishing
/// a version; the page is rendered, checked element by element, and parsed
/// by headless Chromium, whose DOM must hold the same elements.
@Suite("Report page: the classifier over model versions", .tags(.integration), .serialized)
struct ClassifierReportTests {
    static let labels = ["Apple Braeburn", "Banana", "Cherry <Rainier>", "Kiwi"]

    static func results(versions: Int) async throws -> LocalObjectStore {
        let cluster = try EmbeddedKafkaCluster()
        let topics = PipelineTopics()
        for topic in topics.all { try cluster.createTopic(topic, partitions: 1) }
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers))
        let store = try LocalObjectStore(root: Tools.temporaryPath("classifier-report-\(UUID().uuidString.prefix(8))"))
        var generator = SplitMix64(seed: 5)
        for version in 0..<versions {
            for (labelIndex, label) in labels.enumerated() {
                for n in 0..<15 {
                    var event = Fruits_V1_FeatureEvent()
                    event.imageID = String(format: "%032x", version * 100_000 + labelIndex * 1000 + n + 1)
                    event.uri = "file:///photos/\(label)/\(version)-\(n).jpg"
                    event.label = label
                    // Overlapping clusters: the classifiers make mistakes, so recall and confusions vary.
                    event.features = (0..<8).map { Float($0 == labelIndex ? 2.2 : 1) + Float.random(in: -1...1, using: &generator) }
                    _ = try await producer.send(topic: topics.features, key: nil, value: try event.serializedBytes())
                }
            }
            var configuration = ReducerService.Configuration(kafka: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers))
            configuration.expectedImages = 15 * labels.count
            configuration.dimension = 8
            configuration.pca = .components(3)
            try await ReducerService(configuration: configuration, store: store, logger: Logger(label: "test")).run()
        }
        return store
    }

    static func occurrences(of needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    @Test(.timeLimit(.minutes(4)))
    func theReportShowsTheClassifierPerVersionPerLabelAndItsConfusions() async throws {
        let store = try await Self.results(versions: 3)
        let summary = try await ResultsSummary.load(from: store)
        let history = summary.classifier
        #expect(history.versions.map(\.modelVersion) == [1, 2, 3])
        let latest = try #require(history.latest?.comparison)
        #expect(latest.results.map(\.classifier) == ["knn-pca", "knn-full", "softmax"])
        #expect(latest.evaluated == 3 * 15 * Self.labels.count / 5)
        let html = ReportPage(summary: summary, title: "three versions").html

        // A curve per classifier kind, accuracy and top-5, over the three versions; a dot per published version.
        #expect(Self.occurrences(of: "class=\"accuracy-line\"", in: html) == 3)
        #expect(Self.occurrences(of: "class=\"top5-line\"", in: html) == 3)
        #expect(Self.occurrences(of: "class=\"published\"", in: html) == 3)
        #expect(Self.occurrences(of: "class=\"accuracy-point\"", in: html) == 9)
        for kind in ["knn-pca", "knn-full", "softmax"] {
            let line = try #require(html.range(of: "class=\"accuracy-line\" data-classifier=\"\(kind)\""))
            let points = html[line.upperBound...].prefix { $0 != "/" }
            #expect(Self.occurrences(of: ",", in: String(points)) == 3, "\(kind): a point per version")
        }
        // Recall per label, worst first, every label escaped.
        #expect(Self.occurrences(of: "class=\"recall-bar\"", in: html) == Self.labels.count)
        let published = try #require(latest.publishedResult)
        let order = published.perLabel.sorted { ($0.value.recall, $0.key) < ($1.value.recall, $1.key) }.map(\.key)
        let drawn = html.components(separatedBy: "class=\"recall-bar\" data-label=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        #expect(drawn == order.map { $0.replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;") })
        #expect(html.contains("data-label=\"Cherry &lt;Rainier&gt;\"") && !html.contains("<Rainier>"))
        // The method and its size, the comparison table, the confused pairs (if any mistakes) and the quality notes.
        #expect(html.contains("stratified held-out split") && html.contains("\(latest.evaluated) are evaluated"))
        #expect(Self.occurrences(of: "<tr><th>knn-", in: html) == 2 && html.contains("<tr><th>softmax</th>"))
        #expect(published.confusedPairs.isEmpty || Self.occurrences(of: "<tr><td>", in: html) >= published.confusedPairs.count)
        #expect(html.contains("class=\"confused\"") == !published.confusedPairs.isEmpty)
        #expect(html.contains("class=\"note quality\"") || html.contains("class=\"quality-drops\""))
        #expect(history.versions.dropFirst().allSatisfy { $0.quality?.previousVersion == $0.modelVersion - 1 })

        // Chromium parses it into the same elements.
        let dom = try await Self.chromiumDOM(html)
        for element in ["class=\"accuracy\"", "class=\"recall\"", "class=\"classifiers\"", "class=\"accuracy-line\"", "class=\"recall-bar\""] {
            #expect(Self.occurrences(of: element, in: dom) == Self.occurrences(of: element, in: html), "\(element) in Chromium's DOM")
        }
    }

    /// The page as headless Chromium's DOM after parsing it.
    static func chromiumDOM(_ html: String) async throws -> String {
        let page = Tools.temporaryPath("classifier-report-\(UUID().uuidString.prefix(8)).html")
        try Data(html.utf8).write(to: URL(fileURLWithPath: page))
        let browser = try #require(["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                   "chromium is not installed (scripts/test installs it)")
        let run = try await Tools.run(browser, ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", "file://\(page)"], timeout: .seconds(120))
        try #require(run.output.contains("</svg>"), "Chromium rendered no SVG: \(run.output.suffix(2000))")
        return run.output
    }
}
