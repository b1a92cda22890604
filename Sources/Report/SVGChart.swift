import Common
import Foundation

/// Plot geometry shared by the charts: a plot area inside margins, linear
/// scales from data to pixels, and number formatting for ticks.
struct PlotFrame {
    let width: Double
    let height: Double
    let left = 64.0, right = 16.0, top = 16.0, bottom = 44.0
    let xRange: ClosedRange<Double>
    let yRange: ClosedRange<Double>

    func x(_ value: Double) -> Double {
        left + (value - xRange.lowerBound) / max(xRange.upperBound - xRange.lowerBound, 1e-12) * (width - left - right)
    }

    func y(_ value: Double) -> Double {
        height - bottom - (value - yRange.lowerBound) / max(yRange.upperBound - yRange.lowerBound, 1e-12) * (height - top - bottom)
    }

    /// Frame, ticks and axis titles.
    func axes(xTitle: String, yTitle: String, xTicks: [Double], yTicks: [Double],
              xFormat: (Double) -> String, yFormat: (Double) -> String) -> String {
        var svg = "<rect class=\"plot-area\" x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(width - left - right))\" "
            + "height=\"\(f(height - top - bottom))\" fill=\"none\" stroke=\"#999\"/>"
        for tick in xTicks {
            svg += "<text class=\"tick\" x=\"\(f(x(tick)))\" y=\"\(f(height - bottom + 16))\" text-anchor=\"middle\">\(xFormat(tick))</text>"
        }
        for tick in yTicks {
            svg += "<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(y(tick)))\" y2=\"\(f(y(tick)))\" stroke=\"#eee\"/>"
            svg += "<text class=\"tick\" x=\"\(f(left - 6))\" y=\"\(f(y(tick) + 4))\" text-anchor=\"end\">\(yFormat(tick))</text>"
        }
        svg += "<text class=\"axis-title\" x=\"\(f((left + width - right) / 2))\" y=\"\(f(height - 6))\" text-anchor=\"middle\">\(HTML.escape(xTitle))</text>"
        svg += "<text class=\"axis-title\" transform=\"translate(14 \(f((top + height - bottom) / 2))) rotate(-90)\" "
            + "text-anchor=\"middle\">\(HTML.escape(yTitle))</text>"
        return svg
    }

    /// About `count` round tick values covering `range`.
    static func ticks(_ range: ClosedRange<Double>, count: Int = 6) -> [Double] {
        let span = range.upperBound - range.lowerBound
        guard span > 0 else { return [range.lowerBound] }
        let raw = span / Double(count)
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var ticks: [Double] = []
        var value = ceil(range.lowerBound / step) * step
        while value <= range.upperBound + step * 1e-9 {
            ticks.append(abs(value) < step * 1e-9 ? 0 : value)
            value += step
        }
        return ticks
    }
}

/// Coordinates with one decimal: enough on screen, small in the file.
func f(_ value: Double) -> String { String(format: "%.1f", value) }

enum HTML {
    static func escape(_ text: String) -> String { Markup.escape(text) }
}

/// Distinct colours for any number of labels: hues a golden angle apart,
/// with three lightness levels so neighbours in the list differ twice over.
enum LabelColors {
    static func color(_ index: Int) -> String {
        let hue = (Double(index) * 137.507_764).truncatingRemainder(dividingBy: 360)
        let lightness = [42, 58, 32][index % 3]
        return "hsl(\(Int(hue)) 70% \(lightness)%)"
    }
}
