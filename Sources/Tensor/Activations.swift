import Foundation

/// Element-wise activations with their derivatives, and the fused SwiGLU of LLaMA's MLP.
public enum Activation {
    /// `x · σ(x)` (SiLU, also called swish).
    @inlinable public static func silu(_ x: Float) -> Float { x / (1 + expf(-x)) }

    /// `d silu / dx = σ(x) · (1 + x · (1 − σ(x)))`.
    @inlinable public static func siluDerivative(_ x: Float) -> Float {
        let s = 1 / (1 + expf(-x))
        return s * (1 + x * (1 - s))
    }

    /// Exact GELU, `x · Φ(x) = 0.5 · x · (1 + erf(x / √2))` (PyTorch's default `nn.GELU()`).
    @inlinable public static func gelu(_ x: Float) -> Float { 0.5 * x * (1 + erff(x * 0.707_106_77)) }

    /// `d gelu / dx = Φ(x) + x · φ(x)`.
    @inlinable public static func geluDerivative(_ x: Float) -> Float {
        let cdf = 0.5 * (1 + erff(x * 0.707_106_77))
        let pdf = expf(-0.5 * x * x) * 0.398_942_28
        return cdf + x * pdf
    }

    /// `max(0, x)`.
    @inlinable public static func relu(_ x: Float) -> Float { max(0, x) }

    /// `1` for `x > 0`, else `0`.
    @inlinable public static func reluDerivative(_ x: Float) -> Float { x > 0 ? 1 : 0 }

    /// SwiGLU, `silu(gate) ⊙ up`, the gated product inside LLaMA's MLP.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` unless `gate` and `up` have the same shape.
    public static func swiGLU(gate: Tensor, up: Tensor) throws -> Tensor {
        guard gate.shape == up.shape else {
            throw TensorError.shapeMismatch("swiGLU", "gate \(gate.shape) vs up \(up.shape)")
        }
        return Tensor.uninitialized(gate.shape) { out in
            gate.withUnsafeBufferPointer { g in
                up.withUnsafeBufferPointer { u in
                    Parallel.forEach(out.count, minimumChunk: 32_768) { range in
                        SIMDKernels.swiGLUForward(
                            g.baseAddress! + range.lowerBound, u.baseAddress! + range.lowerBound,
                            out.baseAddress! + range.lowerBound, count: range.count)
                    }
                }
            }
        }
    }

    /// Gradients of ``swiGLU(gate:up:)``: `dgate = dy ⊙ up ⊙ silu'(gate)`, `dup = dy ⊙ silu(gate)`.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` unless all three shapes are equal.
    public static func swiGLUBackward(
        gate: Tensor, up: Tensor, outputGradient dy: Tensor
    ) throws -> (gateGradient: Tensor, upGradient: Tensor) {
        guard gate.shape == up.shape, gate.shape == dy.shape else {
            throw TensorError.shapeMismatch("swiGLUBackward", "gate \(gate.shape), up \(up.shape), dy \(dy.shape)")
        }
        // Both gradients go to new storage: the caller still holds `dy`, so writing over it would
        // first copy it.
        var gateGradient = Tensor.unsetStorage(gate.count), upGradient = Tensor.unsetStorage(gate.count)
        gate.withUnsafeBufferPointer { g in
        up.withUnsafeBufferPointer { u in
        dy.withUnsafeBufferPointer { dy in
        gateGradient.withUnsafeMutableBufferPointer { dGate in
        upGradient.withUnsafeMutableBufferPointer { dUp in
            Parallel.forEach(dGate.count, minimumChunk: 32_768) { range in
                let start = range.lowerBound
                SIMDKernels.swiGLUBackward(
                    g.baseAddress! + start, u.baseAddress! + start, dy.baseAddress! + start,
                    dUp.baseAddress! + start, dGate.baseAddress! + start, count: range.count)
            }
        }}}}}
        return (Tensor(uncheckedShape: gate.shape, scalars: gateGradient), Tensor(uncheckedShape: gate.shape, scalars: upGradient))
    }
}
