import Foundation
import Tensor

/// How the next token is chosen from the logits.
public enum Sampling: Sendable, Equatable {
    /// The most likely token (the first on ties).
    case greedy
    /// A draw from `softmax(logits / temperature)` restricted to the `topK` most likely tokens
    /// (if given) and to the smallest set whose probability reaches `topP` (if given).
    case sample(temperature: Float, topK: Int? = nil, topP: Float? = nil)
}

/// Chooses tokens from logits with a seeded generator, so a seed reproduces a generation.
public struct Sampler: Sendable {
    /// The rule in use.
    public let sampling: Sampling
    private var generator: SeededGenerator

    /// - Throws: ``ModelError/invalidInput(_:)`` for a non-positive temperature, `topK < 1` or `topP`
    ///   outside `(0, 1]`.
    public init(_ sampling: Sampling, seed: UInt64) throws {
        if case let .sample(temperature, topK, topP) = sampling {
            guard temperature > 0, temperature.isFinite, (topK ?? 1) >= 1, (topP ?? 1) > 0, (topP ?? 1) <= 1 else {
                throw ModelError.invalidInput(
                    "sampling needs temperature > 0, top-k ≥ 1 and top-p in (0, 1]; got \(temperature), \(topK.map(String.init) ?? "none"), \(topP.map { "\($0)" } ?? "none")")
            }
        }
        self.sampling = sampling
        generator = SeededGenerator(seed: seed)
    }

    /// The chosen token id for one row of logits.
    public mutating func next(_ logits: ArraySlice<Float>) -> Int {
        let values = Array(logits)
        guard case let .sample(temperature, topK, topP) = sampling else {
            var best = 0
            for index in values.indices where values[index] > values[best] { best = index }
            return best
        }
        var order = values.indices.sorted { values[$0] > values[$1] }
        if let topK { order = Array(order.prefix(topK)) }
        let maximum = values[order[0]]
        var weights = order.map { expf((values[$0] - maximum) / temperature) }
        let total = weights.reduce(0, +)
        weights = weights.map { $0 / total }
        if let topP {
            var cumulative: Float = 0
            var keep = 0
            while keep < weights.count {
                cumulative += weights[keep]
                keep += 1
                if cumulative >= topP { break }
            }
            order = Array(order.prefix(keep))
            weights = Array(weights.prefix(keep))
        }
        var threshold = generator.nextUnitFloat() * weights.reduce(0, +)
        for (index, weight) in zip(order, weights) {
            threshold -= weight
            if threshold < 0 { return index }
        }
        return order[order.count - 1]
    }
}
