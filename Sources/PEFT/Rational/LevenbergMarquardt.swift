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
/// otherwise it grows tenfold. It stops when an accepted step barely lowers the cost, when no
/// damping finds a lower cost, after `maximumIterations` solves, or where the Jacobian is not
/// finite (or its column norms overflow), and returns the best parameters seen. Deterministic:
/// no randomness, fixed stopping rules.
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
            guard columnScale.allSatisfy({ $0.isFinite }) else { break }
            var system = scaledJacobian
            system.append(contentsOf: repeatElement(0, count: n * n))
            for k in 0..<n { system[(m + k) * n + k] = damping.squareRoot() }
            var rightHandSide = [Double](repeating: 0, count: m + n)
            for i in 0..<m { rightHandSide[i] = -residual[i] }
            let step = try LinearAlgebra.leastSquares(system, rows: m + n, columns: n, rightHandSide, rightHandSides: 1)
            var trial = parameters
            for k in 0..<n { trial[k] += step[k] / columnScale[k] }
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

    private static func sumOfSquares(_ values: [Double]) -> Double {
        values.withUnsafeBufferPointer { values in
            var sum = 0.0
            for value in values { sum += value * value }
            return sum
        }
    }
}

/// `A·S⁻¹` and `S`, the column norms of `A: rows × columns` (row-major; `1` for a zero column).
/// A column with a non-finite entry, or whose norm overflows, has a non-finite scale.
/// Solving for `S·x` instead of `x` makes a least-squares problem whose columns differ by orders
/// of magnitude (monomials `1 … x^q` on a wide interval) well scaled for LAPACK.
func columnEquilibrated(_ matrix: [Double], rows m: Int, columns n: Int) -> (matrix: [Double], scale: [Double]) {
    var result = matrix
    var scale = [Double](repeating: 0, count: n)
    result.withUnsafeMutableBufferPointer { a in
        scale.withUnsafeMutableBufferPointer { norms in
            for i in 0..<m {
                for k in 0..<n { norms[k] += a[i * n + k] * a[i * n + k] }
            }
            for k in 0..<n { norms[k] = norms[k] > 0 ? norms[k].squareRoot() : 1 }
            for i in 0..<m {
                for k in 0..<n { a[i * n + k] /= norms[k] }
            }
        }
    }
    return (result, scale)
}
