/// One method's learning rate, chosen from its search runs.
public struct LearningRateChoice: Equatable, Sendable {
    /// The method.
    public var method: ComparisonMethod
    /// The chosen peak learning rate.
    public var learningRate: Float
    /// The method's search runs found, in grid order.
    public var candidates: [RunResult]
    /// Whether every rate of the grid had a run (otherwise the choice is provisional).
    public var isComplete: Bool
}

/// Picks each trained method's learning rate from the search runs (mixed setting, seed 0, first base).
///
/// The rule, the same for every method: the highest dev exact-match accuracy; on a tie, the lower mean
/// dev loss; then the smaller rate. A run whose loss stopped being finite ranks below every run that
/// did not.
public enum LearningRateSelection {
    /// The rule in words, for the report.
    public static let rule = "highest dev exact-match accuracy; ties go to the lower mean dev loss, then to the smaller rate; "
        + "a run whose training loss stopped being finite ranks below every run whose loss did not"

    /// The choice of every trained method of `settings` that has at least one search run in `results`.
    public static func choose(settings: ComparisonSettings, results: [RunResult]) -> [ComparisonMethod: LearningRateChoice] {
        guard let base = settings.searchBase else { return [:] }
        var byKey: [RunKey: RunResult] = [:]
        for result in results { byKey[result.key] = result }
        var choices: [ComparisonMethod: LearningRateChoice] = [:]
        for method in settings.methods where method.isTrained {
            let candidates = settings.learningRates.compactMap {
                byKey[RunKey(base: base.name, method: method, setting: .mixed, seed: 0, learningRate: $0)]
            }
            guard let best = candidates.min(by: ranksBefore) , let rate = best.key.learningRate else { continue }
            choices[method] = LearningRateChoice(
                method: method, learningRate: rate, candidates: candidates, isComplete: candidates.count == settings.learningRates.count)
        }
        return choices
    }

    /// Whether search run `first` is preferred to `second` under ``rule``.
    static func ranksBefore(_ first: RunResult, _ second: RunResult) -> Bool {
        let (firstDiverged, secondDiverged) = (first.divergedAtStep != nil, second.divergedAtStep != nil)
        if firstDiverged != secondDiverged { return secondDiverged }
        if first.dev.accuracy != second.dev.accuracy { return first.dev.accuracy > second.dev.accuracy }
        let (firstLoss, secondLoss) = (finite(first.devLoss), finite(second.devLoss))
        if firstLoss != secondLoss { return firstLoss < secondLoss }
        return (first.key.learningRate ?? 0) < (second.key.learningRate ?? 0)
    }

    private static func finite(_ loss: Float?) -> Float {
        guard let loss, loss.isFinite else { return .infinity }
        return loss
    }
}
