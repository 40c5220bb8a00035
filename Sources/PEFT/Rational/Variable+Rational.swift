import Autograd
import Tensor

extension Variable {
    /// IAPT's learned rational activation `R(x) = P(x) / (1 + |B(x)|)` applied element-wise, with
    /// trainable coefficients (see ``RationalActivation``). The backward gives the gradient with
    /// respect to `x` and, summed over every element, the coefficients, using `sign(B(x))` (`0` at
    /// `0`) for the derivative of `|·|`.
    ///
    /// - Parameters:
    ///   - x: any shape `[...]`; the result has the same shape.
    ///   - numerator: `[p + 1]`, `a0 … ap`.
    ///   - denominator: `[q]`, `b1 … bq`.
    /// - Throws: ``TensorError/invalidShape(_:_:)`` unless both coefficient sets are 1-D;
    ///   ``RationalActivationError/invalidDegrees(numerator:denominator:)`` unless `p` and `q` are
    ///   in `1...RationalActivation.maximumDegree`.
    public static func rational(_ x: Variable, numerator: Variable, denominator: Variable) throws -> Variable {
        guard numerator.shape.count == 1, denominator.shape.count == 1 else {
            throw TensorError.invalidShape(
                "Variable.rational", "coefficients must be 1-D, got numerator \(numerator.shape), denominator \(denominator.shape)")
        }
        let activation = try RationalActivation(numerator: numerator.value.scalars, denominator: denominator.value.scalars)
        let input = x.value
        return operation(activation.forward(input), inputs: [x, numerator, denominator]) { grad in
            let (dx, dNumerator, dDenominator) = try activation.backward(input: input, outputGradient: grad)
            if x.requiresGradient { try x.accumulateGradient(dx) }
            if numerator.requiresGradient { try numerator.accumulateGradient(dNumerator) }
            if denominator.requiresGradient { try denominator.accumulateGradient(dDenominator) }
        }
    }
}
