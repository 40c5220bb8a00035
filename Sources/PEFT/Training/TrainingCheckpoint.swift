import Autograd
import Foundation
import Tensor
import Transformer

/// Where a run stands: what a checkpoint's `trainer_state.json` holds.
///
/// With the example order a function of the seed and the epoch (``ExampleOrder``), the step number
/// alone says where in the shuffled order the run continues (`epoch`, `positionInEpoch` are written
/// for people reading the file); no generator state needs saving.
struct TrainerState: Codable, Equatable {
    static let currentFormat = 1

    var format = TrainerState.currentFormat
    /// Optimizer steps done.
    var step = 0
    /// The epoch of the next step, from 0.
    var epoch: Int { step / max(1, stepsPerEpoch) }
    /// The next step's index within its epoch.
    var positionInEpoch: Int { step % max(1, stepsPerEpoch) }
    var stepsPerEpoch: Int
    var totalSteps: Int
    var exampleCount: Int
    var dataFingerprint: String
    /// The dev set's fingerprint (`nil` without one): the evaluations must see the same data too.
    var devFingerprint: String?
    var options: TrainingOptions
    /// The processes of the data-parallel run that wrote it (1 for none).
    var processes = 1
    var tokensSeen = 0
    var elapsedSeconds = 0.0
    var bestDevLoss: Float?
    var bestStep: Int?
    var evaluationsWithoutImprovement = 0
    var stoppedEarly = false
    var history: [TrainingStepRecord] = []
    var evaluations: [EvaluationRecord] = []

    init(
        stepsPerEpoch: Int, totalSteps: Int, exampleCount: Int, dataFingerprint: String, devFingerprint: String?,
        options: TrainingOptions, processes: Int = 1
    ) {
        self.stepsPerEpoch = stepsPerEpoch
        self.totalSteps = totalSteps
        self.exampleCount = exampleCount
        self.dataFingerprint = dataFingerprint
        self.devFingerprint = devFingerprint
        self.options = options
        self.processes = processes
    }

    private enum CodingKeys: String, CodingKey {
        case format, step, epoch, positionInEpoch = "position_in_epoch", stepsPerEpoch = "steps_per_epoch"
        case totalSteps = "total_steps", exampleCount = "example_count", dataFingerprint = "data_fingerprint"
        case devFingerprint = "dev_fingerprint", options, processes
        case tokensSeen = "tokens_seen", elapsedSeconds = "elapsed_seconds", bestDevLoss = "best_dev_loss"
        case bestStep = "best_step", evaluationsWithoutImprovement = "evaluations_without_improvement"
        case stoppedEarly = "stopped_early", history, evaluations
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        format = try container.decode(Int.self, forKey: .format)
        step = try container.decode(Int.self, forKey: .step)
        stepsPerEpoch = try container.decode(Int.self, forKey: .stepsPerEpoch)
        totalSteps = try container.decode(Int.self, forKey: .totalSteps)
        exampleCount = try container.decode(Int.self, forKey: .exampleCount)
        dataFingerprint = try container.decode(String.self, forKey: .dataFingerprint)
        devFingerprint = try container.decodeIfPresent(String.self, forKey: .devFingerprint)
        options = try container.decode(TrainingOptions.self, forKey: .options)
        processes = try container.decodeIfPresent(Int.self, forKey: .processes) ?? 1
        tokensSeen = try container.decode(Int.self, forKey: .tokensSeen)
        elapsedSeconds = try container.decode(Double.self, forKey: .elapsedSeconds)
        bestDevLoss = try container.decodeIfPresent(Float.self, forKey: .bestDevLoss)
        bestStep = try container.decodeIfPresent(Int.self, forKey: .bestStep)
        evaluationsWithoutImprovement = try container.decode(Int.self, forKey: .evaluationsWithoutImprovement)
        stoppedEarly = try container.decode(Bool.self, forKey: .stoppedEarly)
        history = try container.decode([TrainingStepRecord].self, forKey: .history)
        evaluations = try container.decode([EvaluationRecord].self, forKey: .evaluations)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(format, forKey: .format)
        try container.encode(step, forKey: .step)
        try container.encode(epoch, forKey: .epoch)
        try container.encode(positionInEpoch, forKey: .positionInEpoch)
        try container.encode(stepsPerEpoch, forKey: .stepsPerEpoch)
        try container.encode(totalSteps, forKey: .totalSteps)
        try container.encode(exampleCount, forKey: .exampleCount)
        try container.encode(dataFingerprint, forKey: .dataFingerprint)
        try container.encode(devFingerprint, forKey: .devFingerprint)
        try container.encode(options, forKey: .options)
        try container.encode(processes, forKey: .processes)
        try container.encode(tokensSeen, forKey: .tokensSeen)
        try container.encode(elapsedSeconds, forKey: .elapsedSeconds)
        try container.encode(bestDevLoss, forKey: .bestDevLoss)
        try container.encode(bestStep, forKey: .bestStep)
        try container.encode(evaluationsWithoutImprovement, forKey: .evaluationsWithoutImprovement)
        try container.encode(stoppedEarly, forKey: .stoppedEarly)
        try container.encode(history, forKey: .history)
        try container.encode(evaluations, forKey: .evaluations)
    }

    /// The mean of the last `window` step losses, or `nil` before the first step.
    func runningLoss(window: Int) -> Float? {
        let recent = history.suffix(window)
        return recent.isEmpty ? nil : recent.reduce(0) { $0 + $1.loss } / Float(recent.count)
    }

    /// Why a run with `options` cannot continue from this state, or `nil` if it can.
    func mismatch(with options: TrainingOptions) -> String? {
        let differences = zip(self.options.trajectorySettings, options.trajectorySettings)
            .filter { $0.0.value != $0.1.value }
            .map { "\($0.0.name) \($0.0.value) in the checkpoint, \($0.1.value) now" }
        return differences.isEmpty ? nil : "written with other training options: " + differences.joined(separator: "; ")
    }

    /// Why a run over `exampleCount` examples with these fingerprints cannot continue, or `nil`.
    func mismatch(exampleCount: Int, fingerprint: String, devFingerprint: String?) -> String? {
        guard exampleCount == self.exampleCount, fingerprint == dataFingerprint else {
            return "written for other training data (\(self.exampleCount) examples, fingerprint \(dataFingerprint); now \(exampleCount), \(fingerprint))"
        }
        guard devFingerprint == self.devFingerprint else {
            return "written with other dev data (fingerprint \(self.devFingerprint ?? "none"); now \(devFingerprint ?? "none"))"
        }
        return nil
    }
}

/// Checkpoints: one folder `checkpoint-<step>` per save, written whole or not at all, holding
/// - `adapter/`: the adapter in PEFT's layout (``AdapterFiles``), loadable on its own;
/// - `optimizer.safetensors`: AdamW's moments, `state.<i>.exp_avg` and `state.<i>.exp_avg_sq` for
///   the `i`-th parameter in group order, and the step count in the metadata;
/// - `best_adapter.safetensors`: the adapter's weights at the best dev loss, when there is one;
/// - `trainer_state.json`: the step, where that is in the shuffled order, the seed and options,
///   a fingerprint of the data, the best dev loss, and the loss history.
extension Trainer {
    /// The name of a checkpoint's state file.
    public static let stateFile = "trainer_state.json"
    /// The name of a checkpoint's optimizer file.
    public static let optimizerFile = "optimizer.safetensors"
    /// The name of a checkpoint's file of the best weights.
    public static let bestWeightsFile = "best_adapter.safetensors"
    /// The name of a checkpoint's adapter folder.
    public static let adapterFolder = "adapter"

    /// The checkpoint of the highest step in `directory` (a folder `checkpoint-<step>` with a state
    /// file), or `nil` if there is none.
    public static func latestCheckpoint(in directory: URL) -> URL? {
        checkpoints(in: directory).last?.url
    }

    /// Makes the next ``train(on:dev:progress:)`` continue the run saved in `url`: the checkpoint's
    /// weights go into the adapter and its moments into the optimizer. `url` is a checkpoint folder,
    /// or a checkpoint directory whose latest checkpoint is taken.
    /// - Throws: ``TrainingError/badCheckpoint(path:reason:)`` if there is no checkpoint, a file is
    ///   missing or malformed, it was written for another adapter or other options, or its tensors
    ///   do not fit; ``ModelFileError`` for unreadable safetensors files. Nothing changes on error.
    public func resume(from url: URL) throws {
        let folder: URL
        if FileManager.default.fileExists(atPath: url.appendingPathComponent(Self.stateFile).path) {
            folder = url
        } else if let latest = Self.latestCheckpoint(in: url) {
            folder = latest
        } else {
            throw TrainingError.badCheckpoint(path: url.path, reason: "neither a checkpoint nor a folder of checkpoint-<step> folders")
        }
        let stateURL = folder.appendingPathComponent(Self.stateFile)
        let state: TrainerState
        do {
            state = try JSONDecoder().decode(TrainerState.self, from: Data(contentsOf: stateURL))
        } catch {
            throw TrainingError.badCheckpoint(path: stateURL.path, reason: "unreadable trainer state: \(error)")
        }
        guard state.format == TrainerState.currentFormat else {
            throw TrainingError.badCheckpoint(path: stateURL.path, reason: "format \(state.format), expected \(TrainerState.currentFormat)")
        }
        if let mismatch = state.mismatch(with: options) { throw TrainingError.badCheckpoint(path: stateURL.path, reason: mismatch) }

        let adapterURL = folder.appendingPathComponent(Self.adapterFolder)
        try checkAdapterType(in: adapterURL)
        let weightsURL = adapterURL.appendingPathComponent(AdapterFiles.weightsFile)
        let weights = try SafetensorsFile(contentsOf: weightsURL).allTensors()
        try checkFit(weights, source: weightsURL.path)
        let bestURL = folder.appendingPathComponent(Self.bestWeightsFile)
        var best: [String: Tensor]?
        if FileManager.default.fileExists(atPath: bestURL.path) {
            best = try SafetensorsFile(contentsOf: bestURL).allTensors()
            try checkFit(best ?? [:], source: bestURL.path)
        }
        let (stepCount, moments) = try readMoments(folder.appendingPathComponent(Self.optimizerFile))

        try load(weights, from: weightsURL.path)
        try optimizer.restore(stepCount: stepCount, moments: moments)
        bestWeights = best
        resumedState = (state, stateURL.path)
    }

    /// Writes `state` with the adapter, optimizer and best weights as `checkpoint-<step>`, then
    /// deletes checkpoints beyond ``TrainingOptions/checkpointsToKeep``.
    func saveCheckpoint(_ state: TrainerState) throws {
        guard let directory = options.checkpointDirectory else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let stateData = try encoder.encode(state)
        var moments: [String: Tensor] = [:]
        for (index, moment) in optimizer.moments.enumerated() {
            guard let moment else { continue }
            moments["state.\(index).exp_avg"] = moment.first
            moments["state.\(index).exp_avg_sq"] = moment.second
        }
        let metadata = ["step_count": "\(optimizer.stepCount)", "parameter_count": "\(optimizer.moments.count)"]
        try AtomicFolder.write(to: directory.appendingPathComponent("checkpoint-\(state.step)")) { folder in
            try AdapterFiles.save(adapter, to: folder.appendingPathComponent(Self.adapterFolder))
            try SafetensorsWriter.write(moments, to: folder.appendingPathComponent(Self.optimizerFile), metadata: metadata)
            let bestURL = folder.appendingPathComponent(Self.bestWeightsFile)
            if let bestWeights {
                try SafetensorsWriter.write(bestWeights, to: bestURL)
            } else {
                try? FileManager.default.removeItem(at: bestURL)
            }
            try AtomicFile.write(stateData, to: folder.appendingPathComponent(Self.stateFile))
        }
        if let keep = options.checkpointsToKeep {
            for old in Self.checkpoints(in: directory).dropLast(keep) {
                AtomicFolder.remove(old.url)
            }
        }
    }

    /// The checkpoints in `directory`, by increasing step.
    private static func checkpoints(in directory: URL) -> [(step: Int, url: URL)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix("checkpoint-"), let step = Int(name.dropFirst("checkpoint-".count)), step >= 0 else { return nil }
            let url = directory.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.appendingPathComponent(stateFile).path) else { return nil }
            return (step, url)
        }.sorted { $0.0 < $1.0 }
    }

    private func checkAdapterType(in folder: URL) throws {
        let url = folder.appendingPathComponent(AdapterFiles.configurationFile)
        let declared = try? JSONDecoder().decode(DeclaredType.self, from: Data(contentsOf: url))
        let expected = type(of: adapter).peftType
        guard declared?.peftType == expected else {
            throw TrainingError.badCheckpoint(
                path: url.path, reason: "holds a \(declared?.peftType ?? "unreadable") adapter, this run trains \(expected)")
        }
    }

    func checkFit(_ weights: [String: Tensor], source: String) throws {
        for (name, parameter) in adapter.namedParameters where weights[name]?.shape != parameter.shape {
            let found = weights[name].map { "is \($0.shape)" } ?? "is missing"
            throw TrainingError.badCheckpoint(path: source, reason: "tensor '\(name)' \(found), the adapter's is \(parameter.shape)")
        }
    }

    /// AdamW's step count and moments from an optimizer file, checked against the parameters.
    private func readMoments(_ url: URL) throws -> (Int, [(first: Tensor, second: Tensor)?]) {
        let file = try SafetensorsFile(contentsOf: url)
        let parameters = optimizer.parameters
        guard let stepCount = file.metadata["step_count"].flatMap({ Int($0) }), stepCount >= 0,
              file.metadata["parameter_count"] == "\(parameters.count)" else {
            throw TrainingError.badCheckpoint(
                path: url.path, reason: "metadata needs step_count and parameter_count \(parameters.count), found \(file.metadata)")
        }
        let moments = try parameters.indices.map { index -> (first: Tensor, second: Tensor)? in
            let (firstKey, secondKey) = ("state.\(index).exp_avg", "state.\(index).exp_avg_sq")
            guard file.contains(firstKey) || file.contains(secondKey) else { return nil }
            let first = try file.tensor(named: firstKey), second = try file.tensor(named: secondKey)
            guard first.shape == parameters[index].shape, second.shape == parameters[index].shape else {
                throw TrainingError.badCheckpoint(
                    path: url.path, reason: "moments of parameter \(index) are \(first.shape), the parameter is \(parameters[index].shape)")
            }
            return (first, second)
        }
        return (stepCount, moments)
    }
}
