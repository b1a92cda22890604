import Foundation

/// The explained-variance curve that picks k: each component's share and
/// the cumulative share, the chosen k marked, and where 90, 95 and 99 % are reached.
struct VarianceChart {
    let ratios: [Double]
    let k: Int
    var width = 760.0
    var height = 340.0

    static let thresholds = [0.90, 0.95, 0.99]

    /// The number of components reaching `fraction`, if the spectrum does.
    static func components(reaching fraction: Double, in ratios: [Double]) -> Int? {
        var total = 0.0
        return ratios.firstIndex { total += $0; return total >= fraction - 1e-12 }.map { $0 + 1 }
    }

    var svg: String {
        let reached = Self.thresholds.compactMap { Self.components(reaching: $0, in: ratios) }
        // Wide enough for k and the 99 % point, never wider than the spectrum.
        let shown = min(ratios.count, max(2 * k, (reached.max() ?? k) + 10, 10))
        let frame = PlotFrame(width: width, height: height, xRange: 0...Double(shown), yRange: 0...1)
        var svg = "<svg class=\"variance\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(f(width)) \(f(height))\" "
            + "width=\"\(f(width))\" height=\"\(f(height))\" role=\"img\" aria-label=\"explained variance by component\">"
        svg += frame.axes(xTitle: "components", yTitle: "explained variance", xTicks: PlotFrame.ticks(0...Double(shown)),
                          yTicks: stride(from: 0.0, through: 1.0, by: 0.2).map { $0 },
                          xFormat: { "\(Int($0))" }, yFormat: { "\(Int(($0 * 100).rounded())) %" })
        for (fraction, count) in zip(Self.thresholds, Self.thresholds.map { Self.components(reaching: $0, in: ratios) }) {
            let y = frame.y(fraction)
            svg += "<line class=\"threshold\" x1=\"\(f(frame.x(0)))\" x2=\"\(f(frame.x(Double(shown))))\" y1=\"\(f(y))\" y2=\"\(f(y))\" "
                + "stroke=\"#bbb\" stroke-dasharray=\"4 3\"/>"
            // Each label below its line, at the point where the curve reaches it, so close thresholds do not collide.
            let note = count.map { "\(Int(fraction * 100)) % at k = \($0)" } ?? "\(Int(fraction * 100)) % not reached"
            let x = count.map { frame.x(Double($0)) } ?? frame.x(Double(shown))
            svg += "<text class=\"threshold-label\" x=\"\(f(x + 4))\" y=\"\(f(y + 12))\" text-anchor=\"\(x > frame.x(Double(shown) * 0.7) ? "end" : "start")\">\(note)</text>"
        }
        var cumulative = 0.0
        let cumulativePoints = ratios.prefix(shown).enumerated().map { index, ratio -> String in
            cumulative += ratio
            return "\(f(frame.x(Double(index + 1)))),\(f(frame.y(cumulative)))"
        }
        let componentPoints = ratios.prefix(shown).enumerated().map { "\(f(frame.x(Double($0 + 1)))),\(f(frame.y($1)))" }
        svg += "<polyline class=\"per-component\" fill=\"none\" stroke=\"#e07b00\" stroke-width=\"1.5\" points=\"\(componentPoints.joined(separator: " "))\"/>"
        svg += "<polyline class=\"cumulative\" fill=\"none\" stroke=\"#1f5fbf\" stroke-width=\"2\" points=\"\(cumulativePoints.joined(separator: " "))\"/>"
        let kShare = ratios.prefix(k).reduce(0, +)
        svg += "<line class=\"k-marker\" x1=\"\(f(frame.x(Double(k))))\" x2=\"\(f(frame.x(Double(k))))\" y1=\"\(f(frame.y(0)))\" "
            + "y2=\"\(f(frame.y(1)))\" stroke=\"#c00\" stroke-width=\"1.5\"/>"
        svg += "<text class=\"k-label\" x=\"\(f(frame.x(Double(k)) + 4))\" y=\"\(f(frame.y(0.05)))\" fill=\"#c00\">k = \(k): "
            + "\(String(format: "%.1f", kShare * 100)) %</text>"
        svg += "<text x=\"\(f(frame.x(0) + 8))\" y=\"\(f(frame.y(0.96)))\" fill=\"#1f5fbf\">cumulative</text>"
        svg += "<text x=\"\(f(frame.x(0) + 8))\" y=\"\(f(frame.y(0.88)))\" fill=\"#e07b00\">per component</text>"
        return svg + "</svg>"
    }
}
