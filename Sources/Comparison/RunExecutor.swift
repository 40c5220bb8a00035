import Autograd
import Foundation
import PEFT
import TaskSuite
import Transformer

/// Makes one run: builds the method's adapter, trains it with the comparison's recipe, and evaluates
/// greedy exact match on dev, test-seen and test-unseen (per task), plus the dev loss.
struct RunExecutor {
    let settings: ComparisonSettings
    let data: ComparisonData
    /// Called after every optimizer step (for a progress bar); never stops training.
    let trainingProgress: ((TrainingProgress) -> Void)?

    /// Runs `key` on `base`.
    /// - Throws: errors of the adapters, trainer and evaluator (a non-finite loss is not one: the run
    ///   is then recorded as diverged and evaluated with the weights of the last finite step).
    func execute(_ key: RunKey, on base: LoadedBase) throws -> RunResult {
        let clock = ContinuousClock()
        let adapter = try key.method.makeAdapter(for: base.model, loraRank: base.description.loraRank, seed: UInt64(key.seed))
        let trainStart = clock.now
        var steps = 0, trainTokens = 0, finalTrainLoss: Float?, divergedAtStep: Int?
        var trainer: Trainer?
        if let adapter, let learningRate = key.learningRate {
            let training = try base.encoder.encode(examples(.train, key).map(ComparisonData.instruction))
            let options = trainingOptions(exampleCount: training.count, setting: key.setting, learningRate: learningRate, seed: key.seed)
            let run = try Trainer(model: base.model, adapter: adapter, options: options)
            trainer = run
            do {
                let report = try run.train(on: training) { progress in
                    steps = progress.step
                    finalTrainLoss = progress.loss
                    trainTokens = Int((progress.tokensPerSecond * progress.elapsedSeconds).rounded())
                    trainingProgress?(progress)
                    return .proceed
                }
                (steps, finalTrainLoss) = (report.steps, report.finalTrainLoss)
            } catch let TrainingError.nonFiniteLoss(step) {
                divergedAtStep = step
            }
        }
        let trainSeconds = Self.seconds(clock.now - trainStart)

        let evaluationStart = clock.now
        let devExamples = examples(.dev, key)
        let devLoss = try trainer?.evaluateLoss(base.encoder.encode(devExamples.map(ComparisonData.instruction)))
        let evaluator = try Evaluator(model: base.model, encoder: base.encoder, batchSize: settings.evaluationBatchSize)
        func scores(_ split: TaskSplit) throws -> [String: Score] {
            let evaluated = examples(split, key)
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
        let dev = try scores(.dev).values.reduce(Score(correct: 0, total: 0)) {
            Score(correct: $0.correct + $1.correct, total: $0.total + $1.total)
        }
        let testSeen = try scores(.testSeen), testUnseen = try scores(.testUnseen)
        return RunResult(
            key: key, trainableParameters: adapter?.trainableParameterCount ?? 0, steps: steps, finalTrainLoss: finalTrainLoss,
            divergedAtStep: divergedAtStep, dev: dev, devLoss: devLoss, testSeen: testSeen, testUnseen: testUnseen,
            trainTokens: trainTokens, trainSeconds: trainSeconds, evaluationSeconds: Self.seconds(clock.now - evaluationStart))
    }

    /// The examples of `split` the run of `key` uses: every compared task (mixed) or its own task.
    private func examples(_ split: TaskSplit, _ key: RunKey) -> [TaskExample] {
        data.examples(in: split, task: key.setting == .perTask ? key.task : nil)
    }

    /// The recipe: `steps(for: setting)` optimizer steps of ``ComparisonSettings/batchSize`` examples,
    /// as many epochs as that takes, warm-up then linear decay, AdamW without weight decay, clipping at 1.
    func trainingOptions(exampleCount: Int, setting: ComparisonSetting, learningRate: Float, seed: Int) -> TrainingOptions {
        let steps = settings.steps(for: setting)
        let stepsPerEpoch = (exampleCount + settings.batchSize - 1) / settings.batchSize
        return TrainingOptions(
            epochs: max(1, (steps + stepsPerEpoch - 1) / stepsPerEpoch), maxSteps: steps, batchSize: settings.batchSize,
            learningRate: learningRate, warmupFraction: settings.warmupFraction, decay: .linear, weightDecay: 0,
            maxGradientNorm: ComparisonSettings.maxGradientNorm, seed: UInt64(seed), shuffle: true)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}
