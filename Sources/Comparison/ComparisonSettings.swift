import Foundation
import PEFT
import TaskSuite

/// A base model of the comparison: a name for the tables and file names, and a Hugging Face folder.
public struct BaseSpec: Codable, Equatable, Hashable, Sendable {
    /// The name used in tables and in the work directory's file names (letters, digits, `.`, `_`, `-`).
    public var name: String
    /// The folder with `config.json`, `model.safetensors` (or shards) and `tokenizer.json`, or a
    /// `.gguf` file.
    public var path: String
    /// This base's own learning-rate grid, or `nil` for ``ComparisonSettings/learningRates`` (a large
    /// base whose runs take long may start from a narrower grid: edges still extend it).
    public var learningRates: [Float]?
    /// This base's own cap on a mixed run's steps, or `nil` for ``ComparisonSettings/mixedSteps`` (a
    /// large base whose steps are slow; its learning curves say whether the cap is enough).
    public var mixedSteps: Int?
    /// Examples per forward and backward pass in this base's runs, the step's examples first ordered
    /// by length (``TrainingOptions/groupsByLength``), or `nil` for the whole step in one pass. It
    /// changes how long a step takes, not what it computes: the step's gradient is the same sum
    /// (up to float rounding), so it is not part of the recipe, and each run records it
    /// (``RunResult/microBatch``). Such runs keep one copy of the frozen weights
    /// (``TrainingMemory/fastest``). Divides ``ComparisonSettings/batchSize``.
    public var microBatch: Int?
    /// The rows compared on this base, or `nil` for every method of the comparison (a large base may
    /// run fewer). Once a session has given the list, later ones add to it (see ``adding(_:)``).
    public var methods: [ComparisonMethod]?
    /// The methods that run every seed on this base, or `nil` for all of its methods; the others run
    /// seed 0 only (their search run). Kept across sessions as ``methods`` is.
    public var seededMethods: [ComparisonMethod]?

    /// A base called `name` in the folder at `path`.
    public init(
        name: String, path: String, learningRates: [Float]? = nil, mixedSteps: Int? = nil, microBatch: Int? = nil,
        methods: [ComparisonMethod]? = nil, seededMethods: [ComparisonMethod]? = nil
    ) {
        self.name = name
        self.path = path
        self.learningRates = learningRates
        self.mixedSteps = mixedSteps
        self.microBatch = microBatch
        self.methods = methods
        self.seededMethods = seededMethods
    }

    /// This base with `earlier`'s rows and seeded methods kept: a list this session does not give is
    /// `earlier`'s, a list given over none replaces "every method", and two lists are joined. So a
    /// session that names fewer methods never drops rows, and only an explicit list narrows a base
    /// (its other rows' runs then stay in the work directory, out of the report).
    func adding(_ earlier: BaseSpec) -> BaseSpec {
        func union(_ mine: [ComparisonMethod]?, _ theirs: [ComparisonMethod]?) -> [ComparisonMethod]? {
            guard let mine else { return theirs }
            guard let theirs else { return mine }
            let both = Set(mine + theirs)
            return ComparisonMethod.catalogue.filter(both.contains)
        }
        var merged = self
        merged.methods = union(methods, earlier.methods)
        merged.seededMethods = union(seededMethods, earlier.seededMethods)
        return merged
    }

    /// Parses `NAME=PATH`, as `--base` takes it.
    /// - Throws: ``ComparisonError/invalidOption(option:reason:)`` if there is no `=`, the path is
    ///   empty or the name has characters other than letters, digits, `.`, `_` and `-`.
    public init(parsing text: String) throws {
        guard let equals = text.firstIndex(of: "=") else {
            throw ComparisonError.invalidOption(option: "--base", reason: "'\(text)' is not NAME=PATH")
        }
        self.init(name: String(text[..<equals]), path: String(text[text.index(after: equals)...]))
        try validate()
    }

    func validate() throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        guard !name.isEmpty, name.allSatisfy(allowed.contains), name != ".", name != ".." else {
            throw ComparisonError.invalidOption(
                option: "--base", reason: "the name '\(name)' must be letters, digits, '.', '_' or '-' (it names files)")
        }
        guard !path.isEmpty else { throw ComparisonError.invalidOption(option: "--base", reason: "base '\(name)' has an empty path") }
    }
}

/// Everything that decides what a comparison runs: the bases, methods, tasks, data sizes, the
/// training recipe, the learning-rate grid and the seeds.
///
/// The recipe is fixed apart from these settings: AdamW (β = 0.9, 0.999, ε = 1e-8, no weight decay),
/// linear warm-up over ``warmupFraction`` of the steps then linear decay to 0, gradients clipped to
/// global norm 1, the compact ``template``, BOS before the prompt and EOS after the answer.
public struct ComparisonSettings: Codable, Equatable, Sendable {
    /// The base models, in the order of the tables; the first one hosts the learning-rate search.
    public var bases: [BaseSpec]
    /// The names of the bases that also run the per-task setting (six trainings per method and seed).
    public var perTaskBases: [String]
    /// The methods compared, in table order (``ComparisonMethod/catalogue`` by default).
    public var methods: [ComparisonMethod]
    /// The tasks of the suite used (all six by default).
    public var tasks: [TaskKind]
    /// Examples per task in each split.
    public var sizes: SplitSizes
    /// The task suite's seed; fixed for every run (run seeds change only initialisation and order).
    public var dataSeed: UInt64
    /// Optimizer steps of a mixed-setting run: the cap, which the learning-rate schedule decays over;
    /// a run ends earlier when ``patience`` runs out.
    public var mixedSteps: Int
    /// Optimizer steps of each per-task run (the cap, as ``mixedSteps``).
    public var perTaskSteps: Int
    /// Steps between two dev evaluations (greedy exact match and mean loss on the dev split): the
    /// learning curve's points. The run's test accuracies are those of its best dev point.
    public var evaluateEvery: Int
    /// Dev evaluations without a better dev point after which a run stops; `nil` runs to the cap.
    public var patience: Int?
    /// Examples per optimizer step.
    public var batchSize: Int
    /// The fraction of the steps spent warming up (rounded up to whole steps).
    public var warmupFraction: Float
    /// The peak learning rates searched, for every trained method alike (a base may have its own,
    /// ``BaseSpec/learningRates``).
    public var learningRates: [Float]
    /// How many half-decade steps a base's grid may grow beyond each of its edges for a method whose
    /// best rate sits on that edge (see ``LearningRateSelection``). A work directory keeps the largest
    /// value any of its sessions used, so a rate searched once stays a candidate.
    public var gridExtensions: Int
    /// The number of seeds: runs use seeds `0..<seedCount`.
    public var seedCount: Int
    /// Prompts per generation batch when evaluating.
    public var evaluationBatchSize: Int

    /// The defaults of `peft compare`: the bundled base, every method and task, 300 train, 40 dev
    /// and 40 + 40 test examples per task, mixed runs of at most 1,500 steps of 16 examples with a
    /// dev evaluation every 100 and a patience of 5, 5 % warm-up, the half-decade grid
    /// ``halfDecadeGrid`` extended by up to 2 steps at each edge, three seeds, no per-task setting.
    public init(
        bases: [BaseSpec] = [BaseSpec(name: "bundled", path: "Examples/BundledBase")], perTaskBases: [String] = [],
        methods: [ComparisonMethod] = ComparisonMethod.catalogue, tasks: [TaskKind] = TaskKind.allCases,
        sizes: SplitSizes = SplitSizes(train: 300, dev: 40, testSeen: 40, testUnseen: 40), dataSeed: UInt64 = 0,
        mixedSteps: Int = 1500, perTaskSteps: Int = 200, evaluateEvery: Int = 100, patience: Int? = 5, batchSize: Int = 16,
        warmupFraction: Float = 0.05, learningRates: [Float] = ComparisonSettings.halfDecadeGrid, gridExtensions: Int = 2,
        seedCount: Int = 3, evaluationBatchSize: Int = 32
    ) {
        self.bases = bases
        self.perTaskBases = perTaskBases
        self.methods = methods
        self.tasks = tasks
        self.sizes = sizes
        self.dataSeed = dataSeed
        self.mixedSteps = mixedSteps
        self.perTaskSteps = perTaskSteps
        self.evaluateEvery = evaluateEvery
        self.patience = patience
        self.batchSize = batchSize
        self.warmupFraction = warmupFraction
        self.learningRates = learningRates
        self.gridExtensions = gridExtensions
        self.seedCount = seedCount
        self.evaluationBatchSize = evaluationBatchSize
    }

    /// The prompt of every run on every base: ``PromptTemplate/compact``, `{instruction} {input}
    /// Answer:` with the answer after a space, chosen once for all bases (the bundled base never saw
    /// line breaks; SmolLM2 reads it as well as its chat template, and one format keeps the bases
    /// comparable).
    public static let template = PromptTemplate.compact
    /// The global gradient norm gradients are clipped to.
    public static let maxGradientNorm: Float = 1

    /// The most optimizer steps a run may be given.
    public static let maximumSteps = 100_000

    /// 1e-4, 3e-4, 1e-3, …, 3e-1: half-decade steps (see ``LearningRateLadder``).
    public static let halfDecadeGrid: [Float] = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1]

    /// The base called `name`, if there is one.
    func spec(_ name: String) -> BaseSpec? {
        bases.first { $0.name == name }
    }

    /// The grid searched on `base` before any extension: its own, or ``learningRates``.
    public func grid(for base: String) -> [Float] {
        spec(base)?.learningRates ?? learningRates
    }

    /// The seeds of every run: `0..<seedCount`.
    public var seeds: [Int] { Array(0..<seedCount) }

    /// The steps of a run in `setting`.
    public func steps(for setting: ComparisonSetting) -> Int {
        setting == .mixed ? mixedSteps : perTaskSteps
    }

    /// The methods compared on `base`, in table order: ``methods``, narrowed to the base's own rows
    /// (``BaseSpec/methods``) where it has them.
    public func methods(for base: String) -> [ComparisonMethod] {
        guard let own = spec(base)?.methods else { return methods }
        return methods.filter(own.contains)
    }

    /// The seeds `method` runs with on `base`: every seed (``seeds``), or only seed 0 where the base
    /// runs the other seeds for some methods only (``BaseSpec/seededMethods``) and `method` is not one.
    public func seeds(for base: String, method: ComparisonMethod) -> [Int] {
        guard let seeded = spec(base)?.seededMethods, !seeded.contains(method) else { return seeds }
        return [0]
    }

    /// Examples per forward and backward pass on `base` (``BaseSpec/microBatch``); `nil` for the
    /// whole step at once.
    public func microBatch(for base: String) -> Int? {
        spec(base)?.microBatch
    }

    /// The steps of a run in `setting` on `base`: the base's own cap when it has one.
    public func steps(for setting: ComparisonSetting, base: String) -> Int {
        setting == .mixed ? spec(base)?.mixedSteps ?? mixedSteps : perTaskSteps
    }

    /// Checks every setting, naming the command's option in the error.
    /// - Throws: ``ComparisonError/invalidOption(option:reason:)`` for the first setting out of range.
    public func validate() throws {
        func require(_ condition: Bool, _ option: String, _ reason: @autoclosure () -> String) throws {
            if !condition { throw ComparisonError.invalidOption(option: option, reason: reason()) }
        }
        try require(!bases.isEmpty, "--base", "at least one base is needed")
        for base in bases { try base.validate() }
        let names = bases.map(\.name)
        try require(Set(names).count == names.count, "--base", "base names must differ, got \(names)")
        for name in perTaskBases {
            try require(names.contains(name), "--per-task-bases", "'\(name)' is not a base (\(names.joined(separator: ", ")))")
        }
        try require(!methods.isEmpty, "--methods", "at least one method is needed")
        try require(Set(methods).count == methods.count, "--methods", "a method is listed twice")
        try require(!tasks.isEmpty, "--tasks", "at least one task is needed")
        try require(Set(tasks).count == tasks.count, "--tasks", "a task is listed twice")
        for (option, size) in [("--train-size", sizes.train), ("--dev-size", sizes.dev),
                               ("--test-seen-size", sizes.testSeen), ("--test-unseen-size", sizes.testUnseen)] {
            try require((1...TaskSuite.maximumCount).contains(size), option, "must be in 1...\(TaskSuite.maximumCount), got \(size)")
        }
        try require(mixedSteps >= 1, "--mixed-steps", "must be at least 1, got \(mixedSteps)")
        try require(perTaskSteps >= 1, "--per-task-steps", "must be at least 1, got \(perTaskSteps)")
        try require(mixedSteps <= Self.maximumSteps && perTaskSteps <= Self.maximumSteps, "--mixed-steps",
                    "runs are capped at \(Self.maximumSteps) steps")
        for base in bases {
            if let steps = base.mixedSteps {
                try require((1...Self.maximumSteps).contains(steps), "--base-steps \(base.name)", "must be in 1...\(Self.maximumSteps), got \(steps)")
            }
        }
        try require(evaluateEvery >= 1, "--evaluate-every", "must be at least 1, got \(evaluateEvery)")
        try require(patience.map { $0 >= 1 } ?? true, "--patience", "must be at least 1 (or 'none'), got \(patience ?? 0)")
        try require((0...8).contains(gridExtensions), "--grid-extensions", "must be in 0...8, got \(gridExtensions)")
        try require((1...1024).contains(batchSize), "--batch-size", "must be in 1...1024, got \(batchSize)")
        for base in bases {
            for (option, list) in [("--base-methods", base.methods), ("--base-seeded-methods", base.seededMethods)] {
                guard let list else { continue }
                try require(!list.isEmpty, "\(option) \(base.name)", "at least one method is needed")
                try require(Set(list).count == list.count, "\(option) \(base.name)", "a method is listed twice")
            }
            if let rows = base.methods, let seeded = base.seededMethods {
                let strays = seeded.filter { !rows.contains($0) }
                try require(strays.isEmpty, "--base-seeded-methods \(base.name)",
                            "\(strays.map(\.rawValue).joined(separator: ", ")) not among the base's methods")
            }
            if let rows = base.microBatch {
                try require(rows >= 1 && rows <= batchSize && batchSize % rows == 0, "--base-micro-batch \(base.name)",
                            "must divide --batch-size \(batchSize), got \(rows)")
            }
        }
        try require(warmupFraction >= 0 && warmupFraction < 1, "--warmup", "must be in [0, 1), got \(warmupFraction)")
        try require(!learningRates.isEmpty, "--learning-rates", "at least one learning rate is needed")
        for (option, grid) in [("--learning-rates", learningRates)] + bases.compactMap({ base in base.learningRates.map { ("--base-grid \(base.name)", $0) } }) {
            try require(!grid.isEmpty, option, "at least one learning rate is needed")
            try require(grid.allSatisfy { LearningRateLadder.range.contains($0) }, option,
                        "rates must be in \(LearningRateLadder.range.lowerBound)...\(LearningRateLadder.range.upperBound), got \(grid)")
            try require(Set(grid).count == grid.count, option, "a learning rate is listed twice")
        }
        try require((1...100).contains(seedCount), "--seeds", "must be in 1...100, got \(seedCount)")
        try require((1...1024).contains(evaluationBatchSize), "--eval-batch-size", "must be in 1...1024, got \(evaluationBatchSize)")
    }

    /// The settings that shape every run's result, by name: runs made with other values are not
    /// comparable, so a work directory holds runs of one recipe only.
    var recipe: [(name: String, value: String)] {
        [("tasks", tasks.map(\.rawValue).joined(separator: ",")),
         ("sizes", "\(sizes.train)/\(sizes.dev)/\(sizes.testSeen)/\(sizes.testUnseen)"), ("data seed", "\(dataSeed)"),
         ("mixed steps", "\(mixedSteps)"), ("per-task steps", "\(perTaskSteps)"), ("batch size", "\(batchSize)"),
         ("warm-up", "\(warmupFraction)"), ("evaluate every", "\(evaluateEvery)"), ("patience", patience.map(String.init) ?? "none")]
    }

    /// `earlier` with this session's bases (replacing those of the same name, their rows and seeded
    /// methods added to the earlier ones'; the others appended),
    /// methods and per-task bases added, and the larger seed count and grid extension: what the work directory holds
    /// after this session. The recipe is this session's (checked equal beforehand).
    func merged(into earlier: ComparisonSettings) -> ComparisonSettings {
        var merged = self
        merged.bases = earlier.bases.map { old in bases.first { $0.name == old.name }?.adding(old) ?? old }
            + bases.filter { new in !earlier.bases.contains { $0.name == new.name } }
        let methodSet = Set(earlier.methods + methods)
        merged.methods = ComparisonMethod.catalogue.filter(methodSet.contains)
        merged.perTaskBases = earlier.perTaskBases + perTaskBases.filter { !earlier.perTaskBases.contains($0) }
        merged.seedCount = max(earlier.seedCount, seedCount)
        merged.gridExtensions = max(earlier.gridExtensions, gridExtensions)
        return merged
    }

    /// How `other`'s recipe differs from this one, as `name: this → other`; empty when it is the same.
    func recipeDifferences(to other: ComparisonSettings) -> [String] {
        zip(recipe, other.recipe).compactMap { mine, theirs in
            mine.value == theirs.value ? nil : "\(mine.name): \(mine.value) → \(theirs.value)"
        }
    }
}
