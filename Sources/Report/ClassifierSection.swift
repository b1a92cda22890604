import Foundation

/// The report's classifier section: the latest version's classifiers side
/// by side, accuracy per model version, drops between versions, recall per
/// label (worst first) and the most confused label pairs, with the
/// evaluation's method and size stated.
struct ClassifierSection {
    let history: ClassifierHistory

    var html: String {
        guard let latest = history.latest else { return "" }
        var html = "<h2>Classifier</h2>"
        guard let comparison = latest.comparison, let published = comparison.publishedResult else {
            return html + "<p class=\"note\">Version \(latest.modelVersion): leave-one-out over \(latest.evaluated) references, "
                + "accuracy \(AccuracyChart.percent(latest.accuracy)), top-5 \(AccuracyChart.percent(latest.top5Accuracy)); "
                + "no held-out comparison (written before it existed, or fewer than 2 references of every label).</p>"
        }
        html += "<p class=\"method\">Version \(latest.modelVersion): \(HTML.escape(comparison.method)); \(comparison.training) references train, "
            + "\(comparison.evaluated) are evaluated. Answers come from <b>\(HTML.escape(comparison.published))</b> "
            + (comparison.pinned ? "(pinned by the operator)." : "(the most accurate here).") + "</p>"
        html += "<table class=\"classifiers\"><tr><th>classifier</th><th>accuracy</th><th>top-5</th><th>fit</th><th></th></tr>"
        for result in comparison.results {
            html += "<tr><th>\(HTML.escape(result.classifier))</th><td>\(AccuracyChart.percent(result.accuracy))</td>"
                + "<td>\(AccuracyChart.percent(result.top5Accuracy))</td><td>\(String(format: "%.2f s", result.fitSeconds))</td>"
                + "<td>\(result.classifier == comparison.published ? "published" : "")</td></tr>"
        }
        html += "</table>"
        html += "<h3>Accuracy per model version</h3>" + AccuracyChart(versions: history.versions).svg
        html += qualityNotes
        html += "<h3>Recall per label, worst first (\(HTML.escape(published.classifier)), version \(latest.modelVersion))</h3>"
        html += RecallBars(perLabel: published.perLabel).svg
        html += "<h3>Most confused labels (\(HTML.escape(published.classifier)))</h3>"
        html += published.confusedPairs.isEmpty ? "<p class=\"note\">No mistakes on the held-out references.</p>"
            : "<table class=\"confused\"><tr><th>label</th><th>answered as</th><th>times</th></tr>"
                + published.confusedPairs.map { "<tr><td>\(HTML.escape($0.truth))</td><td>\(HTML.escape($0.answered))</td><td>\($0.count)</td></tr>" }.joined()
                + "</table>"
        if !history.unreadable.isEmpty {
            html += "<p class=\"note\">\(history.unreadable.count) evaluation files could not be read and are left out.</p>"
        }
        return html
    }

    private var qualityNotes: String {
        let drops = history.versions.filter { $0.quality?.dropped == true }
        let threshold = history.versions.compactMap(\.quality?.threshold).last
        guard !drops.isEmpty else {
            guard let threshold else {
                return "<p class=\"note quality\">No version compared with a previous one yet; a drop beyond --quality-drop will be ringed in red here.</p>"
            }
            return "<p class=\"note quality\">No version's published classifier fell more than "
                + String(format: "%.1f", threshold * 100) + " points of held-out accuracy below the previous one.</p>"
        }
        return "<p class=\"note\">Versions whose published classifier fell more than "
            + (threshold.map { String(format: "%.1f", $0 * 100) } ?? "the threshold's") + " points below the previous one (ringed above):</p>"
            + "<table class=\"quality-drops\"><tr><th>version</th><th>held-out accuracy</th><th>previous</th></tr>"
            + drops.compactMap { version in
                version.quality.map { "<tr><td>\(version.modelVersion)</td><td>\(AccuracyChart.percent($0.accuracy))</td>"
                    + "<td>\(AccuracyChart.percent($0.previousAccuracy)) (version \($0.previousVersion))</td></tr>" }
            }.joined() + "</table>"
    }
}
