#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Comparison
import Foundation
import PEFT
import TaskSuite
import ProgressDisplay

/// `peft compare`: every method on the task suite over one or more bases, written up as
/// `Documentation/Results.md` and `Results.svg` (see `Documentation/Comparison.md`).
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Fine-tune every method on the task suite (learning curves, learning-rate search, seeds) and write Results.md and its charts.",
        discussion: """
            Runs are saved one by one in --work-directory (committed under Results/, so any machine resumes them); run the \
            same command again to resume, or add --render-only to write the report from the runs there. A session may name \
            fewer bases, methods or seeds: the work directory keeps the union, and the report shows every run in it.
            """)

    @Option(name: .customLong("base"), help: "A base model as NAME=PATH (a Hugging Face folder or a .gguf file); repeat for several. Default: bundled=Examples/BundledBase.")
    var bases: [String] = []

    @Option(name: .customLong("base-grid"), help: "A base's own learning-rate grid as NAME=RATE,RATE,… (default: --learning-rates); repeat per base.")
    var baseGrids: [String] = []

    @Option(name: .customLong("base-steps"), help: "A base's own cap on a mixed run's steps as NAME=STEPS (default: --mixed-steps); repeat per base.")
    var baseSteps: [String] = []

    @Option(name: .customLong("base-micro-batch"), help: "Examples per forward and backward pass in a base's runs as NAME=ROWS, each step's examples ordered by length first (the same step, less padding; default: the whole step in one pass); repeat per base.")
    var baseMicroBatches: [String] = []

    @Option(name: .customLong("base-methods"), help: "The rows compared on a base as NAME=METHOD,METHOD,… (default: every method); kept by later sessions, which may add to them; repeat per base.")
    var baseMethods: [String] = []

    @Option(name: .customLong("base-seeded-methods"), help: "The methods that run every seed on a base as NAME=METHOD,… (default: all; the others run seed 0 only); kept and added to as --base-methods; repeat per base.")
    var baseSeededMethods: [String] = []

    @Option(help: "Comma-separated base names that also run the per-task setting, or 'none'.")
    var perTaskBases = "none"

    @Option(help: "Comma-separated methods (default: all of \(ComparisonMethod.names)).")
    var methods: String?

    @Option(help: "Comma-separated tasks (default: all of \(TaskKind.allCases.map(\.rawValue).joined(separator: ","))).")
    var tasks: String?

    @Option(help: "Training examples per task.") var trainSize = 300
    @Option(help: "Dev examples per task (the learning curves and the learning-rate search's criterion).") var devSize = 40
    @Option(help: "Test examples per task with seen wordings.") var testSeenSize = 40
    @Option(help: "Test examples per task with held-out wordings.") var testUnseenSize = 40
    @Option(help: "The task suite's seed (the same data for every run).") var dataSeed: UInt64 = 0
    @Option(help: "Most optimizer steps of a mixed-setting run (the schedule decays over them).") var mixedSteps = 1500
    @Option(help: "Most optimizer steps of each per-task run.") var perTaskSteps = 200
    @Option(help: "Steps between dev evaluations (the learning curves' points).") var evaluateEvery = 100
    @Option(help: "Dev evaluations without a better dev point before a run stops, or 'none' to run to the cap.") var patience = "5"
    @Option(help: "Examples per optimizer step.") var batchSize = 16
    @Option(help: "Fraction of the steps spent warming up.") var warmup: Float = 0.05
    @Option(help: "Comma-separated learning-rate grid, searched for every method alike.")
    var learningRates = ComparisonSettings.halfDecadeGrid.map { String(format: "%g", $0) }.joined(separator: ",")
    @Option(help: "Half-decade steps a grid may grow beyond each edge where a method's best rate sits.") var gridExtensions = 2
    @Option(help: "Number of seeds (0, 1, …).") var seeds = 3
    @Option(help: "Comma-separated seeds whose final runs this session makes (default: every seed); the search always runs seed 0.")
    var onlySeeds: String?
    @Option(help: "Prompts per generation batch when evaluating.") var evalBatchSize = 32
    @Option(help: "Where each run's result is saved (resumable).") var workDirectory = "Results"
    @Option(help: "Where Results.md and Results.svg are written.") var outputDirectory = "Documentation"
    @Flag(help: "Only write Results.md and its charts from the runs in --work-directory (with the settings they were run with).")
    var renderOnly = false

    func run() throws {
        let workURL = URL(fileURLWithPath: workDirectory, isDirectory: true)
        let outputURL = URL(fileURLWithPath: outputDirectory, isDirectory: true)
        if !renderOnly {
            let progress = isatty(STDERR_FILENO) != 0 ? RunProgress() : nil
            let runner = ComparisonRunner(
                settings: try settings(), workDirectory: workURL, command: Self.commandLine(),
                onlySeeds: try onlySeeds.map { Set(try Self.list($0, option: "--only-seeds", expected: "a seed") { Int($0) }) },
                log: { line in
                    progress?.finish()
                    FileHandle.standardError.write(Data((line + "\n").utf8))
                },
                trainingProgress: progress.map { bar in { bar.update($0) } })
            try runner.run()
        }
        let summary = try ComparisonReport.write(workDirectory: workURL, workDirectoryName: workDirectory, outputDirectory: outputURL)
        print("wrote \(outputURL.appendingPathComponent(ComparisonReport.markdownFile).path), \(ComparisonReport.chartFile) and \(ComparisonReport.curvesFile) "
              + "from \(summary.results.count) of \(summary.plannedRunCount) planned runs")
    }

    /// The options as settings, checked.
    /// - Throws: ``ComparisonError/invalidOption(option:reason:)`` naming the option at fault.
    func settings() throws -> ComparisonSettings {
        var specs = try (bases.isEmpty ? ["bundled=Examples/BundledBase"] : bases).map(BaseSpec.init(parsing:))
        /// Applies each `NAME=VALUE` of `texts` to the base called NAME, its value parsed by `parse`.
        func perBase(_ texts: [String], option: String, value: String, _ parse: (String) throws -> ((inout BaseSpec) -> Void)?) throws {
            for text in texts {
                guard let equals = text.firstIndex(of: "="), let index = specs.firstIndex(where: { $0.name == text[..<equals] }),
                      let apply = try parse(String(text[text.index(after: equals)...])) else {
                    throw ComparisonError.invalidOption(option: option, reason: "'\(text)' is not NAME=\(value) with NAME a --base")
                }
                apply(&specs[index])
            }
        }
        try perBase(baseGrids, option: "--base-grid", value: "RATES") { text in
            let rates = try Self.list(text, option: "--base-grid", expected: "a number") { Float($0) }
            return { $0.learningRates = rates }
        }
        try perBase(baseSteps, option: "--base-steps", value: "STEPS") { text in Int(text).map { steps in { $0.mixedSteps = steps } } }
        try perBase(baseMicroBatches, option: "--base-micro-batch", value: "ROWS") { text in Int(text).map { rows in { $0.microBatch = rows } } }
        func methodList(_ text: String, option: String) throws -> [ComparisonMethod] {
            try Self.list(text, option: option, expected: Self.oneOf(ComparisonMethod.catalogue.map(\.rawValue)), ComparisonMethod.init(rawValue:))
        }
        try perBase(baseMethods, option: "--base-methods", value: "METHODS") { text in
            let methods = try methodList(text, option: "--base-methods")
            return { $0.methods = methods }
        }
        try perBase(baseSeededMethods, option: "--base-seeded-methods", value: "METHODS") { text in
            let methods = try methodList(text, option: "--base-seeded-methods")
            return { $0.seededMethods = methods }
        }
        let perTask = perTaskBases == "none" ? [] : try Self.list(perTaskBases, option: "--per-task-bases", expected: "a base name") { $0 }
        let patienceValue: Int? = try patience == "none" ? nil : Int(patience) ?? {
            throw ComparisonError.invalidOption(option: "--patience", reason: "'\(patience)' is not a number or 'none'")
        }()
        let settings = ComparisonSettings(
            bases: specs, perTaskBases: perTask,
            methods: try methods.map { try methodList($0, option: "--methods") } ?? ComparisonMethod.allCases,
            tasks: try tasks.map { try Self.list($0, option: "--tasks", expected: Self.oneOf(TaskKind.allCases.map(\.rawValue)), TaskKind.init(rawValue:)) } ?? TaskKind.allCases,
            sizes: SplitSizes(train: trainSize, dev: devSize, testSeen: testSeenSize, testUnseen: testUnseenSize),
            dataSeed: dataSeed, mixedSteps: mixedSteps, perTaskSteps: perTaskSteps, evaluateEvery: evaluateEvery, patience: patienceValue,
            batchSize: batchSize, warmupFraction: warmup,
            learningRates: try Self.list(learningRates, option: "--learning-rates", expected: "a number") { Float($0) },
            gridExtensions: gridExtensions, seedCount: seeds,
            evaluationBatchSize: evalBatchSize)
        try settings.validate()
        return settings
    }

    /// The comma-separated items of `text`, each made by `make`.
    /// - Parameter expected: what an item should be, for the error (`a number`, `one of a, b`).
    /// - Throws: ``ComparisonError/invalidOption(option:reason:)`` for an item `make` rejects.
    static func list<Item>(_ text: String, option: String, expected: String, _ make: (String) -> Item?) throws -> [Item] {
        try text.split(separator: ",").map { part in
            let item = part.trimmingCharacters(in: .whitespaces)
            guard let made = make(item) else { throw ComparisonError.invalidOption(option: option, reason: "'\(item)' is not \(expected)") }
            return made
        }
    }

    /// `one of a, b, c`.
    static func oneOf(_ names: [String]) -> String { "one of " + names.joined(separator: ", ") }

    /// `peft compare …` as typed, each argument quoted for a POSIX shell when it needs it, without
    /// `--output-directory` (where a report goes is not part of what the runs are).
    static func commandLine(_ typed: [String] = Array(CommandLine.arguments.dropFirst())) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./,:+")
        var kept: [String] = []
        var skipNext = false
        for argument in typed {
            defer { skipNext = argument == "--output-directory" }
            guard !skipNext, argument != "--output-directory", !argument.hasPrefix("--output-directory=") else { continue }
            kept.append(argument)
        }
        let arguments = kept.map { argument in
            !argument.isEmpty && argument.allSatisfy(safe.contains) ? argument : "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }
        return (["peft"] + arguments).joined(separator: " ")
    }
}

/// A progress bar per training run, on a terminal only (a new bar starts at each run's first step).
private final class RunProgress {
    private var bar: ProgressBar?

    func update(_ progress: TrainingProgress) {
        if progress.step == 1 {
            bar?.finish()
            bar = ProgressBar()
        }
        bar?.update(progress)
    }

    func finish() { bar?.finish() }
}
