import Tensor

extension Variable {
    /// `body(input)`, keeping none of the values computed inside `body` for the backward pass: the
    /// forward pass runs `body` without recording, and the backward pass runs it again, recording,
    /// and differentiates that (gradient checkpointing). Memory falls from every intermediate value
    /// of `body` to its input; the price is a second forward pass of `body`.
    ///
    /// Gradients reach `input` (when it needs one) and every parameter `body` uses, through the
    /// replay; they equal those of `body(input)` recorded directly, since the replay computes the
    /// same values. `body` must therefore compute the same thing each time it runs: an op that
    /// draws random numbers must draw them from a generator it derives afresh from a fixed seed
    /// (LoRA's dropout does), not from a stream carried across calls.
    ///
    /// - Parameters:
    ///   - input: the input of `body`.
    ///   - body: the computation; it may use any parameters.
    /// - Returns: `body(input)`. Without gradient recording, `body(input)` itself.
    /// - Throws: what `body` throws, in the forward pass and again in the backward pass.
    public static func recomputed(_ input: Variable, _ body: @escaping (Variable) throws -> Variable) throws -> Variable {
        guard GradientMode.isEnabled else { return try body(input) }
        let value = try GradientMode.withoutGradients { try body(Variable(input.value)) }.value
        // The output is recorded whether or not `input` needs a gradient: the parameters inside
        // `body` may, and only the replay can tell.
        return Variable(value: value, inputs: [input]) { grad in
            let replayInput = Variable(input.value, requiresGradient: input.requiresGradient)
            let replayed = try GradientMode.$isEnabled.withValue(true) { try body(replayInput) }
            guard replayed.requiresGradient else { return }
            try replayed.backward(seed: grad)
            if input.requiresGradient, let gradient = replayInput.gradient { try input.accumulateGradient(gradient) }
        }
    }
}
