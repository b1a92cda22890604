import ArgumentParser
import Foundation
import ObjectStorage
import Report

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "One self-contained HTML page from a results folder: explained variance, the images on two components, counts.",
        discussion: "Opens in any browser without a network. Prints the path it wrote."
    )

    @Option(help: "Results: a directory or s3://bucket/Results/.")
    var results: String

    @Option(help: "Where to write the page: a file, or - for stdout (default: report.html in the results).")
    var out: String?

    @OptionGroup var storage: StorageOptions

    @Option(help: "Points drawn at most; larger results show a repeatable sample.")
    var maxPoints = ResultsSummary.defaultMaxPoints

    func run() async throws {
        let store = try storage.store(results)
        let summary = try await ResultsSummary.load(from: store, maxPoints: maxPoints)
        for part in summary.unreadableParts {
            FileHandle.standardError.write(Data("warning: left out \(part.key): \(part.reason)\n".utf8))
        }
        let html = Array(ReportPage(summary: summary, title: "fruits results: \(results)").html.utf8)
        switch out {
        case "-":
            FileHandle.standardOutput.write(Data(html))
        case let path?:
            try Data(html).write(to: URL(fileURLWithPath: path))
            print(path)
        case nil:
            try await store.put(ReportPage.fileName, html, contentType: "text/html; charset=utf-8")
            print(store.location.uri(of: ReportPage.fileName))
        }
    }
}
