import Foundation

/// Held-out accuracy (solid) and top-5 accuracy (dashed) of every
/// classifier kind per model version; a dot marks the published one, a red
/// ring a version whose published classifier dropped beyond the threshold.
struct AccuracyChart {
    let versions: [ClassifierHistory.Version]
    var width = 760.0
    var height = 320.0

    static let colors = ["knn-pca": "#1f5fbf", "knn-full": "#e07b00", "softmax": "#2a9d3a"]

    var svg: String {
        let numbers = versions.map { Double($0.modelVersion) }
        let low = numbers.min() ?? 1, high = max(numbers.max() ?? 1, low + 1)
        let frame = PlotFrame(width: width, height: height, xRange: (low - 0.3)...(high + 0.3), yRange: 0...1)
        var svg = "<svg class=\"accuracy\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(f(width)) \(f(height))\" "
            + "width=\"\(f(width))\" height=\"\(f(height))\" role=\"img\" aria-label=\"classifier accuracy by model version\">"
        svg += frame.axes(xTitle: "model version", yTitle: "held-out accuracy", xTicks: PlotFrame.ticks(low...high).filter { $0 == $0.rounded() },
                          yTicks: stride(from: 0.0, through: 1.0, by: 0.2).map { $0 },
                          xFormat: { "\(Int($0))" }, yFormat: { "\(Int(($0 * 100).rounded())) %" })
        // In the order the latest version lists them (the cheaper first), then any older kinds.
        var kinds: [String] = []
        for version in versions.reversed() { for kind in version.comparison?.results.map(\.classifier) ?? [] where !kinds.contains(kind) { kinds.append(kind) } }
        for (index, kind) in kinds.enumerated() {
            let color = Self.colors[kind] ?? LabelColors.color(index)
            let results = versions.compactMap { version in
                version.comparison?.results.first { $0.classifier == kind }.map { (Double(version.modelVersion), $0) }
            }
            let line = { (value: (ClassifierHistory.Result) -> Double) in
                results.map { "\(f(frame.x($0.0))),\(f(frame.y(value($0.1))))" }.joined(separator: " ")
            }
            svg += "<polyline class=\"accuracy-line\" data-classifier=\"\(HTML.escape(kind))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(line(\.accuracy))\"/>"
            svg += "<polyline class=\"top5-line\" data-classifier=\"\(HTML.escape(kind))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" "
                + "stroke-dasharray=\"5 3\" points=\"\(line(\.top5Accuracy))\"/>"
            // A point per version too, so a single version shows.
            for (x, result) in results {
                svg += "<circle class=\"accuracy-point\" cx=\"\(f(frame.x(x)))\" cy=\"\(f(frame.y(result.accuracy)))\" r=\"2\" fill=\"\(color)\"/>"
            }
            svg += "<text x=\"\(f(frame.x(low - 0.3) + 8 + Double(index) * 110))\" y=\"\(f(frame.y(0.05)))\" fill=\"\(color)\">\(HTML.escape(kind))</text>"
        }
        for version in versions {
            guard let comparison = version.comparison, let published = comparison.publishedResult else { continue }
            let x = frame.x(Double(version.modelVersion)), y = frame.y(published.accuracy)
            svg += "<circle class=\"published\" cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"4\" fill=\"\(Self.colors[published.classifier] ?? "#333")\">"
                + "<title>version \(version.modelVersion): \(HTML.escape(published.classifier)) \(Self.percent(published.accuracy))</title></circle>"
            if version.quality?.dropped == true {
                svg += "<circle class=\"quality-drop\" cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"8\" fill=\"none\" stroke=\"#c00\" stroke-width=\"2\"/>"
            }
        }
        svg += "<text x=\"\(f(frame.x(high + 0.3) - 8))\" y=\"\(f(frame.y(0.05)))\" text-anchor=\"end\" fill=\"#555\">solid: accuracy, dashed: top-5</text>"
        return svg + "</svg>"
    }

    static func percent(_ value: Double) -> String { String(format: "%.1f %%", value * 100) }
}
