extension Tensor {
    /// Matrix product through `cblas_sgemm`.
    ///
    /// Shapes (a flag transposes the last two dimensions of its operand):
    /// - `a: [m, k]`, `b: [k, n]` → `[m, n]`;
    /// - `a: [..., m, k]`, `b: [k, n]` → `[..., m, n]`: the leading dimensions of `a` are folded into
    ///   `m` (a linear layer over a batch; `transposeA` must be `false`);
    /// - `a: [batch, m, k]`, `b: [batch, k, n]` → `[batch, m, n]`: one product per batch entry.
    ///
    /// Empty operands give a correctly shaped result (zeros when `k == 0`).
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if the inner dimensions differ or the ranks do
    ///   not fit one of the forms above.
    public static func matmul(
        _ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false
    ) throws -> Tensor {
        // Built only when thrown: formatting shapes costs more than a decoding step's small products.
        var mismatch: TensorError {
            .shapeMismatch("matmul", "\(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
        }
        guard a.rank >= 2, b.rank >= 2 else { throw mismatch }
        let (k, n) = transposeB ? (b.shape[b.rank - 1], b.shape[b.rank - 2])
                                : (b.shape[b.rank - 2], b.shape[b.rank - 1])
        let batch: Int, m: Int, aK: Int, outShape: [Int]
        if b.rank == 2 && (a.rank == 2 || !transposeA) {
            batch = 1
            (m, aK) = transposeA ? (a.shape[1], a.shape[0])
                                 : (a.shape.dropLast().reduce(1, *), a.shape[a.rank - 1])
            outShape = transposeA ? [m, n] : Array(a.shape.dropLast()) + [n]
        } else {
            guard a.rank == 3, b.rank == 3, a.shape[0] == b.shape[0] else { throw mismatch }
            batch = a.shape[0]
            (m, aK) = transposeA ? (a.shape[2], a.shape[1]) : (a.shape[1], a.shape[2])
            outShape = [batch, m, n]
        }
        guard aK == k else { throw mismatch }
        guard k > 0, m > 0, n > 0 else { return try Tensor.zeros(outShape) }
        if batch == 1, m <= SkinnyMatMul.maximumRows, !transposeA, transposeB {
            return Tensor.uninitialized(outShape) { out in
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        SkinnyMatMul.multiply(pa.baseAddress!, pb.baseAddress!, out.baseAddress!, m: m, n: n, k: k)
                    }
                }
            }
        }
        return Tensor.uninitialized(outShape) { out in
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    for entry in 0..<batch {
                        BLAS.gemm(
                            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                            a: pa.baseAddress! + entry * m * k, lda: transposeA ? m : k,
                            b: pb.baseAddress! + entry * k * n, ldb: transposeB ? k : n,
                            c: out.baseAddress! + entry * m * n, ldc: n)
                    }
                }
            }
        }
    }
}

extension Tensor {
    /// Adds `op(a) · op(b)` to this tensor in place, as one GEMM with `beta = 1`: accumulating a
    /// product (a gradient contribution) without a temporary result or a separate addition.
    ///
    /// `a: [m, k]` (or `[k, m]` with `transposeA`; without it, leading dimensions fold into `m`
    /// as in ``matmul(_:_:transposeA:transposeB:)``), `b: [k, n]` (or `[n, k]` with `transposeB`);
    /// this tensor holds `m · n` elements with last dimension `n`.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if the shapes do not fit.
    public mutating func addMatmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) throws {
        var mismatch: TensorError {
            .shapeMismatch("addMatmul", "\(shape) += \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
        }
        guard a.rank >= 2, b.rank == 2, !(transposeA && a.rank > 2) else { throw mismatch }
        let (k, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        let (m, aK) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape.dropLast().reduce(1, *), a.shape[a.rank - 1])
        guard aK == k, rank >= 1, shape[rank - 1] == n, count == m * n else { throw mismatch }
        guard m > 0, n > 0, k > 0 else { return }
        withUnsafeMutableBufferPointer { out in
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    BLAS.gemm(
                        transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                        a: pa.baseAddress!, lda: transposeA ? m : k, b: pb.baseAddress!, ldb: transposeB ? k : n,
                        beta: 1, c: out.baseAddress!, ldc: n)
                }
            }
        }
    }
}
