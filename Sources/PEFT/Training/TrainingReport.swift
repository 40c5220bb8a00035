import Autograd
import Foundation

/// What the progress callback tells the trainer after each optimizer step.
public enum TrainingControl: Sendable, Equatable {
    /// Go on training.
    case proceed
    /// Stop now: a checkpoint is written (if checkpoints are on) and ``Trainer/train(on:dev:progress:)``
    /// returns its report.
    case stop
}

/// The state of training after one optimizer step, for progress display.
public struct TrainingProgress: Sendable, Equatable {
    /// Optimizer steps done, from 1.
    public var step: Int
    /// Optimizer steps the run will take if not stopped early.
    public var totalSteps: Int
    /// The epoch this step belongs to, from 1.
    public var epoch: Int
    /// The number of epochs (fewer are run when `maxSteps` ends the run first).
    public var epochs: Int
    /// The running training loss: the mean of the last (up to) ``Trainer/runningLossWindow`` step
    /// losses, in nats per response token.
    public var loss: Float
    /// This step's loss: the mean over the response tokens of its micro-batches.
    public var stepLoss: Float
    /// The learning rate used for this step.
    public var learningRate: Float
    /// The global gradient norm before clipping.
    public var gradientNorm: Float
    /// Real (non-padding) tokens through the model per second of training, in this session.
    public var tokensPerSecond: Double
    /// Seconds of training so far, including those before a resume.
    public var elapsedSeconds: Double
    /// Estimated seconds until the last step, from this session's pace; `nil` before it is known.
    public var etaSeconds: Double?
    /// The mean dev loss per response token, when an evaluation ran after this step.
    public var evalLoss: Float?

    /// Progress with the given values; see each property for its meaning.
    public init(
        step: Int, totalSteps: Int, epoch: Int, epochs: Int, loss: Float, stepLoss: Float, learningRate: Float,
        gradientNorm: Float, tokensPerSecond: Double, elapsedSeconds: Double, etaSeconds: Double?, evalLoss: Float?
    ) {
        self.step = step
        self.totalSteps = totalSteps
        self.epoch = epoch
        self.epochs = epochs
        self.loss = loss
        self.stepLoss = stepLoss
        self.learningRate = learningRate
        self.gradientNorm = gradientNorm
        self.tokensPerSecond = tokensPerSecond
        self.elapsedSeconds = elapsedSeconds
        self.etaSeconds = etaSeconds
        self.evalLoss = evalLoss
    }
}

/// One optimizer step in a run's history.
public struct TrainingStepRecord: Sendable, Equatable, Codable {
    /// The step, from 1.
    public var step: Int
    /// The step's mean loss per response token.
    public var loss: Float
    /// The learning rate used.
    public var learningRate: Float

    /// A record of step `step`.
    public init(step: Int, loss: Float, learningRate: Float) {
        self.step = step
        self.loss = loss
        self.learningRate = learningRate
    }

    private enum CodingKeys: String, CodingKey { case step, loss, learningRate = "learning_rate" }
}

/// One evaluation of the dev loss in a run's history.
public struct EvaluationRecord: Sendable, Equatable, Codable {
    /// The optimizer step after which it ran.
    public var step: Int
    /// The mean dev loss per response token.
    public var loss: Float
}

/// What a training run did; `Codable` with snake-case keys (`steps`, `total_steps`,
/// `final_train_loss`, `best_dev_loss`, `best_step`, `stopped_early`, `stopped_by_callback`,
/// `restored_best_weights`, `wall_seconds`, `tokens_per_second`, `history`, `evaluations`,
/// `processes`, `communication_seconds`).
public struct TrainingReport: Sendable, Equatable, Codable {
    /// Optimizer steps done in total (including those before a resume).
    public var steps: Int
    /// Optimizer steps the run would take without stopping early.
    public var totalSteps: Int
    /// The running training loss at the end (see ``TrainingProgress/loss``); `nil` if no step ran.
    public var finalTrainLoss: Float?
    /// The lowest dev loss evaluated, per response token; `nil` without dev data.
    public var bestDevLoss: Float?
    /// The step after which ``bestDevLoss`` was reached.
    public var bestStep: Int?
    /// Whether early stopping ended the run (patience ran out).
    public var stoppedEarly: Bool
    /// Whether the progress callback ended the run.
    public var stoppedByCallback: Bool
    /// Whether the adapter was set back to the weights of ``bestStep`` at the end (always so when
    /// early stopping is configured and an evaluation ran).
    public var restoredBestWeights: Bool
    /// Seconds spent training, including those before a resume.
    public var wallSeconds: Double
    /// Real tokens through the model per second, over the whole run (all ranks of a data-parallel
    /// run together).
    public var tokensPerSecond: Double
    /// Every optimizer step's loss and learning rate.
    public var history: [TrainingStepRecord]
    /// Every dev evaluation.
    public var evaluations: [EvaluationRecord]
    /// The processes of a data-parallel run (1 for none; `nil` in reports written before them).
    public var processes: Int?
    /// Seconds this session spent in the ranks' collective operations (gradient reductions,
    /// gathers); `nil` for a single process.
    public var communicationSeconds: Double?

    private enum CodingKeys: String, CodingKey {
        case steps, totalSteps = "total_steps", finalTrainLoss = "final_train_loss", bestDevLoss = "best_dev_loss"
        case bestStep = "best_step", stoppedEarly = "stopped_early", stoppedByCallback = "stopped_by_callback"
        case restoredBestWeights = "restored_best_weights", wallSeconds = "wall_seconds", tokensPerSecond = "tokens_per_second"
        case history, evaluations, processes, communicationSeconds = "communication_seconds"
    }
}
