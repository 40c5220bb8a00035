import Foundation

/// Writes `Results.svg`: grouped bars of the average test-seen and test-unseen accuracy per method,
/// one panel per setting and base, each bar the median over seeds with a whisker for the range.
///
/// Hand-written SVG 1.1, no script or external resources; every bar carries a `<title>` with its
/// exact value, and a method without results shows `—` instead of bars.
public enum SVGChart {
    /// The two series of every group.
    static let series: [(split: String, label: String, colour: String)] = [
        ("test-seen", "test-seen (wordings seen in training)", "#9ecae1"),
        ("test-unseen", "test-unseen (held-out wordings)", "#2b6cb0"),
    ]

    // Layout, in SVG user units (pixels).
    static let leftMargin = 56.0, rightMargin = 16.0, minimumWidth = 600.0, groupWidth = 92.0, barWidth = 28.0
    static let legendHeight = 34.0, panelHeight = 236.0, plotTop = 34.0, plotHeight = 150.0

    /// The chart of `summary`.
    public static func render(_ summary: ComparisonSummary) -> String {
        let methods = summary.settings.methods
        let panels = ComparisonSetting.allCases.flatMap { setting in summary.bases(in: setting).map { (setting, $0) } }
        let width = max(minimumWidth, leftMargin + groupWidth * Double(methods.count) + rightMargin)
        let height = legendHeight + panelHeight * Double(panels.count) + 8
        var svg = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(number(width))\" height=\"\(number(height))\" "
                + "viewBox=\"0 0 \(number(width)) \(number(height))\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\">",
            "<title>Average exact-match accuracy per method (median over seeds, whiskers: min–max)</title>",
            "<rect x=\"0\" y=\"0\" width=\"\(number(width))\" height=\"\(number(height))\" fill=\"#ffffff\"/>",
        ]
        var legendX = leftMargin
        for entry in series {
            svg.append("<rect x=\"\(number(legendX))\" y=\"12\" width=\"12\" height=\"12\" fill=\"\(entry.colour)\"/>")
            svg.append("<text x=\"\(number(legendX + 17))\" y=\"22\">\(escape(entry.label))</text>")
            legendX += 250
        }
        for (index, (setting, base)) in panels.enumerated() {
            svg += panel(summary, setting: setting, base: base, top: legendHeight + panelHeight * Double(index))
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    /// One panel: title, axis with grid lines, and a group of bars per method.
    private static func panel(_ summary: ComparisonSummary, setting: ComparisonSetting, base: BaseDescription, top: Double) -> [String] {
        let methods = summary.settings.methods(for: base.spec.name)
        let plotBottom = top + plotTop + plotHeight
        let group = (width(methodCount: methods.count) - leftMargin - rightMargin) / Double(max(methods.count, 1))
        let plotRight = leftMargin + group * Double(methods.count)
        func y(_ fraction: Double) -> Double { plotBottom - plotHeight * min(max(fraction, 0), 1) }
        var svg = ["<g class=\"panel\">",
                   "<text x=\"\(number(leftMargin))\" y=\"\(number(top + 18))\" font-size=\"13\" font-weight=\"bold\">"
                   + "\(escape(base.spec.name)), \(setting.rawValue) setting: average accuracy (%)</text>"]
        svg += percentGrid(left: leftMargin, right: plotRight, y: y)
        for (column, method) in methods.enumerated() {
            let row = summary.summary(base: base.spec.name, setting: setting, method: method)
            let centre = leftMargin + group * (Double(column) + 0.5)
            let spreads = [row.averageSeen, row.averageUnseen]
            if spreads.allSatisfy({ $0 == nil }) {
                svg.append("<text x=\"\(number(centre))\" y=\"\(number(plotBottom - 8))\" text-anchor=\"middle\" font-size=\"14\" fill=\"#555555\">"
                           + "\(ReportFormat.missing)</text>")
            }
            for (position, (entry, spread)) in zip(series, spreads).enumerated() {
                guard let spread else { continue }
                let x = centre - barWidth - 1 + Double(position) * (barWidth + 2)
                let barTop = y(spread.median)
                let range = spread.count > 1 ? String(format: " (%.1f–%.1f, %d seeds)", 100 * spread.minimum, 100 * spread.maximum, spread.count) : ""
                svg.append("<rect class=\"bar\" x=\"\(number(x))\" y=\"\(number(barTop))\" width=\"\(number(barWidth))\" "
                           + "height=\"\(number(plotBottom - barTop))\" fill=\"\(entry.colour)\">"
                           + "<title>\(escape("\(method.rawValue), \(entry.split): \(String(format: "%.1f", 100 * spread.median)) %\(range)"))</title></rect>")
                let whiskerX = x + barWidth / 2
                if spread.count > 1 {
                    let (low, high) = (y(spread.minimum), y(spread.maximum))
                    svg.append("<path class=\"whisker\" d=\"M\(number(whiskerX)) \(number(low))V\(number(high))"
                               + "M\(number(whiskerX - 4)) \(number(low))h8M\(number(whiskerX - 4)) \(number(high))h8\" stroke=\"#222222\" fill=\"none\"/>")
                }
                let labelY = min(y(spread.count > 1 ? spread.maximum : spread.median), barTop) - 3
                svg.append("<text x=\"\(number(whiskerX))\" y=\"\(number(labelY))\" text-anchor=\"middle\" font-size=\"9\">"
                           + "\(Int((100 * spread.median).rounded()))</text>")
            }
            svg.append("<text x=\"\(number(centre))\" y=\"\(number(plotBottom + 16))\" text-anchor=\"middle\">\(escape(method.rawValue))</text>")
            if let parameters = row.trainableParameters {
                svg.append("<text x=\"\(number(centre))\" y=\"\(number(plotBottom + 29))\" text-anchor=\"middle\" font-size=\"9\" "
                           + "fill=\"#555555\">\(ReportFormat.count(parameters)) params</text>")
            }
        }
        svg.append("</g>")
        return svg
    }

    /// Horizontal grid lines at 0, 25, …, 100 % from `left` to `right`, labelled on the left; `y`
    /// maps a fraction to its coordinate.
    static func percentGrid(left: Double, right: Double, y: (Double) -> Double) -> [String] {
        stride(from: 0, through: 100, by: 25).flatMap { tick -> [String] in
            let tickY = y(Double(tick) / 100)
            return ["<line x1=\"\(number(left))\" y1=\"\(number(tickY))\" x2=\"\(number(right))\" y2=\"\(number(tickY))\" "
                    + "stroke=\"\(tick == 0 ? "#333333" : "#dddddd")\" stroke-width=\"1\"/>",
                    "<text x=\"\(number(left - 6))\" y=\"\(number(tickY + 4))\" text-anchor=\"end\">\(tick)</text>"]
        }
    }

    /// The chart's width: ``groupWidth`` per method, at least ``minimumWidth`` (the groups then widen).
    static func width(methodCount: Int) -> Double {
        max(minimumWidth, leftMargin + groupWidth * Double(methodCount) + rightMargin)
    }

    /// A coordinate with at most one decimal: `12`, `12.5`.
    static func number(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
    }

    /// `text` with the XML special characters escaped.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
