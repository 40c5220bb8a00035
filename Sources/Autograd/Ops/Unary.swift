import Foundation
import Tensor

/// Element-wise functions whose derivative depends only on the input element.
extension Variable {
    /// Applies `function` element-wise; the backward multiplies by `derivative` at the input.
    /// A building block for simple custom activations; use a fused op where speed matters.
    public func elementwise(
        _ function: @escaping @Sendable (Float) -> Float, derivative: @escaping @Sendable (Float) -> Float
    ) -> Variable {
        let input = value
        return Variable.operation(input.map(function), inputs: [self]) { grad in
            var local = input.map(derivative)
            local.withUnsafeMutableBufferPointer { out in
                grad.withUnsafeBufferPointer { g in
                    for i in 0..<out.count { out[i] *= g[i] }
                }
            }
            try self.accumulateGradient(local)
        }
    }

    /// `max(0, x)`.
    public func relu() -> Variable { elementwise(Activation.relu, derivative: Activation.reluDerivative) }
    /// Exact GELU, `x · Φ(x)`.
    public func gelu() -> Variable { elementwise(Activation.gelu, derivative: Activation.geluDerivative) }
    /// SiLU, `x · σ(x)`.
    public func silu() -> Variable { elementwise(Activation.silu, derivative: Activation.siluDerivative) }
    /// `tanh(x)`.
    public func tanh() -> Variable {
        elementwise({ Foundation.tanh($0) }, derivative: { let t = Foundation.tanh($0); return 1 - t * t })
    }
    /// `exp(x)`.
    public func exp() -> Variable { elementwise({ expf($0) }, derivative: { expf($0) }) }
    /// `log(x)` (natural).
    public func log() -> Variable { elementwise({ logf($0) }, derivative: { 1 / $0 }) }
    /// `x²`.
    public func squared() -> Variable { elementwise({ $0 * $0 }, derivative: { 2 * $0 }) }
    /// `|x|`, with derivative `sign(x)` (0 at 0).
    public func abs() -> Variable {
        elementwise({ Swift.abs($0) }, derivative: { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) })
    }
}
