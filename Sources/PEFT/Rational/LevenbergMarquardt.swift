import Tensor

/// Levenberg–Marquardt (damped Gauss–Newton) for small dense non-linear least squares,
/// `min Σ rᵢ(θ)²`, in double precision.
///
/// Each step solves the damped linearisation as a least-squares problem with LAPACK (`dgelsd`
/// through ``LinearAlgebra/leastSquares(_:rows:columns:_:rightHandSides:)``) instead of forming the
/// normal equations, which would square the condition number:
///
///     min ‖ [J·S⁻¹ ; √λ·I] · δ' + [r ; 0] ‖,   δ = S⁻¹·δ'
///
/// `S` holds the column norms of `J` (Marquardt's scaling: the damping does not depend on the units
/// of the parameters). A step is taken only if it lowers the cost; then `λ` shrinks tenfold,
/// otherwise it grows tenfold. Deterministic: no randomness, fixed stopping rules.
enum LevenbergMarquardt {
    /// Stop once an accepted step lowers the cost by less than this fraction.
    static let relativeTolerance = 1e-12
    /// Give up once the damping passes this: no step along the gradient lowers the cost.
    static let maximumDamping = 1e10

    /// The parameters with the lowest cost found from `start`.
    ///
    /// - Parameters:
    ///   - start: `n` parameters.
    ///   - residualCount: `m`, the number of residuals.
    ///   - residuals: `θ ↦ r(θ)`, `m` values.
    ///   - jacobian: `θ ↦ ∂r/∂θ`, `m × n`, row-major.
    ///   - maximumIterations: the most linear solves to attempt.
    /// - Throws: ``TensorError/lapackFailure(_:_:)`` if a solve fails.
    static func minimize(
        from start: [Double], residualCount m: Int,
        residuals: ([Double]) -> [Double], jacobian: ([Double]) -> [Double],
        maximumIterations: Int = 200
    ) throws -> [Double] {
        let n = start.count
        var parameters = start
        var residual = residuals(parameters)
        var cost = sumOfSquares(residual)
        var damping = 1e-3
        var (scaledJacobian, columnScale) = columnEquilibrated(jacobian(parameters), rows: m, columns: n)
        for _ in 0..<maximumIterations where cost > 0 {
            var system = scaledJacobian
            system.reserveCapacity((m + n) * n)
            for k in 0..<n {
                for column in 0..<n { system.append(column == k ? damping.squareRoot() : 0) }
            }
            let rightHandSide = residual.map { -$0 } + [Double](repeating: 0, count: n)
            let step = try LinearAlgebra.leastSquares(system, rows: m + n, columns: n, rightHandSide, rightHandSides: 1)
            let trial = (0..<n).map { parameters[$0] + step[$0] / columnScale[$0] }
            let trialResidual = residuals(trial)
            let trialCost = sumOfSquares(trialResidual)
            if trialCost < cost {
                let decrease = (cost - trialCost) / cost
                (parameters, residual, cost) = (trial, trialResidual, trialCost)
                if decrease < relativeTolerance { break }
                damping = max(damping / 10, 1e-12)
                (scaledJacobian, columnScale) = columnEquilibrated(jacobian(parameters), rows: m, columns: n)
            } else {
                damping *= 10
                if damping > maximumDamping { break }
            }
        }
        return parameters
    }

    private static func sumOfSquares(_ values: [Double]) -> Double { values.reduce(0) { $0 + $1 * $1 } }
}

/// `A·S⁻¹` and `S`, the column norms of `A: rows × columns` (row-major; `1` for a zero column).
/// Solving for `S·x` instead of `x` makes a least-squares problem whose columns differ by orders
/// of magnitude (monomials `1 … x^q` on a wide interval) well scaled for LAPACK.
func columnEquilibrated(_ matrix: [Double], rows m: Int, columns n: Int) -> (matrix: [Double], scale: [Double]) {
    var norms = [Double](repeating: 0, count: n)
    for i in 0..<m {
        for k in 0..<n { norms[k] += matrix[i * n + k] * matrix[i * n + k] }
    }
    let scale = norms.map { $0 > 0 ? $0.squareRoot() : 1 }
    var result = matrix
    for i in 0..<m {
        for k in 0..<n { result[i * n + k] /= scale[k] }
    }
    return (result, scale)
}
