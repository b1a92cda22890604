import Foundation

/// The images on the first two principal components, one colour per label;
/// the points of a label are one `<g>` so the page stays small.
struct ScatterChart {
    let points: [ResultsSummary.Point]
    /// Every label, in legend order; a label's colour is its position here.
    let labels: [String]
    var width = 760.0
    var height = 560.0

    var svg: String {
        let xs = points.map { Double($0.x) }, ys = points.map { Double($0.y) }
        let pad = { (values: [Double]) -> ClosedRange<Double> in
            guard let low = values.min(), let high = values.max(), high > low else { return -1...1 }
            let margin = (high - low) * 0.03
            return (low - margin)...(high + margin)
        }
        let frame = PlotFrame(width: width, height: height, xRange: pad(xs), yRange: pad(ys))
        var svg = "<svg class=\"scatter\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(f(width)) \(f(height))\" "
            + "width=\"\(f(width))\" height=\"\(f(height))\" role=\"img\" aria-label=\"images on the first two components\">"
        let number = { (value: Double) in String(format: "%g", value) }
        svg += frame.axes(xTitle: "PC 1", yTitle: "PC 2", xTicks: PlotFrame.ticks(frame.xRange), yTicks: PlotFrame.ticks(frame.yRange),
                          xFormat: number, yFormat: number)
        let byLabel = Dictionary(grouping: points, by: \.label)
        for (index, label) in labels.enumerated() {
            guard let members = byLabel[label] else { continue }
            svg += "<g class=\"points\" data-label=\"\(HTML.escape(label))\" fill=\"\(LabelColors.color(index))\" fill-opacity=\"0.75\">"
            for point in members {
                svg += "<circle cx=\"\(f(frame.x(Double(point.x))))\" cy=\"\(f(frame.y(Double(point.y))))\" r=\"1.8\"/>"
            }
            svg += "</g>"
        }
        return svg + "</svg>"
    }
}
