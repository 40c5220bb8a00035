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
/// 2. **Search**: every trained method at every learning rate of the grid, mixed setting, seed 0, on
///    the first base. ``LearningRateSelection`` then picks one rate per method from their dev accuracy.
/// 3. **Final**: every trained method at its chosen rate, on every base and seed, in the mixed setting,
///    then in the per-task setting (every task) on the per-task bases. The seed-0 mixed run on the first
///    base at the chosen rate has the same key as its search run: it is that run, not trained again.
public struct ComparisonPlan: Sendable {
    /// The settings planned from.
    public let settings: ComparisonSettings

    /// The plan of `settings` (assumed valid, see ``ComparisonSettings/validate()``).
    public init(settings: ComparisonSettings) {
        self.settings = settings
    }

    /// The base model's evaluation on every base (none when ``ComparisonMethod/base`` is not compared).
    public var floorRuns: [RunKey] {
        guard settings.methods.contains(.base) else { return [] }
        return settings.bases.map { RunKey(base: $0.name, method: .base, setting: .mixed, seed: 0, learningRate: nil) }
    }

    /// The learning-rate search: each trained method at each rate, mixed, seed 0, first base.
    public var searchRuns: [RunKey] {
        guard let base = settings.searchBase else { return [] }
        return settings.methods.filter(\.isTrained).flatMap { method in
            settings.learningRates.map { RunKey(base: base.name, method: method, setting: .mixed, seed: 0, learningRate: $0) }
        }
    }

    /// Every trained method that has a chosen rate in `chosen`, on every base and seed, mixed and (on
    /// the per-task bases) per task. Includes the search runs it reuses (same keys).
    public func finalRuns(chosen: [ComparisonMethod: Float]) -> [RunKey] {
        let methods = settings.methods.filter(\.isTrained)
        var runs: [RunKey] = []
        for base in settings.bases {
            for method in methods {
                guard let rate = chosen[method] else { continue }
                runs += settings.seeds.map { RunKey(base: base.name, method: method, setting: .mixed, seed: $0, learningRate: rate) }
            }
        }
        for base in settings.bases where settings.perTaskBases.contains(base.name) {
            for method in methods {
                guard let rate = chosen[method] else { continue }
                for task in settings.tasks {
                    runs += settings.seeds.map {
                        RunKey(base: base.name, method: method, setting: .perTask, task: task, seed: $0, learningRate: rate)
                    }
                }
            }
        }
        return runs
    }

    /// Floor, search and final runs without repeats, in that order.
    public func allRuns(chosen: [ComparisonMethod: Float]) -> [RunKey] {
        var seen = Set<RunKey>()
        return (floorRuns + searchRuns + finalRuns(chosen: chosen)).filter { seen.insert($0).inserted }
    }

    /// How many distinct runs the whole comparison makes once every trained method has a rate
    /// (which rate does not change the count).
    public var totalRunCount: Int {
        let anyRate = settings.learningRates.first ?? 1
        return allRuns(chosen: Dictionary(uniqueKeysWithValues: settings.methods.filter(\.isTrained).map { ($0, anyRate) })).count
    }
}
