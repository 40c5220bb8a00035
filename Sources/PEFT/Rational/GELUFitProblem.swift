import Foundation
import Tensor

/// The least-squares problems behind ``RationalActivation/fitGELU(degrees:interval:points:)``, over
/// a fixed grid, in double precision. Coefficients are packed as `[a0 … ap, b1 … bq]`.
struct GELUFitProblem {
    let numeratorDegree: Int
    let denominatorDegree: Int
    /// The grid points `x`.
    let grid: [Double]
    /// Exact GELU at the grid points, `g(x) = 0.5·x·(1 + erf(x/√2))`.
    let targets: [Double]

    init(degrees: (numerator: Int, denominator: Int), grid: [Double]) {
        numeratorDegree = degrees.numerator
        denominatorDegree = degrees.denominator
        self.grid = grid
        targets = grid.map { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }
    }

    /// `p + 1 + q`.
    var coefficientCount: Int { numeratorDegree + 1 + denominatorDegree }

    /// The minimiser of `Σ (P(x) − g(x)·(1 + B(x)))²`: the rows `[1, x, …, x^p, −g·x, …, −g·x^q]`
    /// against `g`, solved by LAPACK `dgelsd` with equilibrated columns.
    /// - Throws: ``RationalActivationError/nonFiniteFit(_:)`` if the monomials overflow on the grid;
    ///   ``TensorError/lapackFailure(_:_:)`` if the solve fails.
    func linearizedSolution() throws -> [Double] {
        let n = coefficientCount
        var matrix = [Double](repeating: 0, count: grid.count * n)
        for (i, (x, g)) in zip(grid, targets).enumerated() {
            var power = 1.0
            for k in 0...numeratorDegree {
                matrix[i * n + k] = power
                power *= x
            }
            power = x
            for k in 0..<denominatorDegree {
                matrix[i * n + numeratorDegree + 1 + k] = -g * power
                power *= x
            }
        }
        let (scaled, scale) = columnEquilibrated(matrix, rows: grid.count, columns: n)
        guard scale.allSatisfy({ $0.isFinite }) else {
            throw RationalActivationError.nonFiniteFit("the powers x^k or g(x)·x^k overflow double on the interval")
        }
        let solution = try LinearAlgebra.leastSquares(scaled, rows: grid.count, columns: n, targets, rightHandSides: 1)
        return zip(solution, scale).map { $0 / $1 }
    }

    /// The true-form residuals `P(x) / (1 + |B(x)|) − g(x)` at every grid point.
    func residuals(_ coefficients: [Double]) -> [Double] {
        var residual = split(coefficients)(grid)
        for i in residual.indices { residual[i] -= targets[i] }
        return residual
    }

    /// `∂ residual / ∂ coefficient`, `points × (p + 1 + q)`, row-major: `x^k / D` for `a_k` and
    /// `−R(x)·sign(B(x))·x^k / D` for `b_k`, with `D = 1 + |B(x)|`.
    func jacobian(_ coefficients: [Double]) -> [Double] {
        let polynomials = split(coefficients)
        let (n, p, q) = (coefficientCount, numeratorDegree, denominatorDegree)
        var result = [Double](repeating: 0, count: grid.count * n)
        result.withUnsafeMutableBufferPointer { jacobian in
            grid.withUnsafeBufferPointer { grid in
                polynomials.numerator.withUnsafeBufferPointer { a in
                    polynomials.denominator.withUnsafeBufferPointer { b in
                        for i in 0..<grid.count {
                            let x = grid[i]
                            let denominator = Horner.value(b, x)
                            let inverseD = 1 / (1 + Swift.abs(denominator))
                            let slope = -Horner.value(a, x) * inverseD * Horner.sign(denominator) * inverseD
                            let row = i * n
                            var power = 1.0
                            for k in 0...p {
                                jacobian[row + k] = power * inverseD
                                power *= x
                            }
                            power = x
                            for k in 0..<q {
                                jacobian[row + p + 1 + k] = slope * power
                                power *= x
                            }
                        }
                    }
                }
            }
        }
        return result
    }

    /// The activation with `coefficients` rounded to `Float`.
    /// - Throws: nothing for the validated degrees this problem was made with.
    func activation(_ coefficients: [Double]) throws -> RationalActivation {
        try RationalActivation(
            numerator: coefficients[0...numeratorDegree].map { Float($0) },
            denominator: coefficients[(numeratorDegree + 1)...].map { Float($0) })
    }

    /// `max |R(x) − g(x)|` over the grid, `R` in the true form evaluated in double precision.
    /// `NaN` if `R` is not finite somewhere.
    func maximumError(_ activation: RationalActivation) -> Double {
        var largest = 0.0
        for (value, g) in zip(RationalPolynomials(activation)(grid), targets) {
            let error = Swift.abs(value - g)
            guard error.isFinite else { return .nan }
            largest = max(largest, error)
        }
        return largest
    }

    private func split(_ coefficients: [Double]) -> RationalPolynomials {
        RationalPolynomials(
            numerator: Array(coefficients[0...numeratorDegree]),
            denominator: Array(coefficients[(numeratorDegree + 1)...]))
    }
}
