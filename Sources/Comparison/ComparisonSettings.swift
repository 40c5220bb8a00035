import Foundation
import PEFT
import TaskSuite

/// A base model of the comparison: a name for the tables and file names, and a Hugging Face folder.
public struct BaseSpec: Codable, Equatable, Hashable, Sendable {
    /// The name used in tables and in the work directory's file names (letters, digits, `.`, `_`, `-`).
    public var name: String
    /// The folder with `config.json`, `model.safetensors` (or shards) and `tokenizer.json`.
    public var path: String

    /// A base called `name` in the folder at `path`.
    public init(name: String, path: String) {
        self.name = name
        self.path = path
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
    /// The methods compared, in table order.
    public var methods: [ComparisonMethod]
    /// The tasks of the suite used (all six by default).
    public var tasks: [TaskKind]
    /// Examples per task in each split.
    public var sizes: SplitSizes
    /// The task suite's seed; fixed for every run (run seeds change only initialisation and order).
    public var dataSeed: UInt64
    /// Optimizer steps of a mixed-setting run.
    public var mixedSteps: Int
    /// Optimizer steps of each per-task run.
    public var perTaskSteps: Int
    /// Examples per optimizer step.
    public var batchSize: Int
    /// The fraction of the steps spent warming up (rounded up to whole steps).
    public var warmupFraction: Float
    /// The peak learning rates searched, for every trained method alike.
    public var learningRates: [Float]
    /// The number of seeds: runs use seeds `0..<seedCount`.
    public var seedCount: Int
    /// Prompts per generation batch when evaluating.
    public var evaluationBatchSize: Int

    /// The defaults of `peft compare`: the bundled base, every method and task, 300 train, 20 dev
    /// and 40 + 40 test examples per task, 150 mixed and 40 per-task steps of 16 examples, 5 %
    /// warm-up, learning rates 1e-3, 1e-2, 1e-1, three seeds (what `Documentation/Results.md` ran).
    public init(
        bases: [BaseSpec] = [BaseSpec(name: "bundled", path: "Examples/BundledBase")], perTaskBases: [String]? = nil,
        methods: [ComparisonMethod] = ComparisonMethod.allCases, tasks: [TaskKind] = TaskKind.allCases,
        sizes: SplitSizes = SplitSizes(train: 300, dev: 20, testSeen: 40, testUnseen: 40), dataSeed: UInt64 = 0,
        mixedSteps: Int = 150, perTaskSteps: Int = 40, batchSize: Int = 16, warmupFraction: Float = 0.05,
        learningRates: [Float] = [1e-3, 1e-2, 1e-1], seedCount: Int = 3, evaluationBatchSize: Int = 32
    ) {
        self.bases = bases
        self.perTaskBases = perTaskBases ?? bases.prefix(1).map(\.name)
        self.methods = methods
        self.tasks = tasks
        self.sizes = sizes
        self.dataSeed = dataSeed
        self.mixedSteps = mixedSteps
        self.perTaskSteps = perTaskSteps
        self.batchSize = batchSize
        self.warmupFraction = warmupFraction
        self.learningRates = learningRates
        self.seedCount = seedCount
        self.evaluationBatchSize = evaluationBatchSize
    }

    /// The compact prompt: `{instruction} {input} Answer:`, the answer following it (with its
    /// leading space, see ``ComparisonData/instruction(_:)``). The bundled base saw only single-line
    /// text, so the template has no line breaks, whose embeddings it never learned and which stay
    /// frozen in fine-tuning.
    public static let template = PromptTemplate(
        withInput: "{instruction} {input} Answer:", withoutInput: "{instruction} Answer:")
    /// The global gradient norm gradients are clipped to.
    public static let maxGradientNorm: Float = 1

    /// The seeds of every run: `0..<seedCount`.
    public var seeds: [Int] { Array(0..<seedCount) }

    /// The base hosting the learning-rate search (the first).
    public var searchBase: BaseSpec? { bases.first }

    /// The steps of a run in `setting`.
    public func steps(for setting: ComparisonSetting) -> Int {
        setting == .mixed ? mixedSteps : perTaskSteps
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
        try require(batchSize >= 1, "--batch-size", "must be at least 1, got \(batchSize)")
        try require(warmupFraction >= 0 && warmupFraction < 1, "--warmup", "must be in [0, 1), got \(warmupFraction)")
        try require(!learningRates.isEmpty, "--learning-rates", "at least one learning rate is needed")
        try require(learningRates.allSatisfy { $0 > 0 && $0.isFinite }, "--learning-rates", "must be positive, got \(learningRates)")
        try require(Set(learningRates).count == learningRates.count, "--learning-rates", "a learning rate is listed twice")
        try require((1...100).contains(seedCount), "--seeds", "must be in 1...100, got \(seedCount)")
        try require(evaluationBatchSize >= 1, "--eval-batch-size", "must be at least 1, got \(evaluationBatchSize)")
    }

    /// The settings that shape every run's result, by name: runs made with other values are not
    /// comparable, so a work directory holds runs of one recipe only.
    var recipe: [(name: String, value: String)] {
        [("tasks", tasks.map(\.rawValue).joined(separator: ",")),
         ("sizes", "\(sizes.train)/\(sizes.dev)/\(sizes.testSeen)/\(sizes.testUnseen)"), ("data seed", "\(dataSeed)"),
         ("mixed steps", "\(mixedSteps)"), ("per-task steps", "\(perTaskSteps)"), ("batch size", "\(batchSize)"),
         ("warm-up", "\(warmupFraction)")]
    }

    /// How `other`'s recipe differs from this one, as `name: this → other`; empty when it is the same.
    func recipeDifferences(to other: ComparisonSettings) -> [String] {
        zip(recipe, other.recipe).compactMap { mine, theirs in
            mine.value == theirs.value ? nil : "\(mine.name): \(mine.value) → \(theirs.value)"
        }
    }
}
