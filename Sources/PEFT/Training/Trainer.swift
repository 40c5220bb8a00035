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
/// (``ExampleOrder``), and an adapter's own randomness (LoRA dropout) only on the seed, the step and
/// the micro-batch (``Adapter/beginTrainingStep(randomSeed:)``), so the same seed, data and options
/// give the same weights, and a run resumed from a checkpoint (``resume(from:)``) ends with exactly
/// the weights of an uninterrupted one.
///
/// **Data-parallel runs** (``DataParallel``): a step takes `batchSize × gradientAccumulationSteps ×
/// size` examples, cut into micro-batches of `batchSize` that the ranks take in turn (micro-batch
/// `i` on rank `i mod size`); the ranks combine their gradients (``GradientReduction``), so every
/// rank takes the same step, and evaluate the dev set's batches in turn the same way. Such a run
/// equals a single-process one with `gradientAccumulationSteps × size` micro-batches per step:
/// bit for bit with ``GradientReduction/ordered``, to float rounding with ``GradientReduction/sum``.
/// Before the first step the ranks compare checksums of the model, the adapter, the data and the
/// options, and all throw ``DataParallelError/ranksDisagree(what:rank:)`` if any differs. Rank 0
/// alone writes checkpoints.
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
    /// The processes the run spans and how they combine gradients.
    public let parallel: DataParallel
    /// The flat layout of the adapter's gradients that micro-batches and ranks add up.
    let flatGradients: FlatGradients
    /// Seconds spent in the collective operations of steps and evaluations since the trainer was
    /// made (all-reduces, gathers), including any wait for a slower rank to get there.
    public private(set) var communicationSeconds = 0.0
    /// The state read by ``resume(from:)`` and the file it came from, taken up by the next
    /// ``train(on:dev:progress:)``.
    var resumedState: (state: TrainerState, path: String)?
    /// The adapter's weights at the lowest dev loss so far.
    var bestWeights: [String: Tensor]?

    /// A trainer of `adapter` on `model`.
    ///
    /// Packs the model's frozen weights for training if `memory` asks for it
    /// (``LlamaModel/packFrozenWeights(inputGradient:)``: one or two more copies of the projection
    /// and LM-head weights, on CPUs with AVX2 + FMA; neither preset does); they stay packed after
    /// training until ``LlamaModel/unpackWeights()``.
    /// - Parameters:
    ///   - memory: what the run keeps in memory; results are the same either way, only time and
    ///     memory differ.
    ///   - dataParallel: the processes the run spans (one by default).
    /// - Throws: ``TrainingError/invalidOptions(_:)`` for a setting out of range;
    ///   ``TrainingError/backboneNotFrozen(weight:)`` if a model weight requires gradients;
    ///   ``TrainingError/nothingToTrain`` if the adapter has no parameters.
    public init(
        model: LlamaModel, adapter: any Adapter, options: TrainingOptions = TrainingOptions(),
        memory: TrainingMemory = .fastest, dataParallel: DataParallel = .singleProcess
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
        // Packed copies, when asked for, are kept after training, so that losses evaluated later
        // take the same path as those evaluated during the run.
        switch memory.packing {
        case .forwardAndBackward: try model.packFrozenWeights(inputGradient: true)
        case .forward: try model.packFrozenWeights(inputGradient: false)
        case .none: break
        }
        optimizer = AdamW(groups: adapter.parameterGroups(weightDecay: options.weightDecay), learningRate: options.learningRate)
        parallel = dataParallel
        flatGradients = FlatGradients(optimizer.parameters)
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
    ///     return ``TrainingControl/stop`` to end the run there. In a data-parallel run every rank
    ///     must return the same.
    /// - Throws: ``TrainingError`` for empty sets, token ids outside the vocabulary, a non-finite
    ///   loss, or a resumed checkpoint that does not fit this data (it then stays pending, for a call
    ///   with the right data);
    ///   ``ModelFileError`` if a checkpoint cannot be written; ``DataParallelError`` if the ranks of a
    ///   data-parallel run disagree or cannot communicate; errors of the model and adapter.
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
        let group = parallel.group
        let plan = TrainingPlan(exampleCount: examples.count, options: options, processes: group.size)
        let fingerprint = Self.fingerprint(examples), devFingerprint = dev.map(Self.fingerprint)
        var state = try startingState(plan: plan, fingerprint: fingerprint, devFingerprint: devFingerprint)
        if group.size > 1 {
            try checkRanksAgree(fingerprint: fingerprint, devFingerprint: devFingerprint, step: state.step)
        }
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
            let chosen = Self.stepOrder(Array(order.indices[plan.range(ofStepInEpoch: position)]), of: examples, groupsByLength: options.groupsByLength)
            let starts = Array(stride(from: chosen.startIndex, to: chosen.endIndex, by: options.batchSize))
            let mine = try starts.indices.filter { $0 % group.size == group.rank }.map { index in
                let start = starts[index]
                return (index: index, batch: try TrainingBatch(chosen[start..<min(start + options.batchSize, chosen.endIndex)].map { examples[$0] }))
            }
            let learningRate = plan.schedule.learningRate(atStep: state.step)
            let targets = chosen.reduce(0) { $0 + TrainingBatch.targetCount(of: examples[$1]) }
            let (stepLoss, gradientNorm) = try optimizerStep(
                mine, microBatchCount: starts.count, targets: targets, learningRate: learningRate, step: state.step + 1)
            let stepTokens = chosen.reduce(0) { $0 + examples[$1].tokens.count }
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
            if let every = options.checkpointEvery, state.step % every == 0, options.checkpointDirectory != nil, group.rank == 0 {
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
        if options.checkpointDirectory != nil, state.step > 0, lastCheckpointStep != state.step, group.rank == 0 {
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
            history: state.history, evaluations: state.evaluations, processes: group.size,
            communicationSeconds: group.size > 1 ? communicationSeconds : nil)
    }

    /// The state a run starts from: the resumed one, checked against this run, or a fresh one (with
    /// the optimizer reset). A resumed state that does not fit stays pending.
    private func startingState(plan: TrainingPlan, fingerprint: String, devFingerprint: String?) throws -> TrainerState {
        guard let (resumed, path) = resumedState else {
            try optimizer.restore(stepCount: 0, moments: Array(repeating: nil, count: optimizer.parameters.count))
            bestWeights = nil
            return TrainerState(
                stepsPerEpoch: plan.stepsPerEpoch, totalSteps: plan.totalSteps, exampleCount: plan.exampleCount,
                dataFingerprint: fingerprint, devFingerprint: devFingerprint, options: options, processes: plan.processes)
        }
        guard resumed.processes == plan.processes else {
            throw TrainingError.badCheckpoint(
                path: path,
                reason: "written by a run over \(resumed.processes) process(es), this one has \(plan.processes): its steps would take other examples")
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
    /// gradients, in batches of ``TrainingOptions/batchSize``; in nats. In a data-parallel run the
    /// ranks evaluate the batches in turn and gather the sums, added in batch order (the same number
    /// as one process's, bit for bit); every rank must call it with the same examples.
    /// - Throws: ``TrainingError/noExamples(_:)`` if there are no examples or no response tokens;
    ///   ``TrainingError/tokenOutOfRange(set:example:token:vocabularySize:)``; errors of the model.
    public func evaluateLoss(_ examples: [EncodedExample]) throws -> Float {
        guard !examples.isEmpty else { throw TrainingError.noExamples("evaluation") }
        try checkVocabulary(examples, set: "evaluation")
        let wasTraining = adapter.isTraining
        adapter.isTraining = false
        defer { adapter.isTraining = wasTraining }
        let group = parallel.group
        let starts = Array(stride(from: 0, to: examples.count, by: options.batchSize))
        // Per batch, the loss summed over its response tokens and their count (0 for none).
        var sums = [Double](), counts = [Double]()
        try GradientMode.withoutGradients {
            for index in stride(from: group.rank, to: starts.count, by: group.size) {
                let start = starts[index]
                let batch = try TrainingBatch(Array(examples[start..<min(start + options.batchSize, examples.count)]))
                guard batch.targetCount > 0 else {
                    sums.append(0)
                    counts.append(0)
                    continue
                }
                sums.append(Double(try loss(of: batch).value.scalars[0]) * Double(batch.targetCount))
                counts.append(Double(batch.targetCount))
            }
        }
        if group.size > 1 {
            // Each rank sends as many slots as the busiest one (the padding slots count nothing).
            let slots = (starts.count + group.size - 1) / group.size
            let padding = [Double](repeating: 0, count: slots - sums.count)
            let gathered = try communicating { try group.gather(sums + padding + counts + padding) }
            (sums, counts) = ([], [])
            for index in starts.indices {
                let (rank, slot) = (index % group.size, index / group.size)
                sums.append(gathered[rank * 2 * slots + slot])
                counts.append(gathered[rank * 2 * slots + slots + slot])
            }
        }
        var total = 0.0, counted = 0.0
        for (sum, count) in zip(sums, counts) where count > 0 {
            total += sum
            counted += count
        }
        guard counted > 0 else { throw TrainingError.noExamples("evaluation examples with response tokens") }
        return Float(total / counted)
    }

    /// Runs one optimizer step: this rank's `microBatches` (with their indices among the step's
    /// `microBatchCount`), then the ranks' gradients combined, clipped and applied. Returns the
    /// step's mean loss per response token (0 when it has none, and then no update) and the
    /// gradient norm before clipping.
    ///
    /// Each micro-batch's mean loss is back-propagated weighted by its share of the step's
    /// `targets` (response tokens over all ranks); the micro-batches' gradients are then added in
    /// micro-batch order, which is what makes ``GradientReduction/ordered`` bit-identical to one
    /// process.
    private func optimizerStep(
        _ microBatches: [(index: Int, batch: TrainingBatch)], microBatchCount: Int, targets: Int, learningRate: Float, step: Int
    ) throws -> (Float, Float) {
        guard targets > 0 else { return (0, 0) }
        let group = parallel.group
        let ordered = group.size > 1 && parallel.reduction == .ordered
        var summed: [Float]?, perMicroBatch = [(index: Int, gradients: [Float], loss: Double)]()
        var localLoss = 0.0
        for (index, batch) in microBatches where batch.targetCount > 0 {
            optimizer.zeroGradients()
            var passRandomness = SeededGenerator.stream(seed: options.seed, Self.adapterRandomness, UInt64(step), UInt64(index))
            adapter.beginTrainingStep(randomSeed: passRandomness.next())
            let loss = try loss(of: batch, recomputingLayers: memory.recomputesActivations)
            let weightedLoss = Double(loss.value.scalars[0]) * Double(batch.targetCount)
            try loss.backward(seed: Tensor(scalar: Float(batch.targetCount) / Float(targets)))
            let gradients = flatGradients.flatten()
            if ordered {
                perMicroBatch.append((index, gradients, weightedLoss))
            } else if summed == nil {
                summed = gradients
            } else {
                gradients.withUnsafeBufferPointer { FlatGradients.add($0, into: &summed!) }
            }
            localLoss += weightedLoss
        }
        optimizer.zeroGradients()

        var total: Double
        if ordered {
            (summed, total) = try gatherInOrder(perMicroBatch, microBatchCount: microBatchCount)
        } else {
            total = localLoss
            if group.size > 1 {
                var buffer = summed ?? [Float](repeating: 0, count: flatGradients.count)
                buffer[flatGradients.lossSlot] = Float(localLoss)
                try communicating { try buffer.withUnsafeMutableBufferPointer { try group.sumInPlace($0) } }
                total = Double(buffer[flatGradients.lossSlot])
                summed = buffer
            }
        }
        let stepLoss = Float(total / Double(targets))
        guard stepLoss.isFinite else { throw TrainingError.nonFiniteLoss(step: step) }
        if let summed { try summed.withUnsafeBufferPointer { try flatGradients.restore($0) } }
        let norm = GradientClipping.clipGlobalNorm(optimizer.parameters, maxNorm: options.maxGradientNorm ?? .infinity)
        optimizer.learningRate = learningRate
        try optimizer.step()
        optimizer.zeroGradients()
        return (stepLoss, norm)
    }

    /// ``GradientReduction/ordered``: every rank's micro-batch gradients gathered, and added in
    /// micro-batch order as one process adds them; returns the sum and the summed weighted loss.
    private func gatherInOrder(
        _ mine: [(index: Int, gradients: [Float], loss: Double)], microBatchCount: Int
    ) throws -> ([Float]?, Double) {
        let group = parallel.group, width = flatGradients.count
        let slots = (microBatchCount + group.size - 1) / group.size
        // Slot k of rank r holds micro-batch k × size + r; an empty slot (no such micro-batch, or
        // one without response tokens) is all zeros with loss slot -1.
        var outgoing = [Float](repeating: 0, count: slots * width)
        var losses = [Double](repeating: 0, count: slots)
        for slot in 0..<slots { outgoing[slot * width + flatGradients.lossSlot] = -1 }
        for micro in mine {
            let slot = micro.index / group.size
            outgoing.replaceSubrange((slot * width)..<((slot + 1) * width), with: micro.gradients)
            losses[slot] = micro.loss
        }
        let (gathered, gatheredLosses) = try communicating { (try group.gather(outgoing), try group.gather(losses)) }
        var summed: [Float]?, total = 0.0
        for index in 0..<microBatchCount {
            let (rank, slot) = (index % group.size, index / group.size)
            let offset = (rank * slots + slot) * width
            guard gathered[offset + flatGradients.lossSlot] == 0 else { continue }
            total += gatheredLosses[rank * slots + slot]
            gathered.withUnsafeBufferPointer { all in
                let gradients = UnsafeBufferPointer(rebasing: all[offset..<(offset + width)])
                if summed == nil { summed = Array(gradients) } else { FlatGradients.add(gradients, into: &summed!) }
            }
        }
        return (summed, total)
    }

    /// Runs a collective operation, adding its time to ``communicationSeconds``.
    private func communicating<Result>(_ body: () throws -> Result) throws -> Result {
        let clock = ContinuousClock(), start = clock.now
        defer { communicationSeconds += Self.seconds(clock.now - start) }
        return try body()
    }

    /// Compares checksums of everything that shapes the run across the ranks: the model's weights,
    /// the adapter's (after any resume), the training and dev data, the options and the step the
    /// run starts from.
    /// - Throws: ``DataParallelError/ranksDisagree(what:rank:)`` on every rank if any rank differs
    ///   from rank 0.
    private func checkRanksAgree(fingerprint: String, devFingerprint: String?, step: Int) throws {
        let trajectory = options.trajectorySettings.map { "\($0.name)=\($0.value)" }.joined(separator: ";")
        let checks: [(what: String, value: UInt64)] = [
            ("model weights", ContentChecksum.of(model.namedParameters.map { ($0.name, $0.variable.value) })),
            ("adapter (type, configuration and initial weights)",
             ContentChecksum.of(adapter.namedParameters.map { ($0.name, $0.variable.value) }) ^ ContentChecksum.of(type(of: adapter).peftType)),
            ("training data", ContentChecksum.of(fingerprint)),
            ("dev data", ContentChecksum.of(devFingerprint ?? "none")),
            ("training options", ContentChecksum.of(trajectory)),
            ("starting step (a resumed checkpoint)", UInt64(step)),
        ]
        // Not counted in communicationSeconds: it also waits for the slowest rank to load its model.
        let gathered = try parallel.group.gather(checks.map(\.value))
        for rank in 1..<parallel.group.size {
            for (index, check) in checks.enumerated() where gathered[rank * checks.count + index] != gathered[index] {
                throw DataParallelError.ranksDisagree(what: check.what, rank: rank)
            }
        }
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

    /// The order in which a step's drawn example indices are cut into micro-batches: as drawn, or
    /// with `groupsByLength` by token count, shortest first and ties in drawing order (so the
    /// order depends only on the draw, and a resumed run cuts the same micro-batches).
    static func stepOrder(_ drawn: [Int], of examples: [EncodedExample], groupsByLength: Bool) -> [Int] {
        guard groupsByLength else { return drawn }
        return drawn.enumerated()
            .sorted { (examples[$0.element].tokens.count, $0.offset) < (examples[$1.element].tokens.count, $1.offset) }
            .map(\.element)
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}

/// How a run's examples fall into optimizer steps, and its learning-rate schedule.
struct TrainingPlan {
    let exampleCount: Int
    /// `batchSize × gradientAccumulationSteps × processes`.
    let examplesPerStep: Int
    /// The processes of a data-parallel run, each taking its share of every step's examples.
    let processes: Int
    /// Optimizer steps per epoch; the last one takes the remainder.
    let stepsPerEpoch: Int
    /// Optimizer steps in the run: every epoch's, or `maxSteps` if fewer.
    let totalSteps: Int
    /// Warm-up over the first `warmupFraction` of the steps (rounded up), then the decay.
    let schedule: LearningRateSchedule

    init(exampleCount: Int, options: TrainingOptions, processes: Int = 1) {
        self.exampleCount = exampleCount
        self.processes = processes
        examplesPerStep = options.batchSize * options.gradientAccumulationSteps * processes
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
