import Tensor

extension Variable {
    /// Multi-head causal attention with grouped key/value heads, key padding and key/value prefixes;
    /// see ``Attention`` for layouts and masking rules.
    ///
    /// - Parameters:
    ///   - query: `[batch, queryLength, queryHeads, headDimension]`.
    ///   - key, value: `[batch, keyLength, keyValueHeads, headDimension]`; a prefix (virtual tokens,
    ///     a cache) sits in front of the keys of the current tokens.
    ///   - keyMask: `batch · keyLength` flags, `false` for padding; `nil` when every key is valid.
    /// - Returns: `[batch, queryLength, queryHeads, headDimension]`.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if the shapes do not fit.
    public static func attention(
        query: Variable, key: Variable, value: Variable, keyMask: [Bool]?, causal: Bool = true
    ) throws -> Variable {
        let needsBackward = GradientMode.isEnabled
            && (query.requiresGradient || key.requiresGradient || value.requiresGradient)
        let (output, probabilities) = try Attention.forward(
            query: query.value, key: key.value, value: value.value, keyMask: keyMask, causal: causal,
            saveProbabilities: needsBackward)
        return operation(output, inputs: [query, key, value]) { grad in
            guard let probabilities else { return }
            let (dq, dk, dv) = try Attention.backward(
                query: query.value, key: key.value, value: value.value, probabilities: probabilities,
                outputGradient: grad, causal: causal)
            if query.requiresGradient { try query.accumulateGradient(dq) }
            if key.requiresGradient { try key.accumulateGradient(dk) }
            if value.requiresGradient { try value.accumulateGradient(dv) }
        }
    }

    /// Mean softmax cross-entropy of `logits: [rows, vocabulary]` against `targets` (one id per row,
    /// or ``CrossEntropy/ignoredTarget`` to skip the row), as a scalar.
    /// - Throws: ``TensorError`` for mismatched sizes or a target outside the vocabulary.
    ///
    /// When a gradient will be wanted, the forward pass computes it along with the loss (one pass
    /// over the logits, not two) and keeps it, `[rows, vocabulary]`, until the backward pass.
    public static func crossEntropy(logits: Variable, targets: [Int]) throws -> Variable {
        let (loss, _, gradient) = try CrossEntropy.forward(
            logits: logits.value, targets: targets, computeGradient: GradientMode.isEnabled && logits.requiresGradient)
        return operation(Tensor(scalar: loss), inputs: [logits]) { grad in
            guard let gradient else { return }
            let lossGradient = grad.scalars[0]
            try logits.accumulateGradient(lossGradient == 1 ? gradient : gradient * lossGradient)
        }
    }
}
