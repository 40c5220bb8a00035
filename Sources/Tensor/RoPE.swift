import Foundation

/// Rotary position embedding (RoPE) over the last axis of `[batch, sequence, heads, headDimension]`.
///
/// Frequencies follow transformers' LLaMA: `invFreq[i] = 1 / theta^(2i/headDimension)` in float32,
/// angle `= position · invFreq[i]`. Two pairings of the channels exist:
/// - ``Style/halfSplit``: channel `i` pairs with `i + headDimension/2` (transformers' `rotate_half`,
///   the layout of Hugging Face LLaMA checkpoints);
/// - ``Style/interleaved``: channel `2i` pairs with `2i + 1` (Meta's original checkpoints, GPT-J).
public struct RotaryEmbedding: Sendable, Equatable {
    /// How channels are paired for rotation.
    public enum Style: String, Sendable, Codable {
        /// Channel `i` rotates with channel `i + d/2`.
        case halfSplit
        /// Channel `2i` rotates with channel `2i + 1`.
        case interleaved
    }

    /// The size of one attention head's vectors; even.
    public let headDimension: Int
    /// The base of the frequencies (`rope_theta`, usually 10000 or 500000).
    public let theta: Float
    /// The channel pairing.
    public let style: Style
    /// `1 / theta^(2i/headDimension)` for `i` in `0..<headDimension/2`.
    public let inverseFrequencies: [Float]

    /// - Throws: ``TensorError/invalidShape(_:_:)`` if `headDimension` is not positive and even,
    ///   or `theta` is not positive.
    public init(headDimension: Int, theta: Float, style: Style = .halfSplit) throws {
        guard headDimension > 0, headDimension % 2 == 0, theta > 0 else {
            throw TensorError.invalidShape(
                "RotaryEmbedding", "head dimension \(headDimension) must be positive and even, theta \(theta) positive")
        }
        self.headDimension = headDimension
        self.theta = theta
        self.style = style
        inverseFrequencies = (0..<(headDimension / 2)).map { i in
            1 / powf(theta, Float(2 * i) / Float(headDimension))
        }
    }

    /// The cosines and sines of every token's angles, computed once and shared by every layer and
    /// by queries and keys.
    public struct Angles: Sendable {
        /// The number of tokens.
        public let count: Int
        /// `[count, headDimension / 2]` cosines and sines.
        let cosines: [Float], sines: [Float]
    }

    /// The angles of tokens at `positions`.
    /// - Throws: ``TensorError/outOfRange(_:_:)`` for a negative position.
    public func angles(for positions: [Int]) throws -> Angles {
        if let bad = positions.first(where: { $0 < 0 }) {
            throw TensorError.outOfRange("RotaryEmbedding.angles", "negative position \(bad)")
        }
        let half = headDimension / 2
        // A batch repeats its positions in every row: each distinct position's cosines and sines
        // are computed once (the transcendentals cost more than the copies) and copied per token.
        var rowOf: [Int: Int] = [:]
        var distinctCosines: [Float] = [], distinctSines: [Float] = []
        var cosines = [Float](repeating: 0, count: positions.count * half)
        var sines = cosines
        for (token, position) in positions.enumerated() {
            let row: Int
            if let known = rowOf[position] {
                row = known
            } else {
                row = rowOf.count
                rowOf[position] = row
                for i in 0..<half {
                    let angle = Float(position) * inverseFrequencies[i]
                    distinctCosines.append(cosf(angle))
                    distinctSines.append(sinf(angle))
                }
            }
            for i in 0..<half {
                cosines[token * half + i] = distinctCosines[row * half + i]
                sines[token * half + i] = distinctSines[row * half + i]
            }
        }
        return Angles(count: positions.count, cosines: cosines, sines: sines)
    }

    /// Rotates `x: [batch, sequence, heads, headDimension]`; row `(b, t)` uses
    /// `positions[b · sequence + t]`. With `inverse`, rotates by the opposite angle, which is the
    /// backward pass (the rotation is orthogonal).
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if `x`'s last axis is not `headDimension` or
    ///   `positions` does not hold one entry per `(b, t)`; ``TensorError/outOfRange(_:_:)`` for a
    ///   negative position.
    public func apply(_ x: Tensor, positions: [Int], inverse: Bool = false) throws -> Tensor {
        try apply(x, angles: angles(for: positions), inverse: inverse)
    }

    /// Rotates `x: [batch, sequence, heads, headDimension]` by precomputed `angles`, one per `(b, t)`.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if the shapes or the number of angles do not fit.
    public func apply(_ x: Tensor, angles: Angles, inverse: Bool = false) throws -> Tensor {
        guard x.rank == 4, x.shape[3] == headDimension else {
            throw TensorError.shapeMismatch(
                "RotaryEmbedding.apply", "expected [batch, sequence, heads, \(headDimension)], got \(x.shape)")
        }
        let tokens = x.shape[0] * x.shape[1]
        guard angles.count == tokens else {
            throw TensorError.shapeMismatch("RotaryEmbedding.apply", "\(angles.count) positions for \(tokens) tokens")
        }
        let (heads, half) = (x.shape[2], headDimension / 2)
        let sign: Float = inverse ? -1 : 1
        let halfSplit = style == .halfSplit
        return Tensor.uninitialized(x.shape) { out in
            guard let target = out.baseAddress else { return }
            x.withUnsafeBufferPointer { input in
                guard let source = input.baseAddress else { return }
                angles.cosines.withUnsafeBufferPointer { cosines in
                    angles.sines.withUnsafeBufferPointer { sines in
                        Parallel.forEach(tokens, minimumChunk: 64) { range in
                            for token in range {
                                let cosine = cosines.baseAddress! + token * half, sine = sines.baseAddress! + token * half
                                for head in 0..<heads {
                                    let offset = (token * heads + head) * headDimension
                                    let from = source + offset, to = target + offset
                                    if halfSplit {
                                        // Contiguous halves: the loop vectorises.
                                        for i in 0..<half {
                                            let a = from[i], b = from[i + half], s = sign * sine[i]
                                            to[i] = a * cosine[i] - b * s
                                            to[i + half] = b * cosine[i] + a * s
                                        }
                                    } else {
                                        for i in 0..<half {
                                            let a = from[2 * i], b = from[2 * i + 1], s = sign * sine[i]
                                            to[2 * i] = a * cosine[i] - b * s
                                            to[2 * i + 1] = b * cosine[i] + a * s
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
