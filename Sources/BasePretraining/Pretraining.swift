import Autograd
import Foundation
import PEFT
import Tensor
import Transformer

/// Settings for next-token pre-training of every weight of a model.
public struct PretrainingOptions: Codable, Sendable, Equatable {
    /// Optimizer steps.
    public var steps: Int
    /// Windows per step.
    public var batchSize: Int
    /// Tokens per window (each window predicts its `sequenceLength` next tokens).
    public var sequenceLength: Int
    /// The peak learning rate, reached after warm-up and decayed to zero along a cosine.
    public var learningRate: Float
    /// The share of ``steps`` spent warming up linearly from zero.
    public var warmupFraction: Float
    /// AdamW's decoupled weight decay, applied to matrices only (not to norm weights).
    public var weightDecay: Float
    /// The global gradient norm is clipped to this before each step.
    public var maxGradientNorm: Float
    /// Seeds the window sampling. (The initial weights are the caller's.)
    public var seed: UInt64

    /// Options with the given values; see each property.
    public init(
        steps: Int, batchSize: Int = 16, sequenceLength: Int = 128, learningRate: Float = 3e-3,
        warmupFraction: Float = 0.05, weightDecay: Float = 0.1, maxGradientNorm: Float = 1, seed: UInt64 = 0
    ) {
        self.steps = steps
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.learningRate = learningRate
        self.warmupFraction = warmupFraction
        self.weightDecay = weightDecay
        self.maxGradientNorm = maxGradientNorm
        self.seed = seed
    }
}

/// What a pre-training run did.
public struct PretrainingReport: Codable, Sendable {
    /// Optimizer steps taken.
    public var steps: Int
    /// Tokens predicted in total (steps × batch × sequence length).
    public var tokens: Int
    /// The mean training loss of the last (up to) 50 steps, in nats per token.
    public var finalTrainLoss: Float
    /// The mean loss on the held-out stream, in nats per token, if one was given.
    public var heldOutLoss: Float?
    /// Seconds spent in the training loop.
    public var wallSeconds: Double
    /// ``tokens`` per second of ``wallSeconds``.
    public var tokensPerSecond: Double
    /// The loss of every 50th step (and the last), for a loss curve.
    public var lossCurve: [TrainingStepRecord]
}

/// Next-token pre-training of a whole model on plain text, as used to make the bundled base model.
///
/// Documents are tokenized, each ended with the end-of-sequence token, and concatenated into one
/// stream; each step trains on `batchSize` windows drawn at seeded random offsets (GPT-style packing:
/// a window may span document boundaries, and every document starts with `<s>`). The optimizer is
/// AdamW (β₂ 0.95) with linear warm-up and cosine decay, weight decay on matrices only, and global
/// gradient clipping.
public enum Pretraining {
    /// One stream of `documents`' tokens, each document followed by `endToken`.
    public static func packedStream(_ documents: [[Int]], endToken: Int) -> [Int] {
        var stream: [Int] = []
        stream.reserveCapacity(documents.reduce(0) { $0 + $1.count + 1 })
        for document in documents {
            stream += document
            stream.append(endToken)
        }
        return stream
    }

    /// Trains every trainable weight of `model` on `stream`.
    ///
    /// - Parameters:
    ///   - model: A model created with `trainable: true`; its weights change in place.
    ///   - stream: Token ids, each below the model's vocabulary size, at least `sequenceLength + 2` long.
    ///   - heldOut: An optional stream to measure the final loss on (up to 64 windows, no gradients).
    ///   - options: Steps, batch and optimizer settings.
    ///   - progress: Called after every step (the command-line tool draws its progress line from it); return `.stop` to end early.
    /// - Returns: The losses, token count and wall time.
    /// - Throws: ``TrainingError/invalidOptions(_:)`` for non-positive sizes, a stream too short for
    ///   one window or a token outside the vocabulary; ``TrainingError/nothingToTrain`` for a model
    ///   without trainable weights; ``TrainingError/nonFiniteLoss(step:)`` if the loss diverges; and
    ///   what the model's forward pass throws.
    public static func train(
        _ model: LlamaModel, on stream: [Int], heldOut: [Int]? = nil, options: PretrainingOptions,
        progress: ((TrainingProgress) -> TrainingControl)? = nil
    ) throws -> PretrainingReport {
        try validate(stream: stream, model: model, options: options, name: "stream")
        if let heldOut { try validate(stream: heldOut, model: model, options: options, name: "held-out stream") }
        let parameters = model.namedParameters.map(\.variable).filter(\.requiresGradient)
        guard !parameters.isEmpty else {
            throw TrainingError.nothingToTrain
        }
        let matrices = parameters.filter { $0.value.shape.count >= 2 }
        let vectors = parameters.filter { $0.value.shape.count < 2 }
        let optimizer = AdamW(
            groups: [ParameterGroup(matrices, weightDecay: options.weightDecay), ParameterGroup(vectors, weightDecay: 0)],
            learningRate: options.learningRate, beta2: 0.95)
        let schedule = LearningRateSchedule(
            peak: options.learningRate, totalSteps: options.steps,
            warmupSteps: Int((Float(options.steps) * options.warmupFraction).rounded()), decay: .cosine)
        var generator = SeededGenerator(seed: options.seed)
        let start = Date()
        var recent: [Float] = []
        var curve: [TrainingStepRecord] = []
        var stepsTaken = 0
        for step in 0..<options.steps {
            let (batch, targets) = try windows(from: stream, count: options.batchSize, length: options.sequenceLength, generator: &generator)
            optimizer.learningRate = schedule.learningRate(atStep: step)
            optimizer.zeroGradients()
            let logits = try model(batch).reshaped([-1, model.config.vocabSize])
            let loss = try Variable.crossEntropy(logits: logits, targets: targets)
            let value = loss.value.scalars[0]
            guard value.isFinite else { throw TrainingError.nonFiniteLoss(step: step + 1) }
            try loss.backward()
            let norm = GradientClipping.clipGlobalNorm(optimizer.parameters, maxNorm: options.maxGradientNorm)
            try optimizer.step()
            stepsTaken = step + 1
            recent.append(value)
            if recent.count > 50 { recent.removeFirst() }
            if step % 50 == 0 || step == options.steps - 1 {
                curve.append(TrainingStepRecord(step: step + 1, loss: value, learningRate: optimizer.learningRate))
            }
            let elapsed = Date().timeIntervalSince(start)
            let control = progress?(TrainingProgress(
                step: step + 1, totalSteps: options.steps, epoch: 1, epochs: 1,
                loss: recent.reduce(0, +) / Float(recent.count), stepLoss: value, learningRate: optimizer.learningRate,
                gradientNorm: norm, tokensPerSecond: Double((step + 1) * options.batchSize * options.sequenceLength) / elapsed,
                elapsedSeconds: elapsed, etaSeconds: elapsed / Double(step + 1) * Double(options.steps - step - 1), evalLoss: nil))
            if control == .stop { break }
        }
        let wall = Date().timeIntervalSince(start)
        let tokens = stepsTaken * options.batchSize * options.sequenceLength
        return PretrainingReport(
            steps: stepsTaken, tokens: tokens, finalTrainLoss: recent.isEmpty ? .nan : recent.reduce(0, +) / Float(recent.count),
            heldOutLoss: try heldOut.map { try meanLoss(model, on: $0, length: options.sequenceLength) },
            wallSeconds: wall, tokensPerSecond: Double(tokens) / max(wall, 1e-9), lossCurve: curve)
    }

    /// The mean next-token loss over up to 64 consecutive windows of `stream`, without gradients.
    /// - Throws: ``TrainingError/invalidOptions(_:)`` if the stream is shorter than one window.
    public static func meanLoss(_ model: LlamaModel, on stream: [Int], length: Int) throws -> Float {
        let windowCount = min(64, (stream.count - 1) / length)
        guard windowCount > 0 else {
            throw TrainingError.invalidOptions("a stream of \(stream.count) tokens is shorter than one \(length)-token window")
        }
        return try GradientMode.withoutGradients {
            var total: Float = 0
            for first in stride(from: 0, to: windowCount, by: 8) {
                let offsets = (first..<min(first + 8, windowCount)).map { $0 * length }
                let (batch, targets) = try windows(from: stream, offsets: offsets, length: length)
                let logits = try model(batch).reshaped([-1, model.config.vocabSize])
                total += try Variable.crossEntropy(logits: logits, targets: targets).value.scalars[0] * Float(offsets.count)
            }
            return total / Float(windowCount)
        }
    }

    private static func validate(stream: [Int], model: LlamaModel, options: PretrainingOptions, name: String) throws {
        guard options.steps > 0, options.batchSize > 0, options.sequenceLength > 0 else {
            throw TrainingError.invalidOptions(
                "pre-training needs positive steps, batch size and sequence length (got \(options.steps), \(options.batchSize), \(options.sequenceLength))")
        }
        guard stream.count >= options.sequenceLength + 2 else {
            throw TrainingError.invalidOptions("the \(name) has \(stream.count) tokens, fewer than one \(options.sequenceLength)-token window")
        }
        if let index = stream.firstIndex(where: { !(0..<model.config.vocabSize).contains($0) }) {
            throw TrainingError.invalidOptions(
                "the \(name) has token \(stream[index]) at position \(index), outside the vocabulary of \(model.config.vocabSize)")
        }
    }

    private static func windows(
        from stream: [Int], count: Int, length: Int, generator: inout SeededGenerator
    ) throws -> (TokenBatch, [Int]) {
        let offsets = (0..<count).map { _ in Int(generator.next() % UInt64(stream.count - length)) }
        return try windows(from: stream, offsets: offsets, length: length)
    }

    /// A batch of the windows at `offsets` and, flattened, the next token of every position.
    private static func windows(from stream: [Int], offsets: [Int], length: Int) throws -> (TokenBatch, [Int]) {
        let rows = offsets.map { Array(stream[$0..<($0 + length)]) }
        let targets = offsets.flatMap { stream[($0 + 1)...($0 + length)] }
        return (try TokenBatch(rows: rows, padding: .right), targets)
    }
}
