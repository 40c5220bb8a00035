import Autograd
import Foundation

/// The settings of a training run.
///
/// One optimizer step consumes `batchSize × gradientAccumulationSteps` examples (fewer at the end
/// of an epoch), as `gradientAccumulationSteps` micro-batches of `batchSize`. The defaults follow
/// the IAPT paper's recipe (AdamW, learning rate 1e-4, 6 % linear warm-up, linear decay).
public struct TrainingOptions: Sendable, Equatable, Codable {
    /// Passes over the training examples.
    public var epochs: Int
    /// Stop after this many optimizer steps even if epochs remain (the schedule then spans them).
    public var maxSteps: Int?
    /// Examples per micro-batch (one forward and backward pass).
    public var batchSize: Int
    /// Micro-batches per optimizer step.
    public var gradientAccumulationSteps: Int
    /// The peak learning rate of the schedule.
    public var learningRate: Float
    /// The fraction of all optimizer steps spent warming up linearly from 0 (rounded up to steps).
    public var warmupFraction: Float
    /// The decay after warm-up, to 0 at the last step.
    public var decay: LearningRateSchedule.Decay
    /// AdamW's decoupled weight decay, applied where the adapter's parameter groups allow it.
    public var weightDecay: Float
    /// Clip gradients to this global L2 norm before each step; `nil` for no clipping.
    public var maxGradientNorm: Float?
    /// Seeds the order of examples; the same seed, data and options give the same run.
    public var seed: UInt64
    /// Whether to shuffle the examples each epoch (in order otherwise).
    public var shuffle: Bool
    /// Evaluate the dev loss every this many optimizer steps; `nil`: at the end of every epoch.
    /// With dev data, the last step is always evaluated too.
    public var evaluateEvery: Int?
    /// Stop after this many evaluations in a row without a lower dev loss, and end with the best
    /// weights; `nil` for no early stopping.
    public var earlyStoppingPatience: Int?
    /// Where checkpoints are written (`checkpoint-<step>` folders); `nil` for none.
    public var checkpointDirectory: URL?
    /// Write a checkpoint every this many optimizer steps (and always when training ends);
    /// `nil`: only when training ends.
    public var checkpointEvery: Int?
    /// Keep only the newest this many checkpoints, deleting older `checkpoint-<step>` folders;
    /// `nil` keeps all.
    public var checkpointsToKeep: Int?

    private enum CodingKeys: String, CodingKey {
        case epochs, maxSteps = "max_steps", batchSize = "batch_size", gradientAccumulationSteps = "gradient_accumulation_steps"
        case learningRate = "learning_rate", warmupFraction = "warmup_fraction", decay, weightDecay = "weight_decay"
        case maxGradientNorm = "max_gradient_norm", seed, shuffle, evaluateEvery = "evaluate_every"
        case earlyStoppingPatience = "early_stopping_patience", checkpointDirectory = "checkpoint_directory"
        case checkpointEvery = "checkpoint_every", checkpointsToKeep = "checkpoints_to_keep"
    }

    /// Options with the given settings; see each property for its meaning.
    public init(
        epochs: Int = 3, maxSteps: Int? = nil, batchSize: Int = 8, gradientAccumulationSteps: Int = 1,
        learningRate: Float = 1e-4, warmupFraction: Float = 0.06, decay: LearningRateSchedule.Decay = .linear,
        weightDecay: Float = 0, maxGradientNorm: Float? = 1, seed: UInt64 = 0, shuffle: Bool = true,
        evaluateEvery: Int? = nil, earlyStoppingPatience: Int? = nil, checkpointDirectory: URL? = nil,
        checkpointEvery: Int? = nil, checkpointsToKeep: Int? = nil
    ) {
        self.epochs = epochs
        self.maxSteps = maxSteps
        self.batchSize = batchSize
        self.gradientAccumulationSteps = gradientAccumulationSteps
        self.learningRate = learningRate
        self.warmupFraction = warmupFraction
        self.decay = decay
        self.weightDecay = weightDecay
        self.maxGradientNorm = maxGradientNorm
        self.seed = seed
        self.shuffle = shuffle
        self.evaluateEvery = evaluateEvery
        self.earlyStoppingPatience = earlyStoppingPatience
        self.checkpointDirectory = checkpointDirectory
        self.checkpointEvery = checkpointEvery
        self.checkpointsToKeep = checkpointsToKeep
    }

    /// - Throws: ``TrainingError/invalidOptions(_:)`` naming the first setting out of range.
    func validate() throws {
        func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
            if !condition { throw TrainingError.invalidOptions(message()) }
        }
        try require(epochs >= 1, "epochs must be at least 1, got \(epochs)")
        try require((maxSteps ?? 1) >= 1, "maxSteps must be at least 1, got \(maxSteps ?? 0)")
        try require(batchSize >= 1, "batchSize must be at least 1, got \(batchSize)")
        try require(gradientAccumulationSteps >= 1, "gradientAccumulationSteps must be at least 1, got \(gradientAccumulationSteps)")
        try require(!batchSize.multipliedReportingOverflow(by: gradientAccumulationSteps).overflow,
                    "batchSize × gradientAccumulationSteps is too large")
        try require(learningRate > 0 && learningRate.isFinite, "learningRate must be positive, got \(learningRate)")
        try require(warmupFraction >= 0 && warmupFraction < 1, "warmupFraction must be in [0, 1), got \(warmupFraction)")
        try require(weightDecay >= 0 && weightDecay.isFinite, "weightDecay must be ≥ 0, got \(weightDecay)")
        try require(maxGradientNorm.map { $0 > 0 && $0.isFinite } ?? true, "maxGradientNorm must be positive, got \(maxGradientNorm ?? 0)")
        try require((evaluateEvery ?? 1) >= 1, "evaluateEvery must be at least 1, got \(evaluateEvery ?? 0)")
        try require((earlyStoppingPatience ?? 1) >= 1, "earlyStoppingPatience must be at least 1, got \(earlyStoppingPatience ?? 0)")
        try require((checkpointEvery ?? 1) >= 1, "checkpointEvery must be at least 1, got \(checkpointEvery ?? 0)")
        try require((checkpointsToKeep ?? 1) >= 1, "checkpointsToKeep must be at least 1, got \(checkpointsToKeep ?? 0)")
    }

    /// The settings that shape the trajectory of a run, by name, for comparing a checkpoint's
    /// options with a resumed run's (where checkpoints go does not matter).
    var trajectorySettings: [(name: String, value: String)] {
        [("epochs", "\(epochs)"), ("maxSteps", "\(maxSteps.map(String.init) ?? "none")"), ("batchSize", "\(batchSize)"),
         ("gradientAccumulationSteps", "\(gradientAccumulationSteps)"), ("learningRate", "\(learningRate)"),
         ("warmupFraction", "\(warmupFraction)"), ("decay", decay.rawValue), ("weightDecay", "\(weightDecay)"),
         ("maxGradientNorm", "\(maxGradientNorm.map { "\($0)" } ?? "none")"), ("seed", "\(seed)"), ("shuffle", "\(shuffle)"),
         ("evaluateEvery", "\(evaluateEvery.map(String.init) ?? "none")"),
         ("earlyStoppingPatience", "\(earlyStoppingPatience.map(String.init) ?? "none")")]
    }
}

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
/// `restored_best_weights`, `wall_seconds`, `tokens_per_second`, `history`, `evaluations`).
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
    /// Real tokens through the model per second, over the whole run.
    public var tokensPerSecond: Double
    /// Every optimizer step's loss and learning rate.
    public var history: [TrainingStepRecord]
    /// Every dev evaluation.
    public var evaluations: [EvaluationRecord]

    private enum CodingKeys: String, CodingKey {
        case steps, totalSteps = "total_steps", finalTrainLoss = "final_train_loss", bestDevLoss = "best_dev_loss"
        case bestStep = "best_step", stoppedEarly = "stopped_early", stoppedByCallback = "stopped_by_callback"
        case restoredBestWeights = "restored_best_weights", wallSeconds = "wall_seconds", tokensPerSecond = "tokens_per_second"
        case history, evaluations
    }
}

/// An error from training: what is wrong, and where.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    /// A training option is out of range; the associated value says which.
    case invalidOptions(String)
    /// There is nothing to train or evaluate on; the associated value names the set.
    case noExamples(String)
    /// A token id lies outside the model's vocabulary; associated values: the set, the example's
    /// index, the token and the vocabulary size.
    case tokenOutOfRange(set: String, example: Int, token: Int, vocabularySize: Int)
    /// A backbone weight requires gradients (the backbone must be frozen); the value names it.
    case backboneNotFrozen(weight: String)
    /// The adapter has no trainable parameters.
    case nothingToTrain
    /// The loss stopped being a finite number at the given step (learning rate too high, or an
    /// example without instruction tokens for an instruction-aware adapter).
    case nonFiniteLoss(step: Int)
    /// A checkpoint cannot be read or does not fit this run; associated values: the path and why.
    case badCheckpoint(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidOptions(detail): return "invalid training options: \(detail)"
        case let .noExamples(set): return "no \(set) examples"
        case let .tokenOutOfRange(set, example, token, vocabularySize):
            return "\(set) example \(example): token \(token) is outside the model's vocabulary of \(vocabularySize)"
        case let .backboneNotFrozen(weight):
            return "the backbone must be frozen, but '\(weight)' requires gradients (load the model with trainable: false)"
        case .nothingToTrain: return "the adapter has no trainable parameters"
        case let .nonFiniteLoss(step):
            return "the training loss is not a finite number at step \(step); lower the learning rate, and give every example at least one prompt token"
        case let .badCheckpoint(path, reason): return "\(path): \(reason)"
        }
    }
}
