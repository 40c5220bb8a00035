import Tensor

/// Fused ops whose kernels live in `Tensor` as forward/backward pairs.
extension Variable {
    /// RMSNorm over the last axis: `x / sqrt(mean(x²) + epsilon) ⊙ weight`.
    ///
    /// - Parameters:
    ///   - x: `[..., d]`.
    ///   - weight: `[d]`.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if `weight` is not `[d]`.
    public static func rmsNorm(_ x: Variable, weight: Variable, epsilon: Float) throws -> Variable {
        let (output, inverseRMS) = try RMSNorm.forward(x.value, weight: weight.value, epsilon: epsilon)
        return operation(output, inputs: [x, weight]) { grad in
            let (dx, dWeight) = try RMSNorm.backward(
                input: x.value, weight: weight.value, inverseRMS: inverseRMS, outputGradient: grad,
                weightGradient: weight.requiresGradient)
            if x.requiresGradient { try x.accumulateGradient(dx) }
            if let dWeight { try weight.accumulateGradient(dWeight) }
        }
    }

    /// SwiGLU, `silu(gate) ⊙ up`, LLaMA's MLP activation.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` unless `gate` and `up` have the same shape.
    public static func swiGLU(gate: Variable, up: Variable) throws -> Variable {
        let output = try Activation.swiGLU(gate: gate.value, up: up.value)
        return operation(output, inputs: [gate, up]) { grad in
            let (dGate, dUp) = try Activation.swiGLUBackward(gate: gate.value, up: up.value, outputGradient: grad)
            if gate.requiresGradient { try gate.accumulateGradient(dGate) }
            if up.requiresGradient { try up.accumulateGradient(dUp) }
        }
    }

    /// Rotary position embedding of `x: [batch, sequence, heads, headDimension]`, token `(b, t)` at
    /// `positions[b · sequence + t]`. The backward rotates the gradient by the opposite angles.
    /// - Throws: ``TensorError`` if the shapes or positions do not fit `rotary`.
    public static func rope(_ x: Variable, rotary: RotaryEmbedding, positions: [Int]) throws -> Variable {
        try rope(x, rotary: rotary, angles: rotary.angles(for: positions))
    }

    /// Rotary position embedding with angles computed once for several calls (every layer's queries
    /// and keys share them).
    /// - Throws: ``TensorError`` if the shapes do not fit `rotary` and `angles`.
    public static func rope(_ x: Variable, rotary: RotaryEmbedding, angles: RotaryEmbedding.Angles) throws -> Variable {
        let output = try rotary.apply(x.value, angles: angles)
        return operation(output, inputs: [x]) { grad in
            try x.accumulateGradient(rotary.apply(grad, angles: angles, inverse: true))
        }
    }

    /// Softmax over the last axis (`-infinity` entries are masked and get probability 0).
    /// - Throws: ``TensorError/invalidShape(_:_:)`` for a scalar.
    public func softmax() throws -> Variable {
        let output = try value.softmax()
        return Variable.operation(output, inputs: [self]) { grad in
            try self.accumulateGradient(Tensor.softmaxBackward(output: output, outputGradient: grad))
        }
    }

    /// Log-softmax over the last axis.
    /// - Throws: ``TensorError/invalidShape(_:_:)`` for a scalar.
    public func logSoftmax() throws -> Variable {
        let output = try value.logSoftmax()
        return Variable.operation(output, inputs: [self]) { grad in
            try self.accumulateGradient(Tensor.logSoftmaxBackward(output: output, outputGradient: grad))
        }
    }
}
