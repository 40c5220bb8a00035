import Foundation

/// Learning rates on a half-decade ladder: …, 1e-4, 3e-4, 1e-3, 3e-3, … (1 and 3 times a power of
/// ten), the steps a grid grows by at its edges.
public enum LearningRateLadder {
    /// The rates a grid may hold or grow to.
    public static let range: ClosedRange<Float> = 1e-7...10

    /// The next rate up the ladder from `rate` (`1e-3` → `3e-3` → `1e-2`); a rate between rungs goes
    /// to the rung above it. `nil` above ``range``.
    public static func above(_ rate: Float) -> Float? {
        rungs.first { $0 > rate * (1 + 1e-4) }
    }

    /// The next rate down the ladder from `rate`; `nil` below ``range``.
    public static func below(_ rate: Float) -> Float? {
        rungs.last { $0 < rate * (1 - 1e-4) }
    }

    /// 1e-7, 3e-7, …, 3, 10, as the `Float` nearest each decimal.
    static let rungs: [Float] = (-7...1).flatMap { exponent -> [Float] in
        [Float("1e\(exponent)")!, Float("3e\(exponent)")!]
    }.filter { range.contains($0) }
}

/// One method's learning rate on one base, chosen from its search runs.
public struct LearningRateChoice: Equatable, Sendable {
    /// The base the runs were on.
    public var base: String
    /// The method.
    public var method: ComparisonMethod
    /// The chosen peak learning rate.
    public var learningRate: Float
    /// The method's search runs found, by rate.
    public var candidates: [RunResult]
    /// The rates still to run before the choice is final: of the grid, or of an edge's extension.
    public var pendingRates: [Float]

    /// Whether every rate the rule needs has its run (otherwise the choice is provisional).
    public var isComplete: Bool { pendingRates.isEmpty }

    /// Whether the search is finished and its chosen rate is still the highest or lowest rate it ran:
    /// the grid grew there as far as ``ComparisonSettings/gridExtensions`` allows, so a rate beyond
    /// it is untried.
    public var isAtSearchEdge: Bool {
        let rates = candidates.compactMap(\.key.learningRate)
        return isComplete && rates.count > 1 && (learningRate == rates.max() || learningRate == rates.min())
    }
}

/// Picks each trained method's learning rate on each base from its search runs (mixed setting, seed 0).
///
/// The rule, the same for every method: the highest dev exact-match accuracy at the run's best dev
/// point; on a tie, the lower mean dev loss there; then the smaller rate. A run whose loss stopped being
/// finite ranks below every run that did not. When the best rate is the grid's highest (lowest), the
/// next half-decade rate above (below) is run too, up to ``ComparisonSettings/gridExtensions`` times
/// at each edge, so that no method's rate is only the edge of a grid chosen for the others.
public enum LearningRateSelection {
    /// The rule in words, for the report.
    public static let rule = "highest dev exact-match accuracy at the run's best dev point; ties go to the lower mean dev loss there, "
        + "then to the smaller rate; a run whose training loss stopped being finite ranks below every run whose loss did not"

    /// The rates `method`'s search on `base` needs given the results so far: the base's grid, plus one
    /// half-decade step beyond an edge for every extension the results call for, in increasing order.
    public static func searchRates(
        settings: ComparisonSettings, base: String, method: ComparisonMethod, results: [RunKey: RunResult]
    ) -> [Float] {
        var rates = settings.grid(for: base).sorted()
        var grown = (below: 0, above: 0)
        while true {
            let candidates = rates.compactMap { results[searchKey(base, method, $0)] }
            guard candidates.count == rates.count, let best = candidates.min(by: ranksBefore),
                  let rate = best.key.learningRate else { return rates }
            if rate == rates.last, grown.above < settings.gridExtensions, let next = LearningRateLadder.above(rate) {
                rates.append(next)
                grown.above += 1
            } else if rate == rates.first, grown.below < settings.gridExtensions, let next = LearningRateLadder.below(rate) {
                rates.insert(next, at: 0)
                grown.below += 1
            } else {
                return rates
            }
        }
    }

    /// The search run of `method` on `base` at `rate`: mixed setting, seed 0.
    public static func searchKey(_ base: String, _ method: ComparisonMethod, _ rate: Float) -> RunKey {
        RunKey(base: base, method: method, setting: .mixed, seed: 0, learningRate: rate)
    }

    /// The choice of every trained method on every base of `settings` that has at least one search
    /// run in `results`, by base name then method.
    public static func choose(settings: ComparisonSettings, results: [RunResult]) -> [String: [ComparisonMethod: LearningRateChoice]] {
        var byKey: [RunKey: RunResult] = [:]
        for result in results { byKey[result.key] = result }
        var choices: [String: [ComparisonMethod: LearningRateChoice]] = [:]
        for base in settings.bases {
            for method in settings.methods(for: base.name) where method.isTrained {
                let rates = searchRates(settings: settings, base: base.name, method: method, results: byKey)
                let candidates = rates.compactMap { byKey[searchKey(base.name, method, $0)] }
                guard let best = candidates.min(by: ranksBefore), let rate = best.key.learningRate else { continue }
                choices[base.name, default: [:]][method] = LearningRateChoice(
                    base: base.name, method: method, learningRate: rate, candidates: candidates,
                    pendingRates: rates.filter { byKey[searchKey(base.name, method, $0)] == nil })
            }
        }
        return choices
    }

    /// Whether search run `first` is preferred to `second` under ``rule``.
    static func ranksBefore(_ first: RunResult, _ second: RunResult) -> Bool {
        let (firstDiverged, secondDiverged) = (first.divergedAtStep != nil, second.divergedAtStep != nil)
        if firstDiverged != secondDiverged { return secondDiverged }
        if let preferred = prefers(first.dev, first.devLoss, over: second.dev, second.devLoss) { return preferred }
        return (first.key.learningRate ?? 0) < (second.key.learningRate ?? 0)
    }

    /// Whether a dev result (`score`, `loss`) is preferred to another: higher exact match, then lower
    /// loss (a non-finite or missing loss counts as infinite); `nil` on a full tie. The order of both
    /// the learning-rate search and a run's best dev point.
    static func prefers(_ score: Score, _ loss: Float?, over otherScore: Score, _ otherLoss: Float?) -> Bool? {
        if score.accuracy != otherScore.accuracy { return score.accuracy > otherScore.accuracy }
        let (mine, theirs) = (finite(loss), finite(otherLoss))
        return mine == theirs ? nil : mine < theirs
    }

    static func finite(_ loss: Float?) -> Float {
        guard let loss, loss.isFinite else { return .infinity }
        return loss
    }
}
