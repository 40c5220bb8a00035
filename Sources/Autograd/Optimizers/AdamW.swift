import Foundation
import Tensor

/// Adam with decoupled weight decay (Loshchilov & Hutter), as PyTorch's `torch.optim.AdamW`:
///
///     p ← p − lr·λ·p
///     m ← β₁·m + (1 − β₁)·g,   v ← β₂·v + (1 − β₂)·g²
///     p ← p − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
///
/// with `lr` the base learning rate times the group's multiplier and `λ` the group's weight decay.
public final class AdamW: Optimizer {
    public var learningRate: Float
    public let groups: [ParameterGroup]
    /// Exponential decay rates of the first and second moment estimates.
    public let beta1: Float, beta2: Float
    /// Added to the denominator for numerical stability.
    public let epsilon: Float
    /// The number of steps taken (`t` above).
    public private(set) var stepCount = 0
    /// The first and second moment estimates, one pair per parameter in group order
    /// (`nil` until the parameter first receives a gradient).
    public private(set) var moments: [(first: Tensor, second: Tensor)?]

    /// - Parameters:
    ///   - groups: parameter groups with their multipliers and weight decay.
    ///   - learningRate: base learning rate.
    public init(
        groups: [ParameterGroup], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
        epsilon: Float = 1e-8
    ) {
        self.groups = groups
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        moments = Array(repeating: nil, count: groups.reduce(0) { $0 + $1.parameters.count })
    }

    /// One group of `parameters` with `weightDecay` (PyTorch's default is 0.01).
    public convenience init(parameters: [Variable], learningRate: Float = 1e-3, weightDecay: Float = 0.01) {
        self.init(groups: [ParameterGroup(parameters, weightDecay: weightDecay)], learningRate: learningRate)
    }

    /// Restores the state saved from another instance over the same parameters (to resume training).
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if the moments do not match the parameters.
    public func restore(stepCount: Int, moments: [(first: Tensor, second: Tensor)?]) throws {
        let shapes = groups.flatMap(\.parameters).map(\.shape)
        guard moments.count == shapes.count,
              zip(moments, shapes).allSatisfy({ $0.0 == nil || ($0.0?.first.shape == $0.1 && $0.0?.second.shape == $0.1) })
        else { throw TensorError.shapeMismatch("AdamW.restore", "moments do not match the \(shapes.count) parameters") }
        self.stepCount = stepCount
        self.moments = moments
    }

    public func step() throws {
        stepCount += 1
        let correction1 = 1 - powf(beta1, Float(stepCount))
        let correction2 = 1 - powf(beta2, Float(stepCount))
        var index = 0
        for group in groups {
            let rate = learningRate * group.learningRateMultiplier
            for parameter in group.parameters {
                defer { index += 1 }
                guard let gradient = parameter.gradient else { continue }
                guard gradient.shape == parameter.shape else {
                    throw TensorError.shapeMismatch("AdamW.step", "gradient \(gradient.shape) for \(parameter.shape)")
                }
                var (first, second) = try moments[index] ?? (Tensor.zeros(parameter.shape), Tensor.zeros(parameter.shape))
                moments[index] = nil
                let (b1, b2, eps, decay) = (beta1, beta2, epsilon, 1 - rate * group.weightDecay)
                first.withUnsafeMutableBufferPointer { m in
                    second.withUnsafeMutableBufferPointer { v in
                        gradient.withUnsafeBufferPointer { g in
                            parameter.value.withUnsafeMutableBufferPointer { p in
                                let buffers = UncheckedSendable((m.baseAddress!, v.baseAddress!, g.baseAddress!, p.baseAddress!))
                                Parallel.forEach(p.count, minimumChunk: 65_536) { range in
                                    let (m, v, g, p) = buffers.value
                                    Self.update(
                                        m + range.lowerBound, v + range.lowerBound, g + range.lowerBound, p + range.lowerBound,
                                        count: range.count, beta1: b1, beta2: b2, correction1: correction1,
                                        correction2: correction2, epsilon: eps, decay: decay, rate: rate)
                                }
                            }
                        }
                    }
                }
                moments[index] = (first, second)
            }
        }
    }

    /// The update of `count` elements, eight lanes at a time; every lane computes exactly what the
    /// scalar formula above computes (no reductions, IEEE division and square root).
    private static func update(
        _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>,
        _ p: UnsafeMutablePointer<Float>, count: Int, beta1 b1: Float, beta2 b2: Float, correction1: Float,
        correction2: Float, epsilon eps: Float, decay: Float, rate: Float
    ) {
        var i = 0
        while i + 8 <= count {
            let gradient = VectorMath.load(g + i)
            let first = b1 * VectorMath.load(m + i) + (1 - b1) * gradient
            let second = b2 * VectorMath.load(v + i) + (1 - b2) * gradient * gradient
            let update = (first / correction1) / ((second / correction2).squareRoot() + eps)
            VectorMath.store(first, m + i)
            VectorMath.store(second, v + i)
            VectorMath.store(VectorMath.load(p + i) * decay - rate * update, p + i)
            i += 8
        }
        while i < count {
            m[i] = b1 * m[i] + (1 - b1) * g[i]
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
            let update = (m[i] / correction1) / ((v[i] / correction2).squareRoot() + eps)
            p[i] = p[i] * decay - rate * update
            i += 1
        }
    }
}
