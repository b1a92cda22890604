import Foundation

/// One self-contained HTML page (inline SVG and CSS, no script, nothing
/// fetched) from a results summary: what `fruits report` writes and the
/// upload endpoint's status page shows.
public struct ReportPage {
    /// Its name in a results folder.
    public static let fileName = "report.html"

    public let summary: ResultsSummary
    public let title: String
    /// Extra rows for the "Run" table, e.g. the upload endpoint's live counters.
    public var status: [(String, String)] = []
    public var generatedAt = Date()
    /// Seconds after which a browser reloads the page (the live status page).
    public var refreshSeconds: Int?

    public init(summary: ResultsSummary, title: String) {
        self.summary = summary
        self.title = title
    }

    /// Labels by count, then name: the legend's order and the colours'.
    var labels: [String] {
        summary.labelCounts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map(\.key)
    }

    public var html: String {
        var page = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>\(HTML.escape(title))</title>"
        if let refreshSeconds { page += "<meta http-equiv=\"refresh\" content=\"\(refreshSeconds)\">" }
        page += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>\(Self.style)</style></head><body>"
        page += "<h1>\(HTML.escape(title))</h1>"
        page += table("Run", rows: runRows)
        if let model = summary.model {
            page += "<h2>Explained variance</h2>"
            page += VarianceChart(ratios: model.spectrum ?? model.explainedVarianceRatio, k: model.k).svg
            page += "<h2>Images on the first two components</h2>"
            if summary.isSampled {
                page += "<p class=\"note\">A repeatable sample of \(summary.points.count) of \(summary.images) images (the smallest ids).</p>"
            }
            page += ScatterChart(points: summary.points, labels: labels).svg
            page += legend
            page += ClassifierSection(history: summary.classifier).html
        } else {
            page += "<p class=\"note\">No PCA model yet: it is written when the reducer finalizes.</p>"
        }
        page += table("Images per label", rows: labels.map { ($0, "\(summary.labelCounts[$0] ?? 0)") }, className: "labels")
        let reasons = summary.deadLetterReasons.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
        page += reasons.isEmpty ? "<h2>Dead letters</h2><p class=\"note\">None.</p>"
            : table("Dead letters by reason", rows: reasons.map { ($0.key, "\($0.value)") }, className: "deadletters")
        return page + "</body></html>\n"
    }

    private var runRows: [(String, String)] {
        var rows = status
        rows.append(("images with features", "\(summary.images)"))
        rows.append(("dead letters", "\(summary.deadLetterReasons.values.reduce(0, +))"))
        if !summary.unreadableParts.isEmpty {
            rows.append(("unreadable parts, left out (their keys are logged)", "\(summary.unreadableParts.count)"))
        }
        if let model = summary.model {
            rows.append(("PCA", "k = \(model.k) of \(model.mean.count) dimensions, fitted on \(model.nSamples) images, "
                + String(format: "%.1f %% of the variance", model.explainedVarianceRatio.reduce(0, +) * 100)))
        }
        let stamp = ISO8601DateFormatter().string(from: generatedAt)
        rows.append(("generated", stamp))
        return rows
    }

    private var legend: String {
        "<ul class=\"legend\">" + labels.enumerated().map { index, label in
            "<li><span class=\"swatch\" style=\"background:\(LabelColors.color(index))\"></span>\(HTML.escape(label))</li>"
        }.joined() + "</ul>"
    }

    private func table(_ heading: String, rows: [(String, String)], className: String = "facts") -> String {
        "<h2>\(HTML.escape(heading))</h2><table class=\"\(className)\">"
            + rows.map { "<tr><th>\(HTML.escape($0.0))</th><td>\(HTML.escape($0.1))</td></tr>" }.joined() + "</table>"
    }

    static let style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:24px auto;max-width:800px;color:#222}
        h1{font-size:22px}h2{font-size:17px;margin-top:28px}h3{font-size:15px;margin-top:20px}
        table{border-collapse:collapse}th,td{padding:2px 12px 2px 0;text-align:left;vertical-align:top}
        td{font-variant-numeric:tabular-nums}.note{color:#666}
        svg{display:block;font-size:11px}svg .tick{fill:#555}svg .axis-title{fill:#333;font-size:12px}
        .legend{columns:4;list-style:none;padding:0;font-size:12px}.legend li{break-inside:avoid}
        .swatch{display:inline-block;width:10px;height:10px;margin-right:5px;border-radius:50%}
        """
}
