import Tensor

/// Parameters that share optimisation settings.
public struct ParameterGroup {
    /// The trainable leaves of this group.
    public var parameters: [Variable]
    /// Multiplies the optimizer's learning rate for this group (e.g. 0.1 for IAPT's rational
    /// activation coefficients).
    public var learningRateMultiplier: Float
    /// Decoupled weight decay (AdamW) or L2 penalty (SGD) for this group; usually 0 for biases and
    /// norms.
    public var weightDecay: Float

    /// A group of parameters with its own learning-rate multiplier and weight decay.
    public init(_ parameters: [Variable], learningRateMultiplier: Float = 1, weightDecay: Float = 0) {
        self.parameters = parameters
        self.learningRateMultiplier = learningRateMultiplier
        self.weightDecay = weightDecay
    }
}

/// A first-order optimizer over groups of parameters.
public protocol Optimizer: AnyObject {
    /// The base learning rate; schedules set it before each step.
    var learningRate: Float { get set }
    /// The parameter groups being optimised.
    var groups: [ParameterGroup] { get }
    /// Updates every parameter that has a gradient. Parameters without one are left unchanged.
    /// - Throws: ``TensorError`` if a gradient's shape does not match its parameter.
    func step() throws
}

extension Optimizer {
    /// Clears the gradients of every parameter.
    public func zeroGradients() {
        for group in groups { for parameter in group.parameters { parameter.zeroGradient() } }
    }

    /// All parameters, in group order.
    public var parameters: [Variable] { groups.flatMap(\.parameters) }
}

/// Gradient clipping by the global L2 norm over a set of parameters.
public enum GradientClipping {
    /// Scales every gradient by `maxNorm / norm` when the global norm exceeds `maxNorm`.
    /// - Returns: the global norm before clipping (useful for logging).
    @discardableResult
    public static func clipGlobalNorm(_ parameters: [Variable], maxNorm: Float) -> Float {
        var squares = 0.0
        for parameter in parameters {
            parameter.gradient?.withUnsafeBufferPointer { g in
                for value in g { squares += Double(value) * Double(value) }
            }
        }
        let norm = Float(squares.squareRoot())
        guard norm > maxNorm, norm.isFinite else { return norm }
        let scale = maxNorm / (norm + 1e-6)
        for parameter in parameters {
            if let gradient = parameter.gradient { parameter.gradient = gradient * scale }
        }
        return norm
    }
}
