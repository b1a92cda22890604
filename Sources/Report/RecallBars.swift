import Foundation

/// Recall per label as horizontal bars, the worst first: one row per label
/// (13 px each, 131 labels are 1,700 px tall), its name, bar and value.
struct RecallBars {
    let recalls: [(label: String, recall: Double, evaluated: Int)]
    var width = 760.0
    let rowHeight = 13.0
    let labelWidth = 230.0

    init(perLabel: [String: ClassifierHistory.Recall]) {
        recalls = perLabel.map { ($0.key, $0.value.recall, $0.value.evaluated) }.sorted { ($0.recall, $0.label) < ($1.recall, $1.label) }
    }

    var svg: String {
        let height = Double(recalls.count) * rowHeight + 24
        let barSpace = width - labelWidth - 100
        var svg = "<svg class=\"recall\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(f(width)) \(f(height))\" "
            + "width=\"\(f(width))\" height=\"\(f(height))\" role=\"img\" aria-label=\"recall per label, worst first\">"
        for tick in stride(from: 0.0, through: 1.0, by: 0.25) {
            let x = labelWidth + tick * barSpace
            svg += "<line x1=\"\(f(x))\" x2=\"\(f(x))\" y1=\"0\" y2=\"\(f(height - 20))\" stroke=\"#eee\"/>"
            svg += "<text class=\"tick\" x=\"\(f(x))\" y=\"\(f(height - 6))\" text-anchor=\"middle\">\(Int(tick * 100)) %</text>"
        }
        for (row, entry) in recalls.enumerated() {
            let y = Double(row) * rowHeight
            let color = entry.recall < 0.5 ? "#c0392b" : entry.recall < 0.8 ? "#e0a000" : "#2a9d3a"
            svg += "<g class=\"recall-bar\" data-label=\"\(HTML.escape(entry.label))\">"
                + "<text x=\"\(f(labelWidth - 6))\" y=\"\(f(y + 10))\" text-anchor=\"end\">\(HTML.escape(entry.label))</text>"
                + "<rect x=\"\(f(labelWidth))\" y=\"\(f(y + 2))\" width=\"\(f(max(entry.recall * barSpace, 0.5)))\" height=\"\(f(rowHeight - 3))\" fill=\"\(color)\"/>"
                + "<text x=\"\(f(labelWidth + entry.recall * barSpace + 4))\" y=\"\(f(y + 10))\">"
                + "\(Int((entry.recall * 100).rounded())) % of \(entry.evaluated)</text></g>"
        }
        return svg + "</svg>"
    }
}
