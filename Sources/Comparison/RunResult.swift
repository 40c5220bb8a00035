import TaskSuite

/// Correct answers out of a number of examples.
public struct Score: Codable, Equatable, Sendable {
    /// Examples answered correctly.
    public var correct: Int
    /// Examples evaluated.
    public var total: Int

    /// `correct` of `total`.
    public init(correct: Int, total: Int) {
        self.correct = correct
        self.total = total
    }

    /// `correct / total`, a fraction in 0...1 (0 for no examples).
    public var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }
}

/// One point of a run's learning curve: a dev evaluation after some optimizer steps.
public struct CurvePoint: Codable, Equatable, Sendable {
    /// Optimizer steps done.
    public var step: Int
    /// Greedy exact match on the dev split.
    public var dev: Score
    /// The mean dev loss per answer token, in nats.
    public var devLoss: Float
    /// The running training loss (mean of the last 20 steps), in nats per answer token.
    public var trainLoss: Float

    /// A point with the given values; see each property for its meaning.
    public init(step: Int, dev: Score, devLoss: Float, trainLoss: Float) {
        self.step = step
        self.dev = dev
        self.devLoss = devLoss
        self.trainLoss = trainLoss
    }
}

/// What one run produced: its key, its size, how training ended and its accuracies.
///
/// Stored as one small JSON file per run in the work directory (``ResultStore``).
public struct RunResult: Codable, Equatable, Sendable {
    /// Which run this is.
    public var key: RunKey
    /// The adapter's trainable parameters (0 for the base model).
    public var trainableParameters: Int
    /// Optimizer steps taken.
    public var steps: Int
    /// The mean loss of the last (up to) 20 optimizer steps, in nats per answer token; `nil` when
    /// nothing was trained.
    public var finalTrainLoss: Float?
    /// When training stopped with a non-finite loss: the step at which it did. The adapter is then
    /// evaluated with the weights of the last finite step.
    public var divergedAtStep: Int?
    /// Greedy exact match on the dev split of the run's tasks at its best dev point (the
    /// learning-rate search's criterion).
    public var dev: Score
    /// The mean dev loss per answer token at the best dev point, in nats.
    public var devLoss: Float?
    /// The dev evaluations made while training, in step order (empty for the base model).
    public var curve: [CurvePoint]
    /// The step of the best dev point, whose weights the test splits are evaluated with; `nil` for the
    /// base model.
    public var bestStep: Int?
    /// Whether the run stopped before its cap because ``ComparisonSettings/patience`` ran out.
    public var stoppedEarly: Bool
    /// Greedy exact match on test-seen, per task (keyed by ``TaskKind/rawValue``).
    public var testSeen: [String: Score]
    /// Greedy exact match on test-unseen, per task (keyed by ``TaskKind/rawValue``).
    public var testUnseen: [String: Score]
    /// Real (non-padding) tokens through the model in training, prompts and answers.
    public var trainTokens: Int
    /// Examples per forward and backward pass, the step's examples ordered by length first
    /// (``BaseSpec/microBatch``); `nil`: each step's examples in one pass (every run made before the
    /// setting existed). The step computes the same either way, up to float rounding.
    public var microBatch: Int?
    /// Seconds spent training.
    public var trainSeconds: Double
    /// Seconds spent evaluating (dev loss and the three generations).
    public var evaluationSeconds: Double

    /// A result with the given values; see each property for its meaning.
    public init(
        key: RunKey, trainableParameters: Int, steps: Int, finalTrainLoss: Float?, divergedAtStep: Int? = nil, dev: Score,
        devLoss: Float?, curve: [CurvePoint] = [], bestStep: Int? = nil, stoppedEarly: Bool = false, testSeen: [String: Score], testUnseen: [String: Score], trainTokens: Int = 0, microBatch: Int? = nil,
        trainSeconds: Double, evaluationSeconds: Double
    ) {
        self.key = key
        self.trainableParameters = trainableParameters
        self.steps = steps
        self.finalTrainLoss = finalTrainLoss
        self.divergedAtStep = divergedAtStep
        self.dev = dev
        self.devLoss = devLoss
        self.curve = curve
        self.bestStep = bestStep
        self.stoppedEarly = stoppedEarly
        self.testSeen = testSeen
        self.testUnseen = testUnseen
        self.trainTokens = trainTokens
        self.microBatch = microBatch
        self.trainSeconds = trainSeconds
        self.evaluationSeconds = evaluationSeconds
    }

    /// Training throughput in tokens per second; `nil` when nothing was trained.
    public var trainTokensPerSecond: Double? {
        trainTokens > 0 && trainSeconds > 0 ? Double(trainTokens) / trainSeconds : nil
    }

    /// Training and evaluation seconds together.
    public var seconds: Double { trainSeconds + evaluationSeconds }

    /// The accuracy on `task` in the test split `split` (``TaskSplit/testSeen`` or
    /// ``TaskSplit/testUnseen``), a fraction; `nil` if that task was not evaluated.
    public func accuracy(_ task: TaskKind, in split: TaskSplit) -> Double? {
        (split == .testUnseen ? testUnseen : testSeen)[task.rawValue]?.accuracy
    }

    /// The mean over the evaluated tasks of their accuracy in `split` (each task counts alike);
    /// `nil` if none was evaluated.
    public func averageAccuracy(in split: TaskSplit) -> Double? {
        let scores = (split == .testUnseen ? testUnseen : testSeen).values
        return scores.isEmpty ? nil : scores.reduce(0) { $0 + $1.accuracy } / Double(scores.count)
    }
}
