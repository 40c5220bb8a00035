import Foundation
import Tensor

/// A rational activation fitted to GELU on an interval, with the fit's error there.
///
/// The fit holds **only on its interval**: outside it nothing is claimed, and the error grows.
public struct RationalFit: Sendable, Equatable {
    /// Which solution was kept.
    public enum Method: Sendable, Equatable {
        /// The linearised least-squares solution.
        case linearized
        /// The Levenberg–Marquardt refinement of the true form, started from the linearised solution.
        case refined
    }

    /// The fitted coefficients, rounded to `Float`.
    public let activation: RationalActivation
    /// The interval the fit holds on.
    public let interval: ClosedRange<Double>
    /// The number of evenly spaced grid points, ends included.
    public let points: Int
    /// `max |R(x) − GELU(x)|` over the grid, for the true form `R = P / (1 + |B|)` with the
    /// returned `Float` coefficients, evaluated in double precision.
    public let maximumError: Double
    /// The same error for the linearised solution alone (also in the true form, `Float` coefficients).
    public let linearizedMaximumError: Double
    /// Which solution ``activation`` is.
    public let method: Method
}

extension RationalActivation {
    /// The most grid points ``fitGELU(degrees:interval:points:)`` accepts.
    public static let maximumFitPoints = 1_000_000

    /// Fits `R(x) = P(x) / (1 + |B(x)|)` to exact GELU, `0.5·x·(1 + erf(x/√2))`, on `points`
    /// evenly spaced points of `interval`, in double precision:
    ///
    /// 1. **Linearised least squares**: `min Σ (P(x) − g(x)·(1 + B(x)))²` is linear in the
    ///    coefficients; solved with LAPACK `dgelsd` (columns equilibrated). It is the true
    ///    version-B fit only where `B(x) ≥ 0`.
    /// 2. **Refinement** of the true form, `min Σ (P(x) / (1 + |B(x)|) − g(x))²`, by
    ///    Levenberg–Marquardt from the linearised solution (each step a LAPACK least-squares solve).
    ///    It is always run (about 40 ms for degrees (5, 4) or (6, 5) in a release build): it is what
    ///    makes a fit whose linearised `B` goes negative usable, and it lowers the error of some others.
    ///
    /// Of the two, the one with the smaller true-form maximum error on the grid is kept (the
    /// linearised one on a tie). Deterministic: the same arguments give the same coefficients.
    ///
    /// - Parameters:
    ///   - degrees: `(p, q)`, each in `1...maximumDegree`; IAPT uses `(5, 4)` or `(6, 5)`.
    ///   - interval: finite, with `lowerBound < upperBound`. The fit holds only there.
    ///   - points: grid size, from `p + q + 1` (the number of coefficients) to ``maximumFitPoints``.
    /// - Throws: ``RationalActivationError/invalidDegrees(numerator:denominator:)``,
    ///   ``RationalActivationError/invalidInterval(lowerBound:upperBound:)``,
    ///   ``RationalActivationError/invalidPointCount(_:allowed:)`` for invalid arguments;
    ///   ``RationalActivationError/nonFiniteFit(_:)`` if the powers of `x` overflow on the interval
    ///   or the coefficients or error are not finite in `Float`;
    ///   ``TensorError/lapackFailure(_:_:)`` if LAPACK fails.
    public static func fitGELU(
        degrees: (numerator: Int, denominator: Int) = (5, 4),
        interval: ClosedRange<Double> = -4...4,
        points: Int = 2001
    ) throws -> RationalFit {
        try validate(degrees: degrees)
        let (lower, upper) = (interval.lowerBound, interval.upperBound)
        guard lower.isFinite, upper.isFinite, lower < upper, (upper - lower).isFinite else {
            throw RationalActivationError.invalidInterval(lowerBound: lower, upperBound: upper)
        }
        let allowed = (degrees.numerator + 1 + degrees.denominator)...maximumFitPoints
        guard allowed.contains(points) else { throw RationalActivationError.invalidPointCount(points, allowed: allowed) }

        let grid = (0..<points).map { lower + (upper - lower) * Double($0) / Double(points - 1) }
        let fit = GELUFitProblem(degrees: degrees, grid: grid)
        let linearized = try fit.linearizedSolution()
        let refined = try LevenbergMarquardt.minimize(
            from: linearized, residualCount: points, residuals: fit.residuals, jacobian: fit.jacobian)

        let linearizedActivation = try fit.activation(linearized)
        let refinedActivation = try fit.activation(refined)
        let linearizedError = fit.maximumError(linearizedActivation)
        let refinedError = fit.maximumError(refinedActivation)
        let keepRefined = refinedError.isFinite && !(linearizedError <= refinedError)
        let (activation, maximumError) = keepRefined
            ? (refinedActivation, refinedError) : (linearizedActivation, linearizedError)
        guard maximumError.isFinite, (activation.numerator + activation.denominator).allSatisfy(\.isFinite) else {
            throw RationalActivationError.nonFiniteFit(
                "degrees (\(degrees.numerator), \(degrees.denominator)) on [\(lower), \(upper)]: maximum error \(maximumError)")
        }
        return RationalFit(
            activation: activation, interval: interval, points: points,
            maximumError: maximumError, linearizedMaximumError: linearizedError,
            method: keepRefined ? .refined : .linearized)
    }
}
