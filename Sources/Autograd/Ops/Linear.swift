import Tensor

/// Matrix products: the general `matmul` and the linear layer every projection uses.
extension Variable {
    /// `op(a) · op(b)` with the shapes of ``Tensor/matmul(_:_:transposeA:transposeB:)``.
    ///
    /// Backward, for `C = op(A)·op(B)`: `dop(A) = dC·op(B)ᵀ`, `dop(B) = op(A)ᵀ·dC`, each written as one
    /// GEMM with the transposes folded into flags (no transposed copies).
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if the shapes do not fit.
    public static func matmul(
        _ a: Variable, _ b: Variable, transposeA: Bool = false, transposeB: Bool = false
    ) throws -> Variable {
        let value = try Tensor.matmul(a.value, b.value, transposeA: transposeA, transposeB: transposeB)
        return operation(value, inputs: [a, b]) { grad in
            // Fold leading dimensions of `a` (the `[..., m, k] · [k, n]` form) into rows.
            let folded = a.value.rank > 2 && b.value.rank == 2
            let aValue = folded ? try a.value.reshaped([-1, a.shape[a.shape.count - 1]]) : a.value
            let dC = folded ? try grad.reshaped([-1, grad.shape[grad.shape.count - 1]]) : grad
            if a.requiresGradient {
                let dA = transposeA
                    ? try Tensor.matmul(b.value, dC, transposeA: transposeB, transposeB: true)
                    : try Tensor.matmul(dC, b.value, transposeB: !transposeB)
                try a.accumulateGradient(dA.reshaped(a.shape))
            }
            if b.requiresGradient {
                let dB = transposeB
                    ? try Tensor.matmul(dC, aValue, transposeA: true, transposeB: transposeA)
                    : try Tensor.matmul(aValue, dC, transposeA: !transposeA)
                try b.accumulateGradient(dB)
            }
        }
    }

    /// A linear layer, `x · Wᵀ + bias`, with PyTorch's weight layout.
    ///
    /// - Parameters:
    ///   - x: `[..., in]`.
    ///   - weight: `[out, in]`.
    ///   - bias: `[out]`, optional.
    /// - Returns: `[..., out]`.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if the shapes do not fit.
    ///
    /// A frozen `weight` (no gradient) costs one GEMM in the backward pass (for `dx`), not two. A
    /// weight packed by ``packForLinear(inputGradient:)`` runs both products against its packed
    /// copies (same results up to rounding).
    public static func linear(_ x: Variable, weight: Variable, bias: Variable? = nil) throws -> Variable {
        guard weight.value.rank == 2, x.value.rank >= 1, x.shape.last == weight.shape[1],
              bias.map({ $0.shape == [weight.shape[0]] }) ?? true else {
            throw TensorError.shapeMismatch(
                "linear", "x \(x.shape), weight \(weight.shape), bias \(bias?.shape.description ?? "none")")
        }
        let inFeatures = weight.shape[1]
        let flat = try x.value.reshaped([-1, inFeatures])
        let packed = weight.packedWeight
        var output = try packed.map { try Tensor.matmul(flat, $0.transposed) }
            ?? Tensor.matmul(flat, weight.value, transposeB: true)
        if let bias {
            output = try output + bias.value
        }
        let outShape = Array(x.shape.dropLast()) + [weight.shape[0]]
        return operation(try output.reshaped(outShape), inputs: [x, weight] + (bias.map { [$0] } ?? [])) { grad in
            let dY = try grad.reshaped([-1, weight.shape[0]])
            if x.requiresGradient {
                if let direct = packed?.direct {
                    try x.accumulateGradient(product: dY, direct)
                } else {
                    try x.accumulateGradient(product: dY, weight.value)
                }
            }
            if weight.requiresGradient { try weight.accumulateGradient(product: dY, flat, transposeA: true) }
            if let bias, bias.requiresGradient {
                try bias.accumulateGradient(dY.sum(alongAxis: 0))
            }
        }
    }
}

/// Packed copies of a frozen weight `W` (`[out, in]`) for the products of
/// ``Variable/linear(_:weight:bias:)``: `x · Wᵀ` forward and `dy · W` for the input's gradient.
///
/// Packing trades memory for speed: each copy is as large as the weight. See ``PackedMatrix``.
public struct PackedWeight: Sendable {
    /// `Wᵀ`, for the forward product.
    public let transposed: PackedMatrix
    /// `W`, for the input gradient; `nil` when packed for inference only.
    public let direct: PackedMatrix?
}

extension Variable {
    /// Packs this weight for ``linear(_:weight:bias:)``, so that its products skip BLAS's per-call
    /// packing and zero-fill (see ``PackedMatrix``): worth it for a frozen weight used in many
    /// products, as a training run's backbone is.
    ///
    /// Does nothing unless this is a frozen (`requiresGradient == false`) matrix and the packed
    /// kernel is fast on this CPU (``PackedMatrix/isFast``), or if the copies asked for are there
    /// already. The copies are dropped when ``value`` changes, and by ``unpack()``.
    /// - Parameter inputGradient: also pack `W` for the input gradient (training); `false` packs
    ///   only the forward product's copy.
    public func packForLinear(inputGradient: Bool) throws {
        guard !requiresGradient, value.rank == 2, PackedMatrix.isFast else { return }
        if let packedWeight, packedWeight.direct != nil || !inputGradient { return }
        packedWeight = PackedWeight(
            transposed: try PackedMatrix(value, transposed: true),
            direct: inputGradient ? try PackedMatrix(value, transposed: false) : nil)
    }

    /// Drops the copies made by ``packForLinear(inputGradient:)``.
    public func unpack() { packedWeight = nil }
}
