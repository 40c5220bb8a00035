import Autograd
import Foundation
import PEFT
import TaskSuite
import Tensor
import Transformer

/// Makes one run: builds the method's adapter, trains it with the comparison's recipe, and evaluates
/// greedy exact match on dev, test-seen and test-unseen (per task), plus the dev loss.
struct RunExecutor {
    let settings: ComparisonSettings
    let data: ComparisonData
    /// Called after every optimizer step (for a progress bar); never stops training.
    let trainingProgress: ((TrainingProgress) -> Void)?
    /// Called with each point of a run's learning curve as soon as it is measured.
    var curvePoint: ((RunKey, CurvePoint) -> Void)? = nil

    /// How a run holds the frozen weights. Runs in one pass pack them for both products, as every
    /// run was made before `TrainingMemory.fastest` stopped packing and before micro-batches
    /// existed: such a run made again, or resumed, gives the committed figures to the last bit on
    /// the same CPU. Micro-batched runs (new since) take ``TrainingMemory/fastest``, one copy of
    /// the weights through BLAS.
    static func memory(microBatch: Int?) -> TrainingMemory {
        microBatch == nil ? TrainingMemory(recomputesActivations: false, packing: .forwardAndBackward) : .fastest
    }

    /// Runs `key` on `base`: trains up to the setting's cap with a dev evaluation every
    /// ``ComparisonSettings/evaluateEvery`` steps (and after the last), stops when
    /// ``ComparisonSettings/patience`` evaluations pass without a better dev point, then evaluates the
    /// test splits with the weights of the best dev point.
    ///
    /// "Better" is ``LearningRateSelection``'s order: higher dev exact match, then lower dev loss.
    /// - Throws: errors of the adapters, trainer and evaluator (a non-finite loss is not one: the run
    ///   is then recorded as diverged and evaluated with the weights of its best dev point, or of the
    ///   last finite step when it had none).
    func execute(_ key: RunKey, on base: LoadedBase) throws -> RunResult {
        let clock = ContinuousClock()
        let adapter = try key.method.makeAdapter(for: base.model, matchedRank: base.description.loraRank, seed: UInt64(key.seed))
        let evaluator = try Evaluator(model: base.model, encoder: base.encoder, batchSize: settings.evaluationBatchSize)
        let devExamples = examples(.dev, key)
        func scores(_ evaluated: [TaskExample]) throws -> [String: Score] {
            let wasTraining = adapter?.isTraining ?? false
            adapter?.isTraining = false
            defer { adapter?.isTraining = wasTraining }
            let report = try evaluator.exactMatch(
                evaluated.map(ComparisonData.instruction), adapter: adapter, maxNewTokens: base.description.maxNewTokens)
            var byTask: [String: Score] = [:]
            for prediction in report.predictions {
                let example = evaluated[prediction.index]
                let correct = TaskSuite.isCorrect(prediction.predicted, for: example) ? 1 : 0
                byTask[example.task.rawValue, default: Score(correct: 0, total: 0)].correct += correct
                byTask[example.task.rawValue, default: Score(correct: 0, total: 0)].total += 1
            }
            return byTask
        }
        func total(_ byTask: [String: Score]) -> Score {
            byTask.values.reduce(Score(correct: 0, total: 0)) { Score(correct: $0.correct + $1.correct, total: $0.total + $1.total) }
        }

        let microBatch = settings.microBatch(for: key.base)
        let trainStart = clock.now
        var steps = 0, trainTokens = 0, finalTrainLoss: Float?, divergedAtStep: Int?
        var curve: [CurvePoint] = []
        var best: (point: CurvePoint, weights: [String: Tensor])?
        var stoppedEarly = false
        var evaluationSeconds = 0.0
        var devLoss: Float?
        var trainer: Trainer?
        if let adapter, let learningRate = key.learningRate {
            let training = try base.encoder.encode(examples(.train, key).map(ComparisonData.instruction))
            let dev = try base.encoder.encode(devExamples.map(ComparisonData.instruction))
            let options = trainingOptions(
                exampleCount: training.count, steps: settings.steps(for: key.setting, base: key.base), learningRate: learningRate, seed: key.seed,
                microBatch: microBatch)
            let run = try Trainer(model: base.model, adapter: adapter, options: options, memory: Self.memory(microBatch: microBatch))
            trainer = run
            var sincePoint = 0, failure: (any Error)?
            do {
                let report = try run.train(on: training, dev: dev) { progress in
                    steps = progress.step
                    finalTrainLoss = progress.loss
                    trainTokens = Int((progress.tokensPerSecond * progress.elapsedSeconds).rounded())
                    trainingProgress?(progress)
                    guard let loss = progress.evalLoss else { return .proceed }
                    let evaluationStart = clock.now
                    defer { evaluationSeconds += Self.seconds(clock.now - evaluationStart) }
                    do {
                        let point = CurvePoint(step: progress.step, dev: total(try scores(devExamples)), devLoss: loss, trainLoss: progress.loss)
                        curve.append(point)
                        curvePoint?(key, point)
                        if best.map({ Self.isBetter(point, than: $0.point) }) ?? true {
                            best = (point, adapter.weights)
                            sincePoint = 0
                        } else {
                            sincePoint += 1
                        }
                    } catch {
                        failure = error
                        return .stop
                    }
                    if let patience = settings.patience, sincePoint >= patience {
                        stoppedEarly = true
                        return .stop
                    }
                    return .proceed
                }
                (steps, finalTrainLoss) = (report.steps, report.finalTrainLoss)
            } catch let TrainingError.nonFiniteLoss(step) {
                divergedAtStep = step
            }
            if let failure { throw failure }
            if let best {
                for (name, parameter) in adapter.namedParameters {
                    if let tensor = best.weights[name] { parameter.value = tensor }
                }
            }
        }
        let trainSeconds = Self.seconds(clock.now - trainStart) - evaluationSeconds

        let evaluationStart = clock.now
        let devScore: Score
        if let best {
            (devScore, devLoss) = (best.point.dev, best.point.devLoss)
        } else {
            devScore = total(try scores(devExamples))
            devLoss = try trainer?.evaluateLoss(base.encoder.encode(devExamples.map(ComparisonData.instruction)))
        }
        let testSeen = try scores(examples(.testSeen, key)), testUnseen = try scores(examples(.testUnseen, key))
        return RunResult(
            key: key, trainableParameters: adapter?.trainableParameterCount ?? 0, steps: steps, finalTrainLoss: finalTrainLoss,
            divergedAtStep: divergedAtStep, dev: devScore, devLoss: devLoss, curve: curve, bestStep: best?.point.step,
            stoppedEarly: stoppedEarly, testSeen: testSeen, testUnseen: testUnseen, trainTokens: trainTokens,
            microBatch: adapter == nil ? nil : microBatch, trainSeconds: trainSeconds, evaluationSeconds: evaluationSeconds + Self.seconds(clock.now - evaluationStart))
    }

    /// Whether dev point `point` is better than `other`: higher exact match, then lower loss (an
    /// earlier point wins a full tie, being seen first).
    static func isBetter(_ point: CurvePoint, than other: CurvePoint) -> Bool {
        LearningRateSelection.prefers(point.dev, point.devLoss, over: other.dev, other.devLoss) ?? false
    }

    /// The examples of `split` the run of `key` uses: every compared task (mixed) or its own task.
    private func examples(_ split: TaskSplit, _ key: RunKey) -> [TaskExample] {
        data.examples(in: split, task: key.setting == .perTask ? key.task : nil)
    }

    /// The recipe: up to `steps` optimizer steps of ``ComparisonSettings/batchSize`` examples, as many
    /// epochs as that takes, warm-up then linear decay, AdamW without weight decay, clipping at 1.
    /// The recipe's options for a run of `steps` steps over `exampleCount` examples: steps of
    /// ``ComparisonSettings/batchSize`` examples, in one pass or (`microBatch`) in passes of that many
    /// examples ordered by length, which draws the same examples for every step.
    func trainingOptions(exampleCount: Int, steps: Int, learningRate: Float, seed: Int, microBatch: Int? = nil) -> TrainingOptions {
        let stepsPerEpoch = (exampleCount + settings.batchSize - 1) / settings.batchSize
        let rows = microBatch ?? settings.batchSize
        return TrainingOptions(
            epochs: max(1, (steps + stepsPerEpoch - 1) / stepsPerEpoch), maxSteps: steps, batchSize: rows,
            gradientAccumulationSteps: settings.batchSize / rows,
            learningRate: learningRate, warmupFraction: settings.warmupFraction, decay: .linear, weightDecay: 0,
            maxGradientNorm: ComparisonSettings.maxGradientNorm, seed: UInt64(seed), shuffle: true,
            evaluateEvery: settings.evaluateEvery, groupsByLength: microBatch != nil)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}
