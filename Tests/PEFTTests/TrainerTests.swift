import Foundation
import Testing
import Tensor
import Autograd
import Transformer
@testable import PEFT

@Suite("Trainer: loss, reproducibility, accumulation, stopping")
struct TrainerTests {
    @Test("Training IAPT drives the response loss down on a memorisation task; the backbone stays frozen")
    func lossGoesDown() throws {
        let model = try byteBackbone()
        let adapter = try smallIAPT(model)
        let examples = try byteEncoder().encode(animalSounds)
        let options = TrainingOptions(epochs: 60, batchSize: 3, learningRate: 3e-2, maxGradientNorm: nil, seed: 1)
        let trainer = try Trainer(model: model, adapter: adapter, options: options)
        let before = try trainer.evaluateLoss(examples)
        let backbone = model.weights
        let report = try trainer.train(on: examples)
        let after = try trainer.evaluateLoss(examples)
        print("IAPT memorisation: loss \(before) → \(after) in \(report.steps) steps, \(report.wallSeconds) s, \(Int(report.tokensPerSecond)) tokens/s")
        #expect(report.steps == 120 && report.totalSteps == 120 && report.history.count == 120)
        #expect(after < 0.35 * before, "loss \(before) → \(after)")
        #expect(report.finalTrainLoss.map { $0 < 0.5 * before } ?? false)
        #expect(!adapter.isTraining)
        #expect(model.weights == backbone && model.namedParameters.allSatisfy { $0.variable.gradient == nil })
    }

    @Test("The same seed gives identical runs; another seed gives another order and other weights")
    func sameSeedSameRun() throws {
        func run(seed: UInt64) throws -> ([String: [Float]], TrainingReport) {
            let model = try byteBackbone()
            let adapter = try smallIAPT(model)
            let options = TrainingOptions(epochs: 2, batchSize: 2, learningRate: 1e-2, seed: seed)
            let report = try Trainer(model: model, adapter: adapter, options: options).train(on: try byteEncoder().encode(animalSounds))
            return (snapshot(adapter), report)
        }
        let (first, firstReport) = try run(seed: 5)
        let (second, secondReport) = try run(seed: 5)
        let (other, _) = try run(seed: 6)
        let (same, different) = (largestDifference(first, second), largestDifference(first, other))
        #expect(same == 0)
        #expect(firstReport.history == secondReport.history)
        #expect(different > 0)
    }

    /// Two epochs of a perturbed memorising LoRA on ``animalSounds`` (4 examples a step): its weights
    /// and step records.
    static func trainLoRA(
        batchSize: Int, accumulation: Int, groupsByLength: Bool = false
    ) throws -> ([String: [Float]], [TrainingStepRecord]) {
        let model = try byteBackbone()
        let adapter = try memorisingLoRA(model)
        try perturb(adapter, seed: 8, scale: 0.1)
        let options = TrainingOptions(
            epochs: 2, batchSize: batchSize, gradientAccumulationSteps: accumulation, learningRate: 1e-2,
            warmupFraction: 0, maxGradientNorm: 1, seed: 3, groupsByLength: groupsByLength)
        let report = try Trainer(model: model, adapter: adapter, options: options).train(on: try byteEncoder().encode(animalSounds))
        return (snapshot(adapter), report.history)
    }

    /// Expects two runs of ``trainLoRA(batchSize:accumulation:groupsByLength:)`` to take the same 4
    /// steps: losses and final weights within 1e-5, the same learning rates.
    static func expectSameRun(
        _ first: ([String: [Float]], [TrainingStepRecord]), _ second: ([String: [Float]], [TrainingStepRecord])
    ) {
        #expect(first.1.count == 4 && second.1.count == 4)
        for (a, b) in zip(first.1, second.1) {
            #expect(abs(a.loss - b.loss) < 1e-5 && a.learningRate == b.learningRate, "\(a) vs \(b)")
        }
        let difference = largestDifference(first.0, second.0)
        #expect(difference < 1e-5, "largest weight difference \(difference)")
    }

    @Test("Accumulating 2 micro-batches of 2 equals one batch of 4 (token-weighted losses)")
    func accumulationEqualsLargeBatch() throws {
        try Self.expectSameRun(Self.trainLoRA(batchSize: 2, accumulation: 2), Self.trainLoRA(batchSize: 4, accumulation: 1))
    }

    @Test("Grouping by length reorders each step's examples shortest first and leaves the step as it was")
    func groupingByLength() throws {
        let examples = try byteEncoder().encode(animalSounds)
        let drawn = Array(examples.indices.reversed())
        let grouped = Trainer.stepOrder(drawn, of: examples, groupsByLength: true)
        #expect(Trainer.stepOrder(drawn, of: examples, groupsByLength: false) == drawn)
        #expect(grouped.sorted() == drawn.sorted())
        for (a, b) in zip(grouped, grouped.dropFirst()) {
            let (lengthA, lengthB) = (examples[a].tokens.count, examples[b].tokens.count)
            #expect(lengthA < lengthB || (lengthA == lengthB && drawn.firstIndex(of: a)! < drawn.firstIndex(of: b)!))
        }
        #expect(Set(examples.map(\.tokens.count)).count > 1, "the examples must differ in length for this test to mean anything")

        try Self.expectSameRun(
            Self.trainLoRA(batchSize: 1, accumulation: 4, groupsByLength: true), Self.trainLoRA(batchSize: 4, accumulation: 1))
    }

    @Test("Options round-trip through JSON; files from before groups_by_length read it as false")
    func optionsFiles() throws {
        let options = TrainingOptions(epochs: 2, batchSize: 4, gradientAccumulationSteps: 3, seed: 7, groupsByLength: true)
        let encoded = try JSONEncoder().encode(options)
        #expect(try JSONDecoder().decode(TrainingOptions.self, from: encoded) == options)
        var object = try #require(JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        #expect(object["groups_by_length"] as? Bool == true)
        object["groups_by_length"] = nil
        let older = try JSONDecoder().decode(TrainingOptions.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(!older.groupsByLength && older.batchSize == 4 && older.gradientAccumulationSteps == 3 && older.seed == 7)
    }

    @Test("The progress callback sees every step and can stop training")
    func callbackStops() throws {
        let model = try byteBackbone()
        let adapter = try smallIAPT(model)
        let trainer = try Trainer(model: model, adapter: adapter, options: TrainingOptions(epochs: 3, batchSize: 2, seed: 2))
        var seen: [TrainingProgress] = []
        let report = try trainer.train(on: try byteEncoder().encode(animalSounds)) { progress in
            seen.append(progress)
            return progress.step == 4 ? .stop : .proceed
        }
        #expect(seen.map(\.step) == [1, 2, 3, 4])
        #expect(seen.map(\.epoch) == [1, 1, 1, 2])
        #expect(seen.allSatisfy { $0.totalSteps == 9 && $0.epochs == 3 && $0.loss.isFinite && $0.tokensPerSecond > 0 })
        #expect(seen.allSatisfy { $0.evalLoss == nil })
        #expect(report.steps == 4 && report.stoppedByCallback && !report.stoppedEarly && report.totalSteps == 9)
    }

    @Test("Early stopping ends the run when the dev loss stops improving and restores the best weights")
    func earlyStoppingRestoresBest() throws {
        let model = try byteBackbone()
        let adapter = try memorisingLoRA(model)
        let encoder = try byteEncoder()
        let train = try encoder.encode(animalSounds)
        // The dev set contradicts the training set, so its loss soon rises.
        let dev = try encoder.encode(animalPairs.map { InstructionExample(instruction: $0.0, output: "zzzz") })
        let options = TrainingOptions(
            epochs: 20, batchSize: 3, learningRate: 3e-2, warmupFraction: 0, seed: 4, evaluateEvery: 1, earlyStoppingPatience: 3)
        let trainer = try Trainer(model: model, adapter: adapter, options: options)
        var weightsAfterStep: [Int: [String: [Float]]] = [:]
        var evaluations: [Float] = []
        let report = try trainer.train(on: train, dev: dev) { progress in
            weightsAfterStep[progress.step] = snapshot(adapter)
            if let loss = progress.evalLoss { evaluations.append(loss) }
            return .proceed
        }
        #expect(report.stoppedEarly && report.restoredBestWeights && !report.stoppedByCallback)
        #expect(report.steps < report.totalSteps)
        let bestStep = try #require(report.bestStep)
        #expect(report.steps == bestStep + 3, "stops after 3 evaluations without improvement")
        #expect(report.bestDevLoss == evaluations.min())
        #expect(report.evaluations.map(\.loss) == evaluations)
        let difference = largestDifference(snapshot(adapter), weightsAfterStep[bestStep] ?? [:])
        #expect(difference == 0, "the adapter holds the best weights")
        #expect(try trainer.evaluateLoss(dev) == report.bestDevLoss)
    }

    @Test("Bad settings and inputs are errors that say what is wrong")
    func errors() throws {
        let model = try byteBackbone()
        let adapter = try smallIAPT(model)
        #expect(throws: TrainingError.invalidOptions("batchSize must be in 1...4096, got 0")) {
            try Trainer(model: model, adapter: adapter, options: TrainingOptions(batchSize: 0))
        }
        #expect(throws: TrainingError.invalidOptions("learningRate must be in 1e-09...10.0, got 1e+30")) {
            try Trainer(model: model, adapter: adapter, options: TrainingOptions(learningRate: 1e30))
        }
        #expect(throws: TrainingError.invalidOptions("learningRate must be a finite number in 1e-09...10.0, got nan")) {
            try Trainer(model: model, adapter: adapter, options: TrainingOptions(learningRate: .nan))
        }
        #expect(throws: TrainingError.self) { try Trainer(model: model, adapter: adapter, options: TrainingOptions(warmupFraction: 1)) }
        let trainable = try LlamaModel(randomWithConfig: model.config, seed: 1, trainable: true)
        #expect(throws: TrainingError.backboneNotFrozen(weight: "model.embed_tokens.weight")) {
            try Trainer(model: trainable, adapter: try smallIAPT(trainable))
        }
        let trainer = try Trainer(model: model, adapter: adapter)
        #expect(throws: TrainingError.noExamples("training")) { try trainer.train(on: []) }
        #expect(throws: TrainingError.tokenOutOfRange(set: "training", example: 1, token: 400, vocabularySize: 259)) {
            try trainer.train(on: [EncodedExample(tokens: [1, 2], promptLength: 1), EncodedExample(tokens: [1, 400], promptLength: 1)])
        }
    }

    @Test("A custom adapter trains through the same path, in training mode for steps and evaluation mode for dev loss")
    func trainingAndEvaluationModes() throws {
        let model = try byteBackbone()
        let adapter = try ModeRecordingAdapter(model: model)
        let encoder = try byteEncoder()
        let options = TrainingOptions(epochs: 1, batchSize: 2, gradientAccumulationSteps: 3, seed: 1, evaluateEvery: 1)
        let report = try Trainer(model: model, adapter: adapter, options: options)
            .train(on: try encoder.encode(animalSounds), dev: try encoder.encode(Array(animalSounds.prefix(3))))
        // One step of 3 micro-batches, then the dev set in 2 batches.
        #expect(report.steps == 1 && report.evaluations.count == 1)
        #expect(adapter.modes == [true, true, true, false, false])
        #expect(!adapter.isTraining)
    }
}

/// Prompt tuning that records whether it was training each time the model asked for its prompt.
private final class ModeRecordingAdapter: Adapter {
    static let peftType = "MODE_RECORDING"
    let prompts: PromptTuningAdapter
    var modes: [Bool] = []
    var isTraining = false

    init(model: LlamaModel) throws {
        prompts = try PromptTuningAdapter(model: model, configuration: PromptTuningConfiguration(virtualTokens: 2), seed: 1)
    }

    required init(configuration: Data, weights: any TensorSource, model: LlamaModel) throws {
        prompts = try PromptTuningAdapter(configuration: configuration, weights: weights, model: model)
    }

    func configurationData() throws -> Data { try prompts.configurationData() }
    var namedParameters: [(name: String, variable: Variable)] { prompts.namedParameters }
    var inputPrefixLength: Int { prompts.inputPrefixLength }

    func inputPrefix(rows: Int) throws -> Variable? {
        modes.append(isTraining)
        return try prompts.inputPrefix(rows: rows)
    }
}
