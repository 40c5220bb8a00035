/// Why a rational activation could not be built or fitted.
public enum RationalActivationError: Error, Equatable, CustomStringConvertible {
    /// The degrees are outside `1...RationalActivation.maximumDegree` (numerator degree `p`,
    /// denominator degree `q`).
    case invalidDegrees(numerator: Int, denominator: Int)
    /// The fitting interval is empty, a single point, or not finite.
    case invalidInterval(lowerBound: Double, upperBound: Double)
    /// The grid has fewer points than the fit has coefficients, or more than the fit accepts.
    case invalidPointCount(Int, allowed: ClosedRange<Int>)
    /// The fit produced coefficients or an error that are not finite as `Float` (an interval far
    /// from the origin can do this).
    case nonFiniteFit(String)

    public var description: String {
        switch self {
        case let .invalidDegrees(p, q):
            return "rational activation: degrees (\(p), \(q)) must each be in 1...\(RationalActivation.maximumDegree)"
        case let .invalidInterval(lower, upper):
            return "rational fit: the interval [\(lower), \(upper)] must be finite with lower < upper"
        case let .invalidPointCount(points, allowed):
            return "rational fit: \(points) grid points, need \(allowed.lowerBound)...\(allowed.upperBound)"
        case let .nonFiniteFit(detail):
            return "rational fit: not finite: \(detail)"
        }
    }
}
