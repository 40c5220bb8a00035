import Tensor

/// Finite-difference checking of hand-written backward passes.
///
/// The function under test is reduced to a scalar by a fixed random projection,
/// `L = Σ f(inputs) ⊙ R`, so every output element contributes. Its analytic gradient (from
/// ``Variable/backward(seed:)``) is compared with central differences
/// `(L(x + ε) − L(x − ε)) / 2ε`, element by element, for every input that requires a gradient.
public enum GradientCheck {
    /// The comparison for one input.
    public struct Result: Sendable, CustomStringConvertible {
        /// The input's position in the list given to ``check(_:epsilon:seed:_:)``.
        public let inputIndex: Int
        /// `max |analytic − numeric|`.
        public let maxAbsoluteError: Float
        /// `maxAbsoluteError / max(max |analytic|, max |numeric|, 1e-3)`: the error relative to the
        /// gradient's scale.
        public let relativeError: Float

        public var description: String {
            "input \(inputIndex): relative error \(relativeError), max absolute error \(maxAbsoluteError)"
        }
    }

    /// Compares analytic and numeric gradients of `function` at `inputs`.
    ///
    /// - Parameters:
    ///   - inputs: leaves; those with `requiresGradient` are checked (their values are perturbed
    ///     and restored).
    ///   - epsilon: the finite-difference step.
    ///   - seed: seeds the projection `R`.
    ///   - function: builds the output from the inputs; called once with gradients on and twice per
    ///     checked element with gradients off.
    /// - Returns: one result per checked input.
    /// - Throws: whatever `function` throws.
    public static func check(
        _ inputs: [Variable], epsilon: Float = 1e-2, seed: UInt64 = 0,
        _ function: ([Variable]) throws -> Variable
    ) throws -> [Result] {
        var generator = SeededGenerator(seed: seed)
        let probe = try GradientMode.withoutGradients { try function(inputs) }
        let projection = Variable(try Tensor.uniform(probe.shape, low: -1, high: 1, generator: &generator))
        func loss() throws -> Variable { try (function(inputs) * projection).sum() }

        for input in inputs { input.zeroGradient() }
        try loss().backward()

        var results: [Result] = []
        for (index, input) in inputs.enumerated() where input.requiresGradient {
            let analytic = try input.gradient ?? Tensor.zeros(input.shape)
            var numeric = [Float](repeating: 0, count: input.value.count)
            for element in 0..<input.value.count {
                let original = input.value.scalars[element]
                input.value.withUnsafeMutableBufferPointer { $0[element] = original + epsilon }
                let plus = try GradientMode.withoutGradients { try loss().value.scalars[0] }
                input.value.withUnsafeMutableBufferPointer { $0[element] = original - epsilon }
                let minus = try GradientMode.withoutGradients { try loss().value.scalars[0] }
                input.value.withUnsafeMutableBufferPointer { $0[element] = original }
                numeric[element] = (plus - minus) / (2 * epsilon)
            }
            var maxError: Float = 0, scale: Float = 1e-3
            for (a, n) in zip(analytic.scalars, numeric) {
                maxError = max(maxError, Swift.abs(a - n))
                scale = max(scale, Swift.abs(a), Swift.abs(n))
            }
            results.append(Result(inputIndex: index, maxAbsoluteError: maxError, relativeError: maxError / scale))
            input.zeroGradient()
        }
        return results
    }
}
