internal import CBLAS

/// Least squares and singular value decomposition through LAPACKE.
public enum LinearAlgebra {
    /// The minimum-norm solution `X: [n, k]` of `min ‖A·X − B‖₂` for `A: [m, n]`, `B: [m, k]`
    /// (LAPACK `sgelsd`, SVD-based, so rank-deficient systems are fine).
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if `A` and `B` do not have the same rows;
    ///   ``TensorError/lapackFailure(_:_:)`` if the SVD does not converge.
    public static func leastSquares(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        guard a.rank == 2, b.rank == 2, a.shape[0] == b.shape[0] else {
            throw TensorError.shapeMismatch("leastSquares", "A \(a.shape), B \(b.shape)")
        }
        let (m, n, k) = (a.shape[0], a.shape[1], b.shape[1])
        let solution = try leastSquares(
            a.scalars.map(Double.init), rows: m, columns: n, b.scalars.map(Double.init), rightHandSides: k)
        return Tensor(uncheckedShape: [n, k], scalars: solution.map(Float.init))
    }

    /// Double-precision least squares for numerically delicate fits (LAPACK `dgelsd`).
    ///
    /// - Parameters:
    ///   - a: `rows × columns`, row-major.
    ///   - b: `rows × rightHandSides`, row-major.
    /// - Returns: `columns × rightHandSides`, row-major.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if the buffers do not hold the stated sizes;
    ///   ``TensorError/lapackFailure(_:_:)`` if the SVD does not converge.
    public static func leastSquares(
        _ a: [Double], rows m: Int, columns n: Int, _ b: [Double], rightHandSides k: Int
    ) throws -> [Double] {
        guard m > 0, n > 0, k > 0, a.count == m * n, b.count == m * k else {
            throw TensorError.shapeMismatch(
                "leastSquares", "A holds \(a.count) for \(m)×\(n), B holds \(b.count) for \(m)×\(k)")
        }
        var matrix = a
        var rhs = [Double](repeating: 0, count: max(m, n) * k)
        for i in 0..<(m * k) { rhs[i] = b[i] }
        var singularValues = [Double](repeating: 0, count: min(m, n))
        var rank: Int32 = 0
        _ = BLAS.singleThreadedOpenBLAS
        let info = LAPACKE_dgelsd(
            LAPACK_ROW_MAJOR, Int32(m), Int32(n), Int32(k), &matrix, Int32(n),
            &rhs, Int32(k), &singularValues, -1, &rank)
        guard info == 0 else { throw TensorError.lapackFailure("LAPACKE_dgelsd", Int(info)) }
        return Array(rhs.prefix(n * k))
    }

    /// The thin singular value decomposition `A = U · diag(S) · Vᵀ` of `A: [m, n]`
    /// (LAPACK `sgesdd`): `U: [m, r]`, `S: [r]` (descending), `Vᵀ: [r, n]` with `r = min(m, n)`.
    /// - Throws: ``TensorError/invalidShape(_:_:)`` unless `A` is a non-empty matrix;
    ///   ``TensorError/lapackFailure(_:_:)`` if it does not converge.
    public static func svd(_ a: Tensor) throws -> (u: Tensor, s: Tensor, vt: Tensor) {
        guard a.rank == 2, a.count > 0 else {
            throw TensorError.invalidShape("svd", "needs a non-empty matrix, got \(a.shape)")
        }
        let (m, n) = (a.shape[0], a.shape[1])
        let r = min(m, n)
        var matrix = a.scalars
        var s = [Float](repeating: 0, count: r)
        var u = [Float](repeating: 0, count: m * r)
        var vt = [Float](repeating: 0, count: r * n)
        _ = BLAS.singleThreadedOpenBLAS
        let info = LAPACKE_sgesdd(
            LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "S")), Int32(m), Int32(n), &matrix, Int32(n),
            &s, &u, Int32(r), &vt, Int32(n))
        guard info == 0 else { throw TensorError.lapackFailure("LAPACKE_sgesdd", Int(info)) }
        return (Tensor(uncheckedShape: [m, r], scalars: u), Tensor(uncheckedShape: [r], scalars: s),
                Tensor(uncheckedShape: [r, n], scalars: vt))
    }
}
