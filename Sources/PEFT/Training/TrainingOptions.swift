import Autograd
import Foundation

/// The settings of a training run.
///
/// One optimizer step consumes `batchSize × gradientAccumulationSteps` examples (fewer at the end
/// of an epoch), as `gradientAccumulationSteps` micro-batches of `batchSize`; with
/// ``groupsByLength`` the step's examples are first ordered by length, so that each micro-batch
/// pads to a length close to its own examples'. The defaults follow
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
    /// Whether each step's examples are ordered by token count (shortest first, ties in drawing
    /// order) before they are cut into micro-batches. The step's examples and its gradient are the
    /// same either way (up to float rounding: the micro-batches sum in another grouping); what
    /// changes is the padding, since a micro-batch pads every row to its longest. Worth it when
    /// examples differ in length and a step has several micro-batches.
    public var groupsByLength: Bool

    private enum CodingKeys: String, CodingKey {
        case epochs, maxSteps = "max_steps", batchSize = "batch_size", gradientAccumulationSteps = "gradient_accumulation_steps"
        case learningRate = "learning_rate", warmupFraction = "warmup_fraction", decay, weightDecay = "weight_decay"
        case maxGradientNorm = "max_gradient_norm", seed, shuffle, evaluateEvery = "evaluate_every"
        case earlyStoppingPatience = "early_stopping_patience", checkpointDirectory = "checkpoint_directory"
        case checkpointEvery = "checkpoint_every", checkpointsToKeep = "checkpoints_to_keep"
        case groupsByLength = "groups_by_length"
    }

    /// Options with the given settings; see each property for its meaning.
    public init(
        epochs: Int = 3, maxSteps: Int? = nil, batchSize: Int = 8, gradientAccumulationSteps: Int = 1,
        learningRate: Float = 1e-4, warmupFraction: Float = 0.06, decay: LearningRateSchedule.Decay = .linear,
        weightDecay: Float = 0, maxGradientNorm: Float? = 1, seed: UInt64 = 0, shuffle: Bool = true,
        evaluateEvery: Int? = nil, earlyStoppingPatience: Int? = nil, checkpointDirectory: URL? = nil,
        checkpointEvery: Int? = nil, checkpointsToKeep: Int? = nil, groupsByLength: Bool = false
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
        self.groupsByLength = groupsByLength
    }

    /// Decodes options as ``encode(to:)`` writes them; `groups_by_length` may be missing (files
    /// written before it existed), meaning `false`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            epochs: try container.decode(Int.self, forKey: .epochs),
            maxSteps: try container.decodeIfPresent(Int.self, forKey: .maxSteps),
            batchSize: try container.decode(Int.self, forKey: .batchSize),
            gradientAccumulationSteps: try container.decode(Int.self, forKey: .gradientAccumulationSteps),
            learningRate: try container.decode(Float.self, forKey: .learningRate),
            warmupFraction: try container.decode(Float.self, forKey: .warmupFraction),
            decay: try container.decode(LearningRateSchedule.Decay.self, forKey: .decay),
            weightDecay: try container.decode(Float.self, forKey: .weightDecay),
            maxGradientNorm: try container.decodeIfPresent(Float.self, forKey: .maxGradientNorm),
            seed: try container.decode(UInt64.self, forKey: .seed),
            shuffle: try container.decode(Bool.self, forKey: .shuffle),
            evaluateEvery: try container.decodeIfPresent(Int.self, forKey: .evaluateEvery),
            earlyStoppingPatience: try container.decodeIfPresent(Int.self, forKey: .earlyStoppingPatience),
            checkpointDirectory: try container.decodeIfPresent(URL.self, forKey: .checkpointDirectory),
            checkpointEvery: try container.decodeIfPresent(Int.self, forKey: .checkpointEvery),
            checkpointsToKeep: try container.decodeIfPresent(Int.self, forKey: .checkpointsToKeep),
            groupsByLength: try container.decodeIfPresent(Bool.self, forKey: .groupsByLength) ?? false)
    }

    /// The values the settings may take (the command line checks its options against the same).
    public static let epochRange = 1...100_000
    /// For `maxSteps`, `evaluateEvery` and `checkpointEvery`.
    public static let stepRange = 1...10_000_000
    /// For `batchSize` and `gradientAccumulationSteps`.
    public static let batchRange = 1...4096
    /// For `earlyStoppingPatience` and `checkpointsToKeep`.
    public static let countRange = 1...10_000
    /// Peak learning rates: beyond 10 no optimizer step means anything, below 1e-9 none moves a weight.
    public static let learningRateRange: ClosedRange<Float> = 1e-9...10
    public static let warmupRange: ClosedRange<Float> = 0...0.999
    public static let weightDecayRange: ClosedRange<Float> = 0...10
    /// For `maxGradientNorm` (0 on the command line means no clipping).
    public static let gradientNormRange: ClosedRange<Float> = Float.leastNormalMagnitude...1e6

    /// - Throws: ``TrainingError/invalidOptions(_:)`` naming the first setting out of its range.
    func validate() throws {
        func require<Value: Comparable>(_ value: Value?, in range: ClosedRange<Value>, _ name: String) throws {
            guard let value else { return }
            if let float = value as? Float, !float.isFinite {
                throw TrainingError.invalidOptions("\(name) must be a finite number in \(range.lowerBound)...\(range.upperBound), got \(float)")
            }
            if !range.contains(value) {
                throw TrainingError.invalidOptions("\(name) must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
            }
        }
        try require(epochs, in: Self.epochRange, "epochs")
        try require(maxSteps, in: Self.stepRange, "maxSteps")
        try require(batchSize, in: Self.batchRange, "batchSize")
        try require(gradientAccumulationSteps, in: Self.batchRange, "gradientAccumulationSteps")
        try require(learningRate, in: Self.learningRateRange, "learningRate")
        try require(warmupFraction, in: Self.warmupRange, "warmupFraction")
        try require(weightDecay, in: Self.weightDecayRange, "weightDecay")
        try require(maxGradientNorm, in: Self.gradientNormRange, "maxGradientNorm")
        try require(evaluateEvery, in: Self.stepRange, "evaluateEvery")
        try require(earlyStoppingPatience, in: Self.countRange, "earlyStoppingPatience")
        try require(checkpointEvery, in: Self.stepRange, "checkpointEvery")
        try require(checkpointsToKeep, in: Self.countRange, "checkpointsToKeep")
    }

    /// The settings that shape the trajectory of a run, by name, for comparing a checkpoint's
    /// options with a resumed run's (where checkpoints go does not matter).
    var trajectorySettings: [(name: String, value: String)] {
        [("epochs", "\(epochs)"), ("maxSteps", "\(maxSteps.map(String.init) ?? "none")"), ("batchSize", "\(batchSize)"),
         ("gradientAccumulationSteps", "\(gradientAccumulationSteps)"), ("learningRate", "\(learningRate)"),
         ("warmupFraction", "\(warmupFraction)"), ("decay", decay.rawValue), ("weightDecay", "\(weightDecay)"),
         ("maxGradientNorm", "\(maxGradientNorm.map { "\($0)" } ?? "none")"), ("seed", "\(seed)"), ("shuffle", "\(shuffle)"),
         ("evaluateEvery", "\(evaluateEvery.map(String.init) ?? "none")"),
         ("earlyStoppingPatience", "\(earlyStoppingPatience.map(String.init) ?? "none")"),
         ("groupsByLength", "\(groupsByLength)")]
    }
}
