import Foundation
import PEFT

/// Runs a comparison into a work directory, skipping the runs that are already there.
///
/// The order is the ``ComparisonPlan``'s: the base model's floor, then base by base the learning-rate
/// search (grown at its edges as the results call for) and, with each method's rate chosen
/// (``LearningRateSelection``), the final runs. Each finished run is saved at once, so the comparison
/// can be interrupted at any point and resumed by running it again; a run with a stored result is never
/// repeated. A session may name fewer bases, methods or seeds than earlier ones: the work directory's
/// manifest keeps the union, so the report covers every session's runs. A base's rows and seeded
/// methods (``BaseSpec/methods``, ``BaseSpec/seededMethods``) given by an earlier session apply to
/// later ones that leave them out, and grow with those a session names.
public struct ComparisonRunner {
    /// What to run.
    public let settings: ComparisonSettings
    /// Where the runs and the manifest go.
    public let store: ResultStore
    /// The command, as it is written into the manifest and the report.
    public let command: String
    /// Only the final runs of these seeds are made in this session (the search, at seed 0, always is);
    /// `nil` for every seed.
    public let onlySeeds: Set<Int>?
    /// Receives one line per event: bases loaded, each dev evaluation of a run (indented), each
    /// finished run with its accuracies, time and the estimated time left, the chosen rates.
    public let log: (String) -> Void
    /// Called after every optimizer step of every run (for a progress bar).
    public let trainingProgress: ((TrainingProgress) -> Void)?

    /// A runner; nothing happens until ``run()``.
    public init(
        settings: ComparisonSettings, workDirectory: URL, command: String, onlySeeds: Set<Int>? = nil,
        log: @escaping (String) -> Void, trainingProgress: ((TrainingProgress) -> Void)? = nil
    ) {
        self.settings = settings
        store = ResultStore(directory: workDirectory)
        self.command = command
        self.onlySeeds = onlySeeds
        self.log = log
        self.trainingProgress = trainingProgress
    }

    /// Makes every planned run of this session's settings that has no result yet and returns the
    /// updated manifest.
    ///
    /// Time: up to `mixedSteps × batchSize` training examples per mixed run plus a dev evaluation every
    /// `evaluateEvery` steps, and the evaluation of test-seen and test-unseen; see
    /// `Documentation/Comparison.md` for measured rates.
    /// - Throws: ``ComparisonError/invalidOption(option:reason:)`` for invalid settings;
    ///   ``ComparisonError/workDirectoryMismatch(path:differences:)`` if the directory holds runs of
    ///   another recipe or another folder under a base's name; ``ComparisonError/badBase(name:path:reason:)``;
    ///   ``ComparisonError/fileError(path:reason:)``; errors of the task suite, trainer and evaluator.
    @discardableResult
    public func run() throws -> ComparisonManifest {
        let clock = ContinuousClock()
        let sessionStart = clock.now
        try settings.validate()
        let previous = try store.manifest()
        if let previous { try checkCompatible(with: previous) }
        let merged = previous.map { self.settings.merged(into: $0.settings) } ?? self.settings
        // The session plans with what the directory now holds: its widest grid extension, and each of
        // its bases' rows and seeded methods as earlier sessions gave them.
        var settings = self.settings
        if merged.gridExtensions > settings.gridExtensions {
            log("grid extensions: \(merged.gridExtensions) at each edge, as earlier sessions searched "
                + "(--grid-extensions \(settings.gridExtensions) would drop their outer rates)")
            settings.gridExtensions = merged.gridExtensions
        }
        settings.bases = settings.bases.map { merged.spec($0.name) ?? $0 }

        let data = try ComparisonData(settings: settings)
        var bases: [String: LoadedBase] = [:]
        for spec in settings.bases {
            let base = try LoadedBase(spec: spec, data: data)
            let info = base.description
            log("base \(spec.name) (\(spec.path)): \(info.parameterCount) parameters, \(info.layers) layers × \(info.hiddenSize); "
                + "IAPT \(info.iaptParameters) trainable, LoRA rank \(info.loraRank) → \(info.loraParameters)")
            bases[spec.name] = base
        }
        var manifest = ComparisonManifest(
            settings: merged,
            bases: merged.bases.compactMap { spec in
                var description = bases[spec.name]?.description ?? previous?.bases.first { $0.spec.name == spec.name }
                description?.spec = spec
                return description
            },
            command: command, sessionSeconds: (previous?.sessionSeconds ?? []) + [0])
        try store.save(manifest)

        var results: [RunKey: RunResult] = [:]
        for result in try store.allResults() { results[result.key] = result }
        let plan = ComparisonPlan(settings: settings)
        let executor = RunExecutor(settings: settings, data: data, trainingProgress: trainingProgress) { [log, settings] key, point in
            log("  \(key) at step \(point.step) of \(settings.steps(for: key.setting, base: key.base)): " + Self.describe(point))
        }
        var sessionRuns: [Double] = []
        func make(_ runs: [RunKey]) throws {
            for key in runs where results[key] == nil {
                guard let base = bases[key.base] else {
                    throw ComparisonError.invalidOption(option: "--base", reason: "no base named '\(key.base)'")
                }
                let result = try executor.execute(key, on: base)
                try store.save(result)
                results[key] = result
                if key.method.isTrained { sessionRuns.append(result.seconds) }
                manifest.sessionSeconds[manifest.sessionSeconds.count - 1] = RunExecutor.seconds(clock.now - sessionStart)
                try store.save(manifest)
                let planned = plan.totalRunCount(results: results)
                let done = plan.allRuns(results: results).filter { results[$0] != nil }.count
                log("[\(done)/\(planned)] \(key): " + Self.describe(result) + Self.remaining(planned - done, sessionRuns))
            }
        }

        try make(plan.floorRuns)
        for spec in settings.bases {
            while true {
                let pending = plan.searchRuns(base: spec.name, results: results).filter { results[$0] == nil }
                if pending.isEmpty { break }
                log("\(spec.name): learning-rate search, \(ReportFormat.counted(pending.count, "run")) to make")
                try make(pending)
            }
            let choices = LearningRateSelection.choose(settings: settings, results: Array(results.values))[spec.name] ?? [:]
            for method in settings.methods(for: spec.name) {
                guard let choice = choices[method] else { continue }
                let tried = choice.candidates.map { String(format: "%g: %.1f %%", $0.key.learningRate ?? 0, 100 * $0.dev.accuracy) }
                log("\(spec.name) \(method.rawValue): learning rate \(choice.learningRate) (dev accuracy \(tried.joined(separator: ", ")))")
            }
            let finals = plan.finalRuns(base: spec.name, chosen: choices.mapValues(\.learningRate))
                .filter { onlySeeds?.contains($0.seed) ?? true }
            try make(finals)
        }
        manifest.sessionSeconds[manifest.sessionSeconds.count - 1] = RunExecutor.seconds(clock.now - sessionStart)
        try store.save(manifest)
        return manifest
    }

    /// `; 12 runs left, about 1 h 05 min` from the mean time of this session's trained runs.
    static func remaining(_ left: Int, _ seconds: [Double]) -> String {
        guard left > 0 else { return "; none left" }
        guard !seconds.isEmpty else { return "; \(ReportFormat.counted(left, "run")) left" }
        let estimate = Double(left) * seconds.reduce(0, +) / Double(seconds.count)
        return "; \(ReportFormat.counted(left, "run")) left, about \(ReportFormat.duration(estimate))"
    }

    /// - Throws: ``ComparisonError/workDirectoryMismatch(path:differences:)`` if `previous` was made
    ///   with another recipe, or a base name now points at another folder.
    private func checkCompatible(with previous: ComparisonManifest) throws {
        var differences = previous.settings.recipeDifferences(to: settings)
        for base in settings.bases {
            if let earlier = previous.settings.bases.first(where: { $0.name == base.name }) {
                if earlier.path != base.path { differences.append("base \(base.name): \(earlier.path) → \(base.path)") }
                if earlier.mixedSteps != base.mixedSteps {
                    differences.append("base \(base.name) mixed steps: \(earlier.mixedSteps.map(String.init) ?? "default") → \(base.mixedSteps.map(String.init) ?? "default")")
                }
            }
        }
        if !differences.isEmpty {
            throw ComparisonError.workDirectoryMismatch(path: store.directory.path, differences: differences)
        }
    }

    /// `dev 52.1 % (125 of 240), dev loss 0.416, training loss 0.452`.
    static func describe(_ point: CurvePoint) -> String {
        String(format: "dev %.1f %% (%d of %d), dev loss %.3f, training loss %.3f",
               100 * point.dev.accuracy, point.dev.correct, point.dev.total, point.devLoss, point.trainLoss)
    }

    /// `dev 50.0 %, seen 51.0 %, unseen 43.3 %, loss 0.812, 31.2 s (train 27.0 s)`.
    static func describe(_ result: RunResult) -> String {
        func percent(_ value: Double?) -> String { value.map { String(format: "%.1f %%", 100 * $0) } ?? "—" }
        var text = "dev \(percent(result.dev.accuracy)), seen \(percent(result.averageAccuracy(in: .testSeen))), "
            + "unseen \(percent(result.averageAccuracy(in: .testUnseen)))"
        if let loss = result.finalTrainLoss { text += String(format: ", loss %.3f", loss) }
        if let step = result.divergedAtStep { text += ", diverged at step \(step)" }
        text += String(format: ", %.1f s (train %.1f s", result.seconds, result.trainSeconds)
        if let speed = result.trainTokensPerSecond { text += String(format: ", %.0f tokens/s", speed) }
        return text + ")"
    }
}
