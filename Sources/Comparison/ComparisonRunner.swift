import Foundation
import PEFT

/// Runs a comparison into a work directory, skipping the runs that are already there.
///
/// The order is the ``ComparisonPlan``'s: the base model's floor and the learning-rate search first,
/// then, with each method's rate chosen (``LearningRateSelection``), the final runs. Each finished run
/// is saved at once, so the comparison can be interrupted at any point and resumed by running it
/// again; a run with a stored result is never repeated (the search runs at the chosen rates are the
/// seed-0 mixed runs of the first base).
public struct ComparisonRunner {
    /// What to run.
    public let settings: ComparisonSettings
    /// Where the runs and the manifest go.
    public let store: ResultStore
    /// The command, as it is written into the manifest and the report.
    public let command: String
    /// Receives one line per event: bases loaded, each run with its accuracies and time, the chosen rates.
    public let log: (String) -> Void
    /// Called after every optimizer step of every run (for a progress bar).
    public let trainingProgress: ((TrainingProgress) -> Void)?

    /// A runner; nothing happens until ``run()``.
    public init(
        settings: ComparisonSettings, workDirectory: URL, command: String, log: @escaping (String) -> Void,
        trainingProgress: ((TrainingProgress) -> Void)? = nil
    ) {
        self.settings = settings
        store = ResultStore(directory: workDirectory)
        self.command = command
        self.log = log
        self.trainingProgress = trainingProgress
    }

    /// Makes every planned run that has no result yet and returns the updated manifest.
    ///
    /// Time: about `mixedSteps × batchSize` training examples per mixed run and `perTaskSteps ×
    /// batchSize` per per-task run, plus the evaluation of dev, test-seen and test-unseen; see
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
            settings: settings, bases: settings.bases.compactMap { bases[$0.name]?.description }, command: command,
            sessionSeconds: (previous?.sessionSeconds ?? []) + [0])
        try store.save(manifest)

        let plan = ComparisonPlan(settings: settings)
        let executor = RunExecutor(settings: settings, data: data, trainingProgress: trainingProgress)
        var position = 0
        func make(_ runs: [RunKey]) throws -> [RunResult] {
            var done = 0
            let results = try runs.map { key -> RunResult in
                position += 1
                if let stored = try store.result(for: key) {
                    done += 1
                    return stored
                }
                guard let base = bases[key.base] else {
                    throw ComparisonError.invalidOption(option: "--base", reason: "no base named '\(key.base)'")
                }
                let result = try executor.execute(key, on: base)
                try store.save(result)
                log("[\(position)/\(plan.totalRunCount)] \(key): " + Self.describe(result))
                manifest.sessionSeconds[manifest.sessionSeconds.count - 1] = RunExecutor.seconds(clock.now - sessionStart)
                try store.save(manifest)
                return result
            }
            if done > 0 { log("\(done) of \(runs.count) runs were already finished in \(store.directory.path)") }
            return results
        }

        log("floor and learning-rate search: \(plan.floorRuns.count + plan.searchRuns.count) runs")
        let searched = try make(plan.floorRuns + plan.searchRuns)
        let choices = LearningRateSelection.choose(settings: settings, results: searched)
        for method in settings.methods {
            guard let choice = choices[method] else { continue }
            let tried = choice.candidates.map { String(format: "%g: %.1f %%", $0.key.learningRate ?? 0, 100 * $0.dev.accuracy) }
            log("\(method.rawValue): learning rate \(choice.learningRate) (dev accuracy \(tried.joined(separator: ", ")))")
        }
        let searchKeys = Set(plan.floorRuns + plan.searchRuns)
        let finals = plan.finalRuns(chosen: choices.mapValues(\.learningRate)).filter { !searchKeys.contains($0) }
        log("final runs: \(finals.count)")
        _ = try make(finals)
        manifest.sessionSeconds[manifest.sessionSeconds.count - 1] = RunExecutor.seconds(clock.now - sessionStart)
        try store.save(manifest)
        return manifest
    }

    /// - Throws: ``ComparisonError/workDirectoryMismatch(path:differences:)`` if `previous` was made
    ///   with another recipe, or a base name now points at another folder.
    private func checkCompatible(with previous: ComparisonManifest) throws {
        var differences = previous.settings.recipeDifferences(to: settings)
        for base in settings.bases {
            if let earlier = previous.settings.bases.first(where: { $0.name == base.name }), earlier.path != base.path {
                differences.append("base \(base.name): \(earlier.path) → \(base.path)")
            }
        }
        if !differences.isEmpty {
            throw ComparisonError.workDirectoryMismatch(path: store.directory.path, differences: differences)
        }
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
