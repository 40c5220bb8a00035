import Foundation

/// Writes `Results-curves.svg`: per base, each trained method's learning curve (dev exact match
/// against optimizer steps) at its chosen rate, seed 0, with its best dev point marked.
///
/// Hand-written SVG 1.1 like ``SVGChart``; every point carries a `<title>` with its step, dev accuracy
/// and dev loss.
public enum CurveChart {
    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                          "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39"]
    static let leftMargin = 56.0, plotWidth = 560.0, legendWidth = 170.0, panelHeight = 300.0, plotTop = 34.0, plotHeight = 220.0

    /// The chart of `summary`'s curves.
    public static func render(_ summary: ComparisonSummary) -> String {
        let bases = summary.manifest.bases
        let width = leftMargin + plotWidth + 24 + legendWidth
        let height = panelHeight * Double(max(bases.count, 1)) + 8
        var svg = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(SVGChart.number(width))\" height=\"\(SVGChart.number(height))\" "
                + "viewBox=\"0 0 \(SVGChart.number(width)) \(SVGChart.number(height))\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\">",
            "<title>Learning curves: dev exact match per method at its chosen learning rate, seed 0</title>",
            "<rect x=\"0\" y=\"0\" width=\"\(SVGChart.number(width))\" height=\"\(SVGChart.number(height))\" fill=\"#ffffff\"/>",
        ]
        for (index, base) in bases.enumerated() {
            svg += panel(summary, base: base, top: panelHeight * Double(index))
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    private static func panel(_ summary: ComparisonSummary, base: BaseDescription, top: Double) -> [String] {
        let cap = Double(max(summary.settings.steps(for: .mixed, base: base.spec.name), 1))
        let plotBottom = top + plotTop + plotHeight
        func x(_ step: Int) -> Double { leftMargin + plotWidth * min(Double(step) / cap, 1) }
        func y(_ fraction: Double) -> Double { plotBottom - plotHeight * min(max(fraction, 0), 1) }
        var svg = ["<g class=\"panel\">",
                   "<text x=\"\(SVGChart.number(leftMargin))\" y=\"\(SVGChart.number(top + 18))\" font-size=\"13\" font-weight=\"bold\">"
                   + "\(SVGChart.escape(base.spec.name)): dev accuracy (%) against optimizer steps, chosen rate, seed 0</text>"]
        svg += SVGChart.percentGrid(left: leftMargin, right: leftMargin + plotWidth, y: y)
        for index in 0...5 {
            let step = Int((cap * Double(index) / 5).rounded())
            svg.append("<text x=\"\(SVGChart.number(x(step)))\" y=\"\(SVGChart.number(plotBottom + 14))\" text-anchor=\"middle\">\(step)</text>")
        }
        let all = summary.settings.methods.filter(\.isTrained)
        let methods = summary.settings.methods(for: base.spec.name).filter(\.isTrained)
        for (index, method) in methods.enumerated() {
            let colour = palette[(all.firstIndex(of: method) ?? index) % palette.count]
            let legendY = top + plotTop + 4 + 15 * Double(index)
            let legendX = leftMargin + plotWidth + 24
            svg.append("<line x1=\"\(SVGChart.number(legendX))\" y1=\"\(SVGChart.number(legendY))\" x2=\"\(SVGChart.number(legendX + 16))\" "
                       + "y2=\"\(SVGChart.number(legendY))\" stroke=\"\(colour)\" stroke-width=\"2\"/>")
            let choice = summary.choices[base.spec.name]?[method]
            let label = method.rawValue + (choice.map { " (lr \(ReportFormat.rate($0.learningRate)))" } ?? " (—)")
            svg.append("<text x=\"\(SVGChart.number(legendX + 21))\" y=\"\(SVGChart.number(legendY + 4))\">\(SVGChart.escape(label))</text>")
            guard let run = choice?.candidates.first(where: { $0.key.learningRate == choice?.learningRate }), !run.curve.isEmpty else { continue }
            let points = run.curve.map { "\(SVGChart.number(x($0.step))),\(SVGChart.number(y($0.dev.accuracy)))" }
            svg.append("<polyline class=\"curve\" points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\"/>")
            for point in run.curve {
                let best = point.step == run.bestStep
                let title = String(format: "%@ step %d: dev %.1f %%, dev loss %.3f", method.rawValue, point.step, 100 * point.dev.accuracy, point.devLoss)
                svg.append("<circle cx=\"\(SVGChart.number(x(point.step)))\" cy=\"\(SVGChart.number(y(point.dev.accuracy)))\" "
                           + "r=\"\(best ? 4 : 2)\" fill=\"\(best ? "#ffffff" : colour)\" stroke=\"\(colour)\"><title>\(SVGChart.escape(title))</title></circle>")
            }
        }
        svg.append("</g>")
        return svg
    }
}
