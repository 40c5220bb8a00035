import TaskSuite

/// How adapters are trained on the suite.
public enum ComparisonSetting: String, Codable, CaseIterable, Sendable {
    /// One adapter trained on every task mixed, evaluated on every task.
    case mixed
    /// One adapter per task, trained and evaluated on that task only.
    case perTask = "per-task"
}

/// One run: a method trained (or, for ``ComparisonMethod/base``, only evaluated) on one base in one
/// setting with one seed and peak learning rate.
public struct RunKey: Codable, Hashable, Sendable, CustomStringConvertible {
    /// The base's name.
    public var base: String
    /// The method.
    public var method: ComparisonMethod
    /// The setting.
    public var setting: ComparisonSetting
    /// The task trained on in the per-task setting; `nil` in the mixed setting.
    public var task: TaskKind?
    /// Seeds the adapter's initialisation and the order of the training examples.
    public var seed: Int
    /// The peak learning rate; `nil` for the untrained ``ComparisonMethod/base``.
    public var learningRate: Float?

    /// A run with the given values; see each property for its meaning.
    public init(base: String, method: ComparisonMethod, setting: ComparisonSetting, task: TaskKind? = nil, seed: Int, learningRate: Float?) {
        self.base = base
        self.method = method
        self.setting = setting
        self.task = task
        self.seed = seed
        self.learningRate = learningRate
    }

    /// The run's file name in the work directory:
    /// `<base>/<setting>/<method>/<task or all>-seed<seed>-lr<rate or none>.json`.
    public var relativePath: String {
        "\(base)/\(setting.rawValue)/\(method.rawValue)/\(task?.rawValue ?? "all")-seed\(seed)-lr\(learningRate.map { "\($0)" } ?? "none").json"
    }

    /// `method setting[ task] seed N lr X on base`, for progress lines.
    public var description: String {
        "\(method.rawValue) \(setting.rawValue)\(task.map { " \($0.rawValue)" } ?? "") seed \(seed) lr \(learningRate.map { "\($0)" } ?? "—") on \(base)"
    }
}

/// The runs of a comparison, in the order they are made.
///
/// 1. **Floor**: the untrained base model, evaluated once per base (greedy decoding does not depend on a
///    seed, and per task it is the same evaluation, so this one run serves both settings).
/// 2. **Search**, base by base: every trained method at every learning rate of the base's grid, mixed
///    setting, seed 0, grown at an edge where the best rate sits on it (``LearningRateSelection``), which
///    then picks one rate per method and base.
/// 3. **Final**: every trained method at its chosen rate on that base with the other seeds, mixed, then
///    per task (every task, every seed) on the per-task bases. The seed-0 mixed run at the chosen rate
///    has the same key as its search run: it is that run, not trained again.
public struct ComparisonPlan: Sendable {
    /// The settings planned from.
    public let settings: ComparisonSettings

    /// The plan of `settings` (assumed valid, see ``ComparisonSettings/validate()``).
    public init(settings: ComparisonSettings) {
        self.settings = settings
    }

    /// The base model's evaluation on every base (none when ``ComparisonMethod/base`` is not compared).
    public var floorRuns: [RunKey] {
        settings.bases.filter { settings.methods(for: $0.name).contains(.base) }
            .map { RunKey(base: $0.name, method: .base, setting: .mixed, seed: 0, learningRate: nil) }
    }

    /// The learning-rate search on `base` as far as `results` decide it: each trained method at each
    /// rate its search needs (``LearningRateSelection/searchRates(settings:base:method:results:)``), method
    /// by method, rates increasing.
    public func searchRuns(base: String, results: [RunKey: RunResult]) -> [RunKey] {
        settings.methods(for: base).filter(\.isTrained).flatMap { method in
            LearningRateSelection.searchRates(settings: settings, base: base, method: method, results: results).map {
                LearningRateSelection.searchKey(base, method, $0)
            }
        }
    }

    /// Every trained method of `base` that has a chosen rate in `chosen`, on each of its seeds
    /// (``ComparisonSettings/seeds(for:method:)``), mixed and (on a per-task base) per task. Includes
    /// the search runs it reuses (same keys).
    public func finalRuns(base: String, chosen: [ComparisonMethod: Float]) -> [RunKey] {
        let methods = settings.methods(for: base).filter(\.isTrained)
        var runs: [RunKey] = []
        for method in methods {
            guard let rate = chosen[method] else { continue }
            runs += settings.seeds(for: base, method: method).map { RunKey(base: base, method: method, setting: .mixed, seed: $0, learningRate: rate) }
        }
        if settings.perTaskBases.contains(base) {
            for method in methods {
                guard let rate = chosen[method] else { continue }
                for task in settings.tasks {
                    runs += settings.seeds(for: base, method: method).map {
                        RunKey(base: base, method: method, setting: .perTask, task: task, seed: $0, learningRate: rate)
                    }
                }
            }
        }
        return runs
    }

    /// Floor, search and final runs as far as `results` decide them, without repeats, in that order.
    public func allRuns(results: [RunKey: RunResult]) -> [RunKey] {
        let choices = LearningRateSelection.choose(settings: settings, results: Array(results.values))
        var seen = Set<RunKey>()
        var runs = floorRuns
        for base in settings.bases {
            runs += searchRuns(base: base.name, results: results)
            runs += finalRuns(base: base.name, chosen: (choices[base.name] ?? [:]).mapValues(\.learningRate))
        }
        return runs.filter { seen.insert($0).inserted }
    }

    /// How many distinct runs the whole comparison makes, as far as `results` decide the search (an
    /// edge extension the results do not yet call for is not counted; which rate wins does not change
    /// the count).
    public func totalRunCount(results: [RunKey: RunResult]) -> Int {
        floorRuns.count + settings.bases.reduce(0) { count, base in
            let seeds = settings.methods(for: base.name).filter(\.isTrained).map { settings.seeds(for: base.name, method: $0).count }
            let perTask = settings.perTaskBases.contains(base.name) ? settings.tasks.count * seeds.reduce(0, +) : 0
            return count + searchRuns(base: base.name, results: results).count + seeds.reduce(0) { $0 + $1 - 1 } + perTask
        }
    }
}
