import Tensor

/// Stochastic gradient descent with optional momentum and L2 weight decay, as `torch.optim.SGD`:
///
///     g ← g + λ·p;   b ← μ·b + g (b = g on the first step);   p ← p − lr·b
public final class SGD: Optimizer {
    public var learningRate: Float
    public let groups: [ParameterGroup]
    /// The momentum factor `μ` (0 for plain SGD).
    public let momentum: Float
    private var buffers: [Tensor?]

    /// - Parameters:
    ///   - groups: parameter groups; each group's `weightDecay` is an L2 penalty `λ`.
    ///   - learningRate: base learning rate.
    ///   - momentum: `μ`, in `[0, 1)`.
    public init(groups: [ParameterGroup], learningRate: Float, momentum: Float = 0) {
        self.groups = groups
        self.learningRate = learningRate
        self.momentum = momentum
        buffers = Array(repeating: nil, count: groups.reduce(0) { $0 + $1.parameters.count })
    }

    public func step() throws {
        var index = 0
        for group in groups {
            let rate = learningRate * group.learningRateMultiplier
            for parameter in group.parameters {
                defer { index += 1 }
                guard var direction = parameter.gradient else { continue }
                if group.weightDecay != 0 { try direction.addScaled(parameter.value, by: group.weightDecay) }
                if momentum != 0 {
                    if var buffer = buffers[index] {
                        buffer = buffer * momentum
                        try buffer.addScaled(direction)
                        direction = buffer
                    }
                    buffers[index] = direction
                }
                try parameter.value.addScaled(direction, by: -rate)
            }
        }
    }
}
