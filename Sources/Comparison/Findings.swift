import Foundation

/// The report's findings, generated from the results: which methods IAPT beats on average unseen
/// accuracy (by median over seeds, and whether the ranges over seeds overlap), how the gaps move with
/// scale, and which method loses most from seen to unseen wordings.
///
/// "Beats" means a strictly higher median; equal medians are a tie, which is not a win.
public enum Findings {
    /// One paragraph per base and setting, then one on scale and one on wordings, where there are results.
    public static func paragraphs(_ summary: ComparisonSummary) -> [String] {
        guard summary.settings.methods.contains(.iapt) else {
            return ["IAPT is not among the compared methods, so there is nothing to find about it."]
        }
        var paragraphs = summary.bases(in: .mixed).compactMap { claim(summary, base: $0) }
        for setting in ComparisonSetting.allCases {
            for base in summary.bases(in: setting) {
                paragraphs.append(comparison(summary, base: base.spec.name, setting: setting))
            }
        }
        if let scale = scale(summary) { paragraphs.append(scale) }
        if let wordings = wordings(summary) { paragraphs.append(wordings) }
        return paragraphs
    }

    /// `On bundled, mixed setting: IAPT's median average unseen accuracy is 43.3 % (range 40.0–45.0, 3 seeds).
    /// It beats prompt-4 (30.0 %; the ranges do not overlap) …; it does not beat lora (45.0 %; the ranges overlap).`
    /// Where both sides have a single seed there is no range to compare, and none is mentioned.
    static func comparison(_ summary: ComparisonSummary, base: String, setting: ComparisonSetting) -> String {
        let opening = "On \(base), \(setting.rawValue) setting:"
        let iapt = summary.summary(base: base, setting: setting, method: .iapt)
        guard let own = iapt.averageUnseen else { return "\(opening) IAPT has no complete results yet, so nothing is compared." }
        var text = "\(opening) IAPT's median average unseen accuracy is \(percent(own.median)) % ("
            + (own.count == 1 ? "1 seed" : "range \(percent(own.minimum))–\(percent(own.maximum)), \(own.count) seeds") + ")."
        let others = summary.settings.methods(for: base).filter { $0 != .iapt }
        let baselines = others.filter { $0.adapterMethod != ComparisonMethod.iapt.adapterMethod }
        let ablations = others.filter { $0.adapterMethod == ComparisonMethod.iapt.adapterMethod }
        if let sentence = verdicts(summary, own: own, base: base, setting: setting, methods: baselines, subject: "It") {
            text += " " + sentence
        }
        if let sentence = verdicts(summary, own: own, base: base, setting: setting, methods: ablations, subject: "Against its variants, it") {
            text += " " + sentence
        }
        return text
    }

    /// `It beats a (…) and b (…); it ties with c (…); it does not beat d (…).`, or `nil` without methods.
    private static func verdicts(
        _ summary: ComparisonSummary, own: Spread, base: String, setting: ComparisonSetting, methods: [ComparisonMethod], subject: String
    ) -> String? {
        var beats: [String] = [], ties: [String] = [], loses: [String] = [], absent: [String] = []
        for method in methods {
            guard let other = summary.summary(base: base, setting: setting, method: method).averageUnseen else {
                absent.append(method.rawValue)
                continue
            }
            let ranges = own.count == 1 && other.count == 1 ? "" : "; the ranges \(own.overlaps(other) ? "overlap" : "do not overlap")"
            let detail = "\(method.rawValue) (\(percent(other.median)) %\(ranges))"
            switch order(own.median, other.median) {
            case 1: beats.append(detail)
            case 0: ties.append(detail)
            default: loses.append(detail)
            }
        }
        var clauses: [String] = []
        if !beats.isEmpty { clauses.append("beats " + list(beats)) }
        if !ties.isEmpty { clauses.append("ties with " + list(ties)) }
        if !loses.isEmpty { clauses.append("does not beat " + list(loses)) }
        if !absent.isEmpty { clauses.append("cannot yet be compared with " + list(absent) + " (no complete results)") }
        guard !clauses.isEmpty else { return nil }
        return subject + " " + clauses.joined(separator: "; it ") + "."
    }

    /// 1, 0 or -1 as accuracy `a` (a fraction) is above, level with or below `b` to a tenth of a point,
    /// the precision the report prints: a mean over tasks adds fractions in its own order, so two runs
    /// with the same counts can differ in the last bits and must still read as level.
    private static func order(_ a: Double, _ b: Double) -> Int {
        let a = ReportFormat.tenthsOfAPoint(a), b = ReportFormat.tenthsOfAPoint(b)
        return a > b ? 1 : a < b ? -1 : 0
    }

    /// How close a method must come to LoRA to count as competitive with it: within this many points
    /// of LoRA's median, or with overlapping ranges over seeds.
    public static let competitiveMargin = 0.02

    /// The paper's first claim on `base` (mixed setting, average unseen accuracy, medians over seeds),
    /// part by part: IAPT beats the earlier prompt methods (prompt tuning, P-tuning v2, prefix tuning),
    /// and IAPT is competitive with LoRA (``competitiveMargin``). `nil` when IAPT has no result there.
    static func claim(_ summary: ComparisonSummary, base: BaseDescription) -> String? {
        let name = base.spec.name
        func row(_ method: ComparisonMethod) -> (method: ComparisonMethod, unseen: Spread, parameters: Int?)? {
            let row = summary.summary(base: name, setting: .mixed, method: method)
            return row.averageUnseen.map { (method, $0, row.trainableParameters) }
        }
        guard let iapt = row(.iapt) else { return nil }
        /// `prompt-4 (32.0 %, 1,000 parameters)`, `lora (48.0 %, 1,000 parameters; IAPT -4.0 points)`.
        func described(_ entry: (method: ComparisonMethod, unseen: Spread, parameters: Int?), _ remark: String? = nil) -> String {
            let facts = ["\(percent(entry.unseen.median)) %"] + (entry.parameters.map { ["\(ReportFormat.count($0)) parameters"] } ?? [])
            return "\(entry.method.rawValue) (" + facts.joined(separator: ", ") + (remark.map { "; " + $0 } ?? "") + ")"
        }
        let methods = summary.settings.methods(for: name)
        var text = "**The paper's first claim on \(name)** (mixed setting, average unseen accuracy, median over seeds; "
            + "\(iapt.method.rawValue) \(percent(iapt.unseen.median)) %" + (iapt.parameters.map { " with \(ReportFormat.count($0)) parameters" } ?? "") + "). "
        let earlier = methods.filter { ["prompt", "ptuning2", "prefix"].contains($0.adapterMethod ?? "") }.compactMap(row)
        if earlier.isEmpty {
            text += "*IAPT beats the earlier prompt methods*: no result of theirs yet. "
        } else {
            let beaten = earlier.filter { order(iapt.unseen.median, $0.unseen.median) > 0 }
            let unbeaten = earlier.filter { order(iapt.unseen.median, $0.unseen.median) <= 0 }
            text += "*IAPT beats the earlier prompt methods*: "
                + (unbeaten.isEmpty ? "holds against every one compared: " + list(beaten.map { described($0) })
                   : beaten.isEmpty ? "does not hold against any compared: " + list(unbeaten.map { described($0) })
                   : "holds against " + list(beaten.map { described($0) }) + "; does not hold against " + list(unbeaten.map { described($0) })) + ". "
        }
        let loras = methods.filter { $0.adapterMethod == "lora" }.compactMap(row)
        if loras.isEmpty {
            text += "*IAPT is competitive with LoRA*: no LoRA result yet."
        } else {
            let verdicts = loras.map { lora -> String in
                let gap = iapt.unseen.median - lora.unseen.median
                let close = order(gap, -competitiveMargin) >= 0 || iapt.unseen.overlaps(lora.unseen)
                let remark = "IAPT \(ReportFormat.points(gap)) points" + (iapt.unseen.overlaps(lora.unseen) && iapt.unseen.count > 1 ? ", the ranges overlap" : "")
                return "\(close ? "holds" : "does not hold") against \(described(lora, remark))"
            }
            text += "*IAPT is competitive with LoRA* (within \(Int(100 * competitiveMargin)) points or with overlapping ranges over seeds): "
                + verdicts.joined(separator: "; ") + "."
        }
        let variants = methods.filter { $0.adapterMethod == ComparisonMethod.iapt.adapterMethod && $0 != .iapt }.compactMap(row)
        if let best = variants.max(by: { $0.unseen.median < $1.unseen.median }), order(best.unseen.median, iapt.unseen.median) > 0 {
            text += " IAPT's best variant here is \(described(best)), \(ReportFormat.points(best.unseen.median - iapt.unseen.median)) points above the method as specified."
        }
        return text
    }

    /// How IAPT's gaps (its average unseen accuracy minus each other method's, mixed setting) change from the
    /// smallest base to the largest, and by how much in whose favour.
    static func scale(_ summary: ComparisonSummary) -> String? {
        let bases = summary.manifest.bases.sorted { $0.parameterCount < $1.parameterCount }
        guard bases.count > 1, let small = bases.first, let large = bases.last else { return nil }
        func gap(_ base: BaseDescription, _ method: ComparisonMethod) -> Double? {
            guard let own = summary.summary(base: base.spec.name, setting: .mixed, method: .iapt).averageUnseen,
                  let other = summary.summary(base: base.spec.name, setting: .mixed, method: method).averageUnseen else { return nil }
            return own.median - other.median
        }
        let moves = summary.settings.methods.filter { $0 != .iapt }.compactMap { method -> String? in
            guard let before = gap(small, method), let after = gap(large, method) else { return nil }
            let change = String(format: "%.1f", abs(ReportFormat.tenthsOfAPoint(after) - ReportFormat.tenthsOfAPoint(before)) / 10)
            let direction = switch order(after, before) {
            case 1: "IAPT gains \(change)"
            case 0: "unchanged"
            default: "IAPT loses \(change)"
            }
            return "against \(method.rawValue) from \(ReportFormat.points(before)) to \(ReportFormat.points(after)) points (\(direction))"
        }
        guard !moves.isEmpty else { return nil }
        return "From \(small.spec.name) (\(ReportFormat.size(small.parameterCount)) parameters) to \(large.spec.name) "
            + "(\(ReportFormat.size(large.parameterCount))), IAPT's average unseen accuracy minus each other method's "
            + "(mixed setting) moves " + list(moves) + "."
    }

    /// The trained method whose median average accuracy drops most from seen to unseen wordings on the
    /// first base (mixed setting), with its final train loss.
    static func wordings(_ summary: ComparisonSummary) -> String? {
        guard let base = summary.settings.bases.first?.name else { return nil }
        let drops = summary.settings.methods(for: base).filter(\.isTrained).compactMap { method -> (ComparisonMethod, MethodSummary, Double)? in
            let row = summary.summary(base: base, setting: .mixed, method: method)
            guard let seen = row.averageSeen, let unseen = row.averageUnseen else { return nil }
            return (method, row, seen.median - unseen.median)
        }
        guard let (method, row, drop) = drops.max(by: { $0.2 < $1.2 }) else { return nil }
        guard drop > 0 else {
            return "No trained method's median average accuracy is lower on unseen than on seen wordings (mixed setting on \(base))."
        }
        let loss = row.finalTrainLoss.map { String(format: "; its median final train loss is %.3f", $0.median) } ?? ""
        return "The largest drop from seen to unseen wordings (mixed setting on \(base)) is \(method.rawValue)'s: "
            + "\(String(format: "%.1f", 100 * drop)) points, from \(percent(row.averageSeen?.median ?? 0)) % "
            + "to \(percent(row.averageUnseen?.median ?? 0)) %\(loss)."
    }

    private static func percent(_ value: Double) -> String { String(format: "%.1f", 100 * value) }

    /// `a`, `a and b`, `a, b and c`.
    private static func list(_ items: [String]) -> String {
        items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " and " + (items.last ?? "")
    }
}
