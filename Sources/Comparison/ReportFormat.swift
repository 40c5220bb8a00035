import Foundation

/// How the report writes numbers: accuracies in percent, counts with thousands separators, rates
/// in the shortest form.
enum ReportFormat {
    /// The mark after a value that has fewer seeds than planned.
    static let partialMark = "†"
    /// The text of a cell without any result.
    static let missing = "—"

    /// `43.3 (40.0–45.0)` (percent, `decimals` places), the range left out for a single seed, `†`
    /// appended when fewer than `planned` seeds are in it, `—` for no value.
    static func percent(_ spread: Spread?, planned: Int, decimals: Int = 1) -> String {
        guard let spread else { return missing }
        func format(_ value: Double) -> String { String(format: "%.\(decimals)f", 100 * value) }
        var text = format(spread.median)
        if planned > 1 || spread.count > 1 { text += " (\(format(spread.minimum))–\(format(spread.maximum)))" }
        return text + (spread.count < planned ? partialMark : "")
    }

    /// `0.812 (0.790–0.850)`, as ``percent(_:planned:decimals:)`` but for losses in nats.
    static func loss(_ spread: Spread?, planned: Int) -> String {
        guard let spread else { return missing }
        var text = String(format: "%.3f", spread.median)
        if planned > 1 || spread.count > 1 { text += String(format: " (%.3f–%.3f)", spread.minimum, spread.maximum) }
        return text + (spread.count < planned ? partialMark : "")
    }

    /// `12,345`.
    static func count(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { grouped += "," }
            grouped.append(digit)
        }
        return (value < 0 ? "-" : "") + grouped
    }

    /// `1 run`, `3 runs`: a count and its noun, plural unless the count is 1 (nouns whose plural adds `s`).
    static func counted(_ value: Int, _ noun: String) -> String {
        "\(value) \(noun)\(value == 1 ? "" : "s")"
    }

    /// `4.1 M` or `812 k` or `950`, for parameter counts in prose.
    static func size(_ value: Int) -> String {
        if value >= 1_000_000 { return String(format: "%.1f M", Double(value) / 1e6) }
        if value >= 10_000 { return String(format: "%.0f k", Double(value) / 1e3) }
        return count(value)
    }

    /// A learning rate in its shortest form: `0.001`, `1e-05`.
    static func rate(_ value: Float) -> String { String(format: "%g", value) }

    /// `value` (a fraction) in whole tenths of a point: the precision at which the report prints
    /// accuracies and gaps, and so the one at which it compares them.
    static func tenthsOfAPoint(_ value: Double) -> Double { (1000 * value).rounded() }

    /// `+3.3` / `-1.0` / `0.0` points.
    static func points(_ value: Double) -> String {
        let rounded = tenthsOfAPoint(value) / 10
        return rounded > 0 ? String(format: "+%.1f", rounded) : String(format: "%.1f", rounded == 0 ? 0 : rounded)
    }

    /// `1 h 02 min`, `3 min 05 s` or `12.3 s`.
    static func duration(_ seconds: Double) -> String {
        if seconds < 60 { return String(format: "%.1f s", seconds) }
        let whole = Int(seconds.rounded())
        if whole < 3600 { return String(format: "%d min %02d s", whole / 60, whole % 60) }
        return String(format: "%d h %02d min", whole / 3600, (whole % 3600) / 60)
    }

    /// A Markdown table row: `| a | b |`, with `|` in cells escaped.
    static func row(_ cells: [String]) -> String {
        "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |"
    }

    /// The header row and separator of a Markdown table whose first `leftAligned` columns are left-aligned
    /// and the rest right-aligned.
    static func header(_ cells: [String], leftAligned: Int = 1) -> String {
        row(cells) + "\n" + "|" + cells.indices.map { $0 < leftAligned ? "---|" : "---:|" }.joined()
    }
}
