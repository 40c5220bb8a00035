import TaskSuite

/// The median and range of a value over seeds.
public struct Spread: Equatable, Sendable {
    /// The median (the mean of the middle two for an even count).
    public let median: Double
    /// The smallest and largest value.
    public let minimum: Double, maximum: Double
    /// How many values there were.
    public let count: Int

    /// The spread of `values`, or `nil` when there are none.
    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        minimum = sorted[0]
        maximum = sorted[sorted.count - 1]
        count = values.count
    }

    /// Whether the two ranges `minimum...maximum` share a value.
    public func overlaps(_ other: Spread) -> Bool { minimum <= other.maximum && other.minimum <= maximum }
}

/// One method's row of a table: one base and setting, over the seeds.
public struct MethodSummary: Sendable {
    /// The method.
    public let method: ComparisonMethod
    /// The learning rate its runs used (`nil` for the base model, or before the search has a result).
    public let learningRate: Float?
    /// Per task, the test-seen and test-unseen accuracy (fractions) over seeds.
    public let seen: [TaskKind: Spread], unseen: [TaskKind: Spread]
    /// The mean over tasks of the accuracy (fractions), over seeds; a seed counts only when every task
    /// has its result.
    public let averageSeen: Spread?, averageUnseen: Spread?
    /// The final training loss over seeds (per-task setting: the mean over the tasks' runs).
    public let finalTrainLoss: Spread?
    /// The step of the tested (best dev) point over seeds; `nil` for the base model or without results.
    public let bestStep: Spread?
    /// The trainable parameters of one adapter (0 for the base model); `nil` without results.
    public let trainableParameters: Int?
    /// How many seeds each value should have: ``ComparisonSettings/seedCount``, or 1 for the base model.
    public let plannedSeeds: Int
}

/// The stored results of a comparison, arranged for its tables: the learning-rate choices and, per
/// base, setting and method, the median and range over seeds.
public struct ComparisonSummary: Sendable {
    /// The settings and bases of the comparison.
    public let manifest: ComparisonManifest
    /// Each trained method's learning rate on each base (by base name), from the search runs.
    public let choices: [String: [ComparisonMethod: LearningRateChoice]]
    /// The results the tables use: those of planned runs (floor, search and final at the chosen rates).
    public let results: [RunResult]
    /// How many runs the whole comparison makes.
    public let plannedRunCount: Int
    private let byKey: [RunKey: RunResult]

    /// Arranges `results` (any stored ones; those outside the plan of `manifest` are left out).
    public init(manifest: ComparisonManifest, results: [RunResult]) {
        self.manifest = manifest
        let plan = ComparisonPlan(settings: manifest.settings)
        choices = LearningRateSelection.choose(settings: manifest.settings, results: results)
        var stored: [RunKey: RunResult] = [:]
        for result in results { stored[result.key] = result }
        let planned = Set(plan.allRuns(results: stored))
        self.results = results.filter { planned.contains($0.key) }
        plannedRunCount = plan.totalRunCount(results: stored)
        byKey = Dictionary(self.results.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The chosen runs of `method` on `base` (mixed setting, every seed found), in seed order.
    public func finalRuns(base: String, method: ComparisonMethod) -> [RunResult] {
        guard let rate = choices[base]?[method]?.learningRate else { return [] }
        return settings.seeds(for: base, method: method).compactMap { byKey[RunKey(base: base, method: method, setting: .mixed, seed: $0, learningRate: rate)] }
    }

    /// The settings of the comparison.
    public var settings: ComparisonSettings { manifest.settings }

    /// Planned runs without a result yet.
    public var missingRunCount: Int { plannedRunCount - results.count }

    /// The stored result of `key`, if it is a planned run.
    public func result(_ key: RunKey) -> RunResult? { byKey[key] }

    /// The row of `method` on `base` in `setting`. The base model's row in the per-task setting is its
    /// single evaluation per task (the same examples as a per-task adapter is evaluated on).
    public func summary(base: String, setting: ComparisonSetting, method: ComparisonMethod) -> MethodSummary {
        let tasks = settings.tasks
        // Per seed, the result of each task (one result serves every task in the mixed setting).
        var perSeed: [[TaskKind: RunResult]] = []
        var rate: Float?
        if method == .base {
            let floor = byKey[RunKey(base: base, method: .base, setting: .mixed, seed: 0, learningRate: nil)]
            perSeed = [floor.map { result in Dictionary(uniqueKeysWithValues: tasks.map { ($0, result) }) } ?? [:]]
        } else if let chosen = choices[base]?[method]?.learningRate {
            rate = chosen
            perSeed = settings.seeds(for: base, method: method).map { seed in
                var byTask: [TaskKind: RunResult] = [:]
                for task in tasks {
                    let key = setting == .mixed
                        ? RunKey(base: base, method: method, setting: .mixed, seed: seed, learningRate: chosen)
                        : RunKey(base: base, method: method, setting: .perTask, task: task, seed: seed, learningRate: chosen)
                    byTask[task] = byKey[key]
                }
                return byTask
            }
        }
        func spreads(_ split: TaskSplit) -> [TaskKind: Spread] {
            var result: [TaskKind: Spread] = [:]
            for task in tasks {
                result[task] = Spread(perSeed.compactMap { $0[task]?.accuracy(task, in: split) })
            }
            return result
        }
        /// Per seed with every task present, the mean over tasks of `value`.
        func averages(_ value: (TaskKind, RunResult) -> Double?) -> Spread? {
            Spread(perSeed.compactMap { byTask in
                let values = tasks.compactMap { task in byTask[task].flatMap { value(task, $0) } }
                return values.count == tasks.count ? values.reduce(0, +) / Double(values.count) : nil
            })
        }
        let loss = setting == .mixed || method == .base
            ? Spread(perSeed.compactMap { $0.values.first?.finalTrainLoss.map(Double.init) })
            : averages { _, result in result.finalTrainLoss.map(Double.init) }
        return MethodSummary(
            method: method, learningRate: rate, seen: spreads(.testSeen), unseen: spreads(.testUnseen),
            averageSeen: averages { task, result in result.accuracy(task, in: .testSeen) },
            averageUnseen: averages { task, result in result.accuracy(task, in: .testUnseen) },
            finalTrainLoss: loss, bestStep: Spread(perSeed.compactMap { $0.values.first?.bestStep.map(Double.init) }),
            trainableParameters: perSeed.lazy.compactMap { $0.values.first?.trainableParameters }.first,
            plannedSeeds: method == .base ? 1 : settings.seeds(for: base, method: method).count)
    }

    /// The bases of `setting` in table order: every base for the mixed setting, the per-task bases for
    /// the per-task setting.
    public func bases(in setting: ComparisonSetting) -> [BaseDescription] {
        manifest.bases.filter { setting == .mixed || settings.perTaskBases.contains($0.spec.name) }
    }

    /// Seconds spent in the planned runs, training and evaluating.
    public var runSeconds: (train: Double, evaluation: Double) {
        results.reduce((0, 0)) { ($0.0 + $1.trainSeconds, $0.1 + $1.evaluationSeconds) }
    }
}
