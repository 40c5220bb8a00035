import Autograd
import Foundation
import Tensor
import Transformer

/// Trains any ``Adapter`` on a frozen ``LlamaModel`` with teacher forcing: each example's prompt and
/// response go through the model together, instruction-aware adapters read the prompt
/// (``EncodedExample/promptLength``), and the loss is the mean cross-entropy of the response tokens
/// only (see ``TrainingBatch``).
///
/// Each optimizer step runs `gradientAccumulationSteps` micro-batches. A micro-batch's mean loss
/// is back-propagated weighted by its share of the step's response tokens, so the step's gradient
/// is that of the mean loss over all of its response tokens: exactly what one batch of
/// `batchSize × gradientAccumulationSteps` gives (up to float rounding), however the tokens fall
/// into micro-batches. Gradients are then clipped by global norm, the schedule (warm-up, then
/// linear or cosine decay) sets the learning rate, and AdamW updates the adapter's parameter groups.
///
/// Runs are reproducible: the example order depends only on the seed and the epoch
/// (``ExampleOrder``), and an adapter's own randomness (LoRA dropout) only on the seed and the step
/// (``Adapter/beginTrainingStep(randomSeed:)``), so the same seed, data and options give the same
/// weights, and a run resumed from a checkpoint (``resume(from:)``) ends with exactly the weights
/// of an uninterrupted one.
public final class Trainer {
    /// The number of recent steps whose losses make up the running loss.
    public static let runningLossWindow = 20
    /// The label of the adapters' random streams under the run's seed (``SeededGenerator/stream(seed:_:)``).
    private static let adapterRandomness: UInt64 = 0xADA9_7E55

    /// The frozen backbone.
    public let model: LlamaModel
    /// The adapter being trained (its parameters are updated in place).
    public let adapter: any Adapter
    /// The run's settings.
    public let options: TrainingOptions
    /// What the run keeps in memory.
    public let memory: TrainingMemory
    let optimizer: AdamW
    /// The state read by ``resume(from:)`` and the file it came from, taken up by the next
    /// ``train(on:dev:progress:)``.
    var resumedState: (state: TrainerState, path: String)?
    /// The adapter's weights at the lowest dev loss so far.
    var bestWeights: [String: Tensor]?

    /// A trainer of `adapter` on `model`.
    ///
    /// Packs the model's frozen weights for training as `memory` says
    /// (``LlamaModel/packFrozenWeights(inputGradient:)``: with ``TrainingMemory/fastest``, two more
    /// copies of the projection and LM-head weights, on CPUs with AVX2 + FMA); they stay packed
    /// after training until ``LlamaModel/unpackWeights()``.
    /// - Parameters:
    ///   - memory: what the run keeps in memory; results are the same either way, only time and
    ///     memory differ.
    /// - Throws: ``TrainingError/invalidOptions(_:)`` for a setting out of range;
    ///   ``TrainingError/backboneNotFrozen(weight:)`` if a model weight requires gradients;
    ///   ``TrainingError/nothingToTrain`` if the adapter has no parameters.
    public init(
        model: LlamaModel, adapter: any Adapter, options: TrainingOptions = TrainingOptions(),
        memory: TrainingMemory = .fastest
    ) throws {
        try options.validate()
        if let trainable = model.namedParameters.first(where: { $0.variable.requiresGradient }) {
            throw TrainingError.backboneNotFrozen(weight: trainable.name)
        }
        guard !adapter.namedParameters.isEmpty else { throw TrainingError.nothingToTrain }
        self.model = model
        self.adapter = adapter
        self.options = options
        self.memory = memory
        // Every step multiplies by each frozen weight twice (forward and input gradient): packed
        // once, the products skip BLAS's per-call packing. Kept after training, so that losses
        // evaluated later take the same path as those evaluated during the run.
        switch memory.packing {
        case .forwardAndBackward: try model.packFrozenWeights(inputGradient: true)
        case .forward: try model.packFrozenWeights(inputGradient: false)
        case .none: break
        }
        optimizer = AdamW(groups: adapter.parameterGroups(weightDecay: options.weightDecay), learningRate: options.learningRate)
    }

    /// Trains on `examples`, evaluating on `dev` when given, and returns what happened.
    ///
    /// A call starts a new run from the adapter's current weights with a fresh optimizer, unless
    /// ``resume(from:)`` was called before it: then it continues that run. The adapter is in
    /// training mode (``Adapter/isTraining``) during steps and in evaluation mode during dev
    /// evaluations and afterwards. With early stopping configured, the adapter ends with the weights
    /// of the best dev evaluation.
    /// - Parameters:
    ///   - examples: the training set.
    ///   - dev: the dev set, evaluated per ``TrainingOptions/evaluateEvery`` (and after the last step).
    ///   - progress: called after every optimizer step (after its evaluation and checkpoint, if any);
    ///     return ``TrainingControl/stop`` to end the run there.
    /// - Throws: ``TrainingError`` for empty sets, token ids outside the vocabulary, a non-finite
    ///   loss, or a resumed checkpoint that does not fit this data (it then stays pending, for a call
    ///   with the right data);
    ///   ``ModelFileError`` if a checkpoint cannot be written; errors of the model and adapter.
    public func train(
        on examples: [EncodedExample], dev: [EncodedExample]? = nil,
        progress: (TrainingProgress) -> TrainingControl = { _ in .proceed }
    ) throws -> TrainingReport {
        guard !examples.isEmpty else { throw TrainingError.noExamples("training") }
        try checkVocabulary(examples, set: "training")
        if let dev {
            guard !dev.isEmpty else { throw TrainingError.noExamples("dev") }
            try checkVocabulary(dev, set: "dev")
        }
        let plan = TrainingPlan(exampleCount: examples.count, options: options)
        var state = try startingState(plan: plan, fingerprint: Self.fingerprint(examples), devFingerprint: dev.map(Self.fingerprint))
        let totalSteps = plan.totalSteps

        let clock = ContinuousClock()
        let sessionStart = clock.now
        let elapsedBefore = state.elapsedSeconds
        var sessionTokens = 0, sessionSteps = 0
        var lastCheckpointStep = state.step
        var stoppedByCallback = false
        var order = (epoch: -1, indices: [Int]())
        adapter.isTraining = true
        defer { adapter.isTraining = false }

        while state.step < totalSteps && !state.stoppedEarly && !stoppedByCallback {
            let (epoch, position) = state.step.quotientAndRemainder(dividingBy: plan.stepsPerEpoch)
            if order.epoch != epoch {
                order = (epoch, ExampleOrder.indices(count: examples.count, epoch: epoch, seed: options.seed, shuffled: options.shuffle))
            }
            let chosen = order.indices[plan.range(ofStepInEpoch: position)]
            let microBatches = try stride(from: chosen.startIndex, to: chosen.endIndex, by: options.batchSize).map { start in
                try TrainingBatch(chosen[start..<min(start + options.batchSize, chosen.endIndex)].map { examples[$0] })
            }
            let learningRate = plan.schedule.learningRate(atStep: state.step)
            let (stepLoss, gradientNorm) = try optimizerStep(microBatches, learningRate: learningRate, step: state.step + 1)
            let stepTokens = microBatches.reduce(0) { $0 + $1.tokenCount }
            state.step += 1
            state.tokensSeen += stepTokens
            state.history.append(TrainingStepRecord(step: state.step, loss: stepLoss, learningRate: learningRate))
            sessionTokens += stepTokens
            sessionSteps += 1

            var evalLoss: Float?
            let endsEpoch = position + 1 == plan.stepsPerEpoch
            if let dev, state.step == totalSteps || options.evaluateEvery.map({ state.step % $0 == 0 }) ?? endsEpoch {
                let loss = try evaluateLoss(dev)
                record(evaluation: loss, in: &state)
                evalLoss = loss
            }
            let sessionSeconds = Self.seconds(clock.now - sessionStart)
            state.elapsedSeconds = elapsedBefore + sessionSeconds
            if let every = options.checkpointEvery, state.step % every == 0, options.checkpointDirectory != nil {
                try saveCheckpoint(state)
                lastCheckpointStep = state.step
            }
            let report = TrainingProgress(
                step: state.step, totalSteps: totalSteps, epoch: epoch + 1, epochs: options.epochs,
                loss: state.runningLoss(window: Self.runningLossWindow) ?? stepLoss, stepLoss: stepLoss,
                learningRate: learningRate, gradientNorm: gradientNorm,
                tokensPerSecond: sessionSeconds > 0 ? Double(sessionTokens) / sessionSeconds : 0,
                elapsedSeconds: state.elapsedSeconds,
                etaSeconds: sessionSeconds > 0 ? sessionSeconds / Double(sessionSteps) * Double(totalSteps - state.step) : nil,
                evalLoss: evalLoss)
            stoppedByCallback = progress(report) == .stop
        }

        state.elapsedSeconds = elapsedBefore + Self.seconds(clock.now - sessionStart)
        if options.checkpointDirectory != nil, state.step > 0, lastCheckpointStep != state.step {
            try saveCheckpoint(state)
        }
        var restored = false
        if options.earlyStoppingPatience != nil, let bestWeights {
            try load(bestWeights, from: "the best weights")
            restored = true
        }
        return TrainingReport(
            steps: state.step, totalSteps: totalSteps, finalTrainLoss: state.runningLoss(window: Self.runningLossWindow),
            bestDevLoss: state.bestDevLoss, bestStep: state.bestStep, stoppedEarly: state.stoppedEarly,
            stoppedByCallback: stoppedByCallback, restoredBestWeights: restored, wallSeconds: state.elapsedSeconds,
            tokensPerSecond: state.elapsedSeconds > 0 ? Double(state.tokensSeen) / state.elapsedSeconds : 0,
            history: state.history, evaluations: state.evaluations)
    }

    /// The state a run starts from: the resumed one, checked against this run, or a fresh one (with
    /// the optimizer reset). A resumed state that does not fit stays pending.
    private func startingState(plan: TrainingPlan, fingerprint: String, devFingerprint: String?) throws -> TrainerState {
        guard let (resumed, path) = resumedState else {
            try optimizer.restore(stepCount: 0, moments: Array(repeating: nil, count: optimizer.parameters.count))
            bestWeights = nil
            return TrainerState(
                stepsPerEpoch: plan.stepsPerEpoch, totalSteps: plan.totalSteps, exampleCount: plan.exampleCount,
                dataFingerprint: fingerprint, devFingerprint: devFingerprint, options: options)
        }
        if let mismatch = resumed.mismatch(exampleCount: plan.exampleCount, fingerprint: fingerprint, devFingerprint: devFingerprint) {
            throw TrainingError.badCheckpoint(path: path, reason: mismatch)
        }
        guard resumed.stepsPerEpoch == plan.stepsPerEpoch, resumed.totalSteps == plan.totalSteps,
              (0...plan.totalSteps).contains(resumed.step), resumed.evaluationsWithoutImprovement >= 0 else {
            throw TrainingError.badCheckpoint(
                path: path,
                reason: "inconsistent state: step \(resumed.step) of \(resumed.totalSteps), \(resumed.stepsPerEpoch) per epoch; expected \(plan.totalSteps), \(plan.stepsPerEpoch)")
        }
        resumedState = nil
        return resumed
    }

    /// The mean loss per response token of `examples` under the adapter in evaluation mode, without
    /// gradients, in batches of ``TrainingOptions/batchSize``; in nats.
    /// - Throws: ``TrainingError/noExamples(_:)`` if there are no examples or no response tokens;
    ///   ``TrainingError/tokenOutOfRange(set:example:token:vocabularySize:)``; errors of the model.
    public func evaluateLoss(_ examples: [EncodedExample]) throws -> Float {
        guard !examples.isEmpty else { throw TrainingError.noExamples("evaluation") }
        try checkVocabulary(examples, set: "evaluation")
        let wasTraining = adapter.isTraining
        adapter.isTraining = false
        defer { adapter.isTraining = wasTraining }
        return try GradientMode.withoutGradients {
            var total = 0.0, counted = 0
            for start in stride(from: 0, to: examples.count, by: options.batchSize) {
                let batch = try TrainingBatch(Array(examples[start..<min(start + options.batchSize, examples.count)]))
                guard batch.targetCount > 0 else { continue }
                total += Double(try loss(of: batch).value.scalars[0]) * Double(batch.targetCount)
                counted += batch.targetCount
            }
            guard counted > 0 else { throw TrainingError.noExamples("evaluation examples with response tokens") }
            return Float(total / Double(counted))
        }
    }

    /// Runs one optimizer step over `microBatches`; returns the step's mean loss per response token
    /// (0 when it has none, and then no update) and the gradient norm before clipping.
    private func optimizerStep(_ microBatches: [TrainingBatch], learningRate: Float, step: Int) throws -> (Float, Float) {
        optimizer.zeroGradients()
        let targets = microBatches.reduce(0) { $0 + $1.targetCount }
        guard targets > 0 else { return (0, 0) }
        var total = 0.0
        for (index, batch) in microBatches.enumerated() where batch.targetCount > 0 {
            var passRandomness = SeededGenerator.stream(seed: options.seed, Self.adapterRandomness, UInt64(step), UInt64(index))
            adapter.beginTrainingStep(randomSeed: passRandomness.next())
            let loss = try loss(of: batch, recomputingLayers: memory.recomputesActivations)
            total += Double(loss.value.scalars[0]) * Double(batch.targetCount)
            try loss.backward(seed: Tensor(scalar: Float(batch.targetCount) / Float(targets)))
        }
        let stepLoss = Float(total / Double(targets))
        guard stepLoss.isFinite else { throw TrainingError.nonFiniteLoss(step: step) }
        let norm = GradientClipping.clipGlobalNorm(optimizer.parameters, maxNorm: options.maxGradientNorm ?? .infinity)
        optimizer.learningRate = learningRate
        try optimizer.step()
        optimizer.zeroGradients()
        return (stepLoss, norm)
    }

    /// The mean cross-entropy over the response tokens of `batch`, a scalar; the LM head runs on
    /// the slots that carry a loss only, in chunks (``LlamaModel/loss(_:hooks:targets:recomputingLayers:)``).
    private func loss(of batch: TrainingBatch, recomputingLayers: Bool = false) throws -> Variable {
        try model.loss(
            batch.tokens, adapter: adapter, targets: batch.targets,
            recomputingLayers: recomputingLayers)
    }

    /// Records a dev evaluation: a new best keeps a copy of the weights; otherwise patience runs down.
    private func record(evaluation loss: Float, in state: inout TrainerState) {
        state.evaluations.append(EvaluationRecord(step: state.step, loss: loss))
        if state.bestDevLoss.map({ loss < $0 }) ?? true {
            state.bestDevLoss = loss
            state.bestStep = state.step
            state.evaluationsWithoutImprovement = 0
            bestWeights = adapter.weights
        } else {
            state.evaluationsWithoutImprovement += 1
            if let patience = options.earlyStoppingPatience, state.evaluationsWithoutImprovement >= patience {
                state.stoppedEarly = true
            }
        }
    }

    /// Copies `weights` into the adapter's parameters, by name, after checking that all fit.
    /// - Throws: ``TrainingError/badCheckpoint(path:reason:)`` naming a missing or misshaped tensor.
    func load(_ weights: [String: Tensor], from source: String) throws {
        try checkFit(weights, source: source)
        for (name, parameter) in adapter.namedParameters {
            if let tensor = weights[name] { parameter.value = tensor }
        }
    }

    private func checkVocabulary(_ examples: [EncodedExample], set: String) throws {
        let vocabulary = model.config.vocabSize
        for (index, example) in examples.enumerated() {
            if let token = example.tokens.first(where: { $0 < 0 || $0 >= vocabulary }) {
                throw TrainingError.tokenOutOfRange(set: set, example: index, token: token, vocabularySize: vocabulary)
            }
        }
    }

    /// A 64-bit FNV-1a hash of the examples' tokens and prompt lengths, in hex: a resumed run
    /// must see the same data.
    static func fingerprint(_ examples: [EncodedExample]) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ value: Int) {
            hash ^= UInt64(bitPattern: Int64(value))
            hash = hash &* 0x0000_0100_0000_01B3
        }
        for example in examples {
            mix(example.promptLength)
            mix(example.tokens.count)
            example.tokens.forEach(mix)
        }
        return String(hash, radix: 16)
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}

/// How a run's examples fall into optimizer steps, and its learning-rate schedule.
struct TrainingPlan {
    let exampleCount: Int
    /// `batchSize × gradientAccumulationSteps`.
    let examplesPerStep: Int
    /// Optimizer steps per epoch; the last one takes the remainder.
    let stepsPerEpoch: Int
    /// Optimizer steps in the run: every epoch's, or `maxSteps` if fewer.
    let totalSteps: Int
    /// Warm-up over the first `warmupFraction` of the steps (rounded up), then the decay.
    let schedule: LearningRateSchedule

    init(exampleCount: Int, options: TrainingOptions) {
        self.exampleCount = exampleCount
        examplesPerStep = options.batchSize * options.gradientAccumulationSteps
        stepsPerEpoch = exampleCount / examplesPerStep + (exampleCount % examplesPerStep == 0 ? 0 : 1)
        let (allSteps, overflow) = options.epochs.multipliedReportingOverflow(by: stepsPerEpoch)
        totalSteps = min(overflow ? .max : allSteps, options.maxSteps ?? .max)
        schedule = LearningRateSchedule(
            peak: options.learningRate, totalSteps: totalSteps,
            warmupSteps: Int((options.warmupFraction * Float(totalSteps)).rounded(.up)), decay: options.decay)
    }

    /// The positions in the epoch's order that step `position` (from 0) of the epoch trains on.
    func range(ofStepInEpoch position: Int) -> Range<Int> {
        (position * examplesPerStep)..<min((position + 1) * examplesPerStep, exampleCount)
    }
}
