import Events
import Foundation
import Kafka
import Logging
import ObjectStorage
import Reducer
import Report
import TestSupport
import Testing

/// The report of a small run: three labels of 40 images in three clusters,
/// reduced for real (embedded broker, reducer, PCA), then rendered, checked
/// element by element, and opened in headless Chromium as a person would.
@Suite("Report page: plots a person can look at", .tags(.integration), .serialized)
struct ReportTests {
    static let labels = ["Apple Braeburn", "Banana", "Cherry <Rainier>"]

    /// Results of 120 images in 8 dimensions and one dead letter.
    static func results() async throws -> LocalObjectStore {
        let cluster = try EmbeddedKafkaCluster()
        let topics = PipelineTopics()
        for topic in topics.all { try cluster.createTopic(topic, partitions: 1) }
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers))
        var generator = SystemRandomNumberGenerator()
        for (labelIndex, label) in labels.enumerated() {
            for n in 0..<40 {
                var event = Fruits_V1_FeatureEvent()
                event.imageID = String(format: "%032x", labelIndex * 1000 + n + 1)
                event.uri = "file:///photos/\(label)/\(n).jpg"
                event.label = label
                event.features = (0..<8).map { Float($0 == labelIndex ? 4 : 1) + Float.random(in: -1...1, using: &generator) }
                _ = try await producer.send(topic: topics.features, key: nil, value: try event.serializedBytes())
            }
        }
        var letter = Fruits_V1_DeadLetter()
        letter.imageID = String(format: "%032x", 9999)
        letter.reason = "not_a_jpeg"
        _ = try await producer.send(topic: topics.deadLetters, key: nil, value: try letter.serializedBytes())

        let store = try LocalObjectStore(root: Tools.temporaryPath("report-\(UUID().uuidString.prefix(8))"))
        var configuration = ReducerService.Configuration(kafka: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers))
        configuration.expectedImages = 121
        configuration.dimension = 8
        configuration.pca = .components(3)
        try await ReducerService(configuration: configuration, store: store, logger: Logger(label: "test")).run()
        return store
    }

    static func occurrences(of needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    /// The circles of one label's group.
    static func points(of label: String, in html: String) -> Int {
        guard let start = html.range(of: "data-label=\"\(label)\"") else { return 0 }
        let group = html[start.upperBound...]
        let end = group.range(of: "</g>")?.lowerBound ?? group.endIndex
        return occurrences(of: "<circle", in: String(group[..<end]))
    }

    @Test(.timeLimit(.minutes(3)))
    func theReportShowsEveryImageTheModelAndTheDeadLetters() async throws {
        let store = try await Self.results()
        let summary = try await ResultsSummary.load(from: store)
        #expect(summary.labelCounts == Dictionary(uniqueKeysWithValues: Self.labels.map { ($0, 40) }))
        #expect(summary.deadLetterReasons == ["not_a_jpeg": 1])
        #expect(summary.model?.k == 3 && summary.model?.spectrum?.count == 8)
        let html = ReportPage(summary: summary, title: "test run").html
        #expect(Self.points(of: "Apple Braeburn", in: html) == 40)
        #expect(Self.points(of: "Banana", in: html) == 40)
        #expect(Self.points(of: "Cherry &lt;Rainier&gt;", in: html) == 40)  // labels are escaped, never markup
        #expect(Self.occurrences(of: "class=\"k-marker\"", in: html) == 1)
        #expect(Self.occurrences(of: "class=\"threshold\"", in: html) == 3)
        #expect(Self.occurrences(of: "<li><span class=\"swatch\"", in: html) == 3)
        #expect(html.contains("not_a_jpeg") && !html.contains("<script"))

        // Larger results draw a repeatable sample and say so.
        let sampled = try await ResultsSummary.load(from: store, maxPoints: 50)
        #expect(sampled.points.count == 50 && sampled.isSampled && sampled.images == 120)
        let again = try await ResultsSummary.load(from: store, maxPoints: 50)
        #expect(sampled.points.map(\.x) == again.points.map(\.x))
        #expect(ReportPage(summary: sampled, title: "t").html.contains("A repeatable sample of 50 of 120 images"))

        try await Self.screenshot(html)
    }

    /// Headless Chromium renders the page; the screenshot must show the plots
    /// (many colours, not a blank or an error page).
    static func screenshot(_ html: String) async throws {
        let page = Tools.temporaryPath("report-\(UUID().uuidString.prefix(8)).html"), png = page + ".png"
        try Data(html.utf8).write(to: URL(fileURLWithPath: page))
        let browser = try #require(["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                   "chromium is not installed (scripts/test installs it)")
        let run = try await Tools.run(browser, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=900,1400",
                                          "--screenshot=\(png)", "file://\(page)"], timeout: .seconds(120))
        try #require(FileManager.default.fileExists(atPath: png), "no screenshot: \(run.output.suffix(2000))")
        let check = try await Tools.run(Tools.python, ["-c", """
            import sys; from PIL import Image
            image = Image.open(sys.argv[1]).convert("RGB")
            print(image.size[0], image.size[1], len(set(image.getdata())))
            """, png])
        let fields = check.output.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        try #require(fields.count == 3, "\(check.output)")
        #expect(fields[0] == 900 && fields[1] == 1400)
        #expect(fields[2] > 50, "the screenshot has \(fields[2]) colours: blank?")
    }
}
