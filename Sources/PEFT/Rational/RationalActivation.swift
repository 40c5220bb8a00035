/// IAPT's learned activation: a Padé activation unit in its "safe" form (version B),
///
///     R(x) = (a0 + a1·x + … + ap·x^p) / (1 + |b1·x + … + bq·x^q|) = P(x) / (1 + |B(x)|),
///
/// with one coefficient set shared by every channel it is applied to. The denominator is at least
/// 1, so `R` has no poles; where `B` changes sign, `R` has a kink.
///
/// IAPT uses degrees `(5, 4)` by default and `(6, 5)` as an option, starting from a fit of GELU
/// (``fitGELU(degrees:interval:points:)``). For training, the coefficients are `Variable`s and the
/// op is `Variable.rational(_:numerator:denominator:)`; this value type holds one
/// coefficient set and the forward/backward kernels over tensors (`RationalKernels.swift`).
public struct RationalActivation: Sendable, Equatable {
    /// The largest numerator or denominator degree accepted: a guard against absurd degrees, well
    /// above IAPT's (6, 5); the monomial basis only gets worse conditioned beyond it.
    public static let maximumDegree = 10

    /// `[a0, a1, …, ap]`, lowest order first: `p + 1` coefficients.
    public let numerator: [Float]
    /// `[b1, …, bq]`, lowest order first: `q` coefficients (`B` has no constant term).
    public let denominator: [Float]

    /// An activation with the given coefficients.
    /// - Parameters:
    ///   - numerator: `[a0 … ap]`, `p + 1` values with `1 ≤ p ≤ maximumDegree`.
    ///   - denominator: `[b1 … bq]`, `q` values with `1 ≤ q ≤ maximumDegree`.
    /// - Throws: ``RationalActivationError/invalidDegrees(numerator:denominator:)`` otherwise.
    public init(numerator: [Float], denominator: [Float]) throws {
        try Self.validate(degrees: (numerator.count - 1, denominator.count))
        self.numerator = numerator
        self.denominator = denominator
    }

    /// `(p, q)`: the degrees of `P` and `B`.
    public var degrees: (numerator: Int, denominator: Int) { (numerator.count - 1, denominator.count) }

    /// - Throws: ``RationalActivationError/invalidDegrees(numerator:denominator:)`` unless both
    ///   degrees are in `1...maximumDegree`.
    static func validate(degrees: (numerator: Int, denominator: Int)) throws {
        let allowed = 1...maximumDegree
        guard allowed.contains(degrees.numerator), allowed.contains(degrees.denominator) else {
            throw RationalActivationError.invalidDegrees(numerator: degrees.numerator, denominator: degrees.denominator)
        }
    }
}

/// `P` and `B` as double-precision polynomials, lowest order first, `B` with its zero constant
/// term written out, so both are evaluated by the same Horner loops.
struct RationalPolynomials {
    /// `[a0 … ap]`.
    let numerator: [Double]
    /// `[0, b1 … bq]`.
    let denominator: [Double]

    init(numerator: [Double], denominator: [Double]) {
        self.numerator = numerator
        self.denominator = [0] + denominator
    }

    init(_ activation: RationalActivation) {
        self.init(numerator: activation.numerator.map(Double.init), denominator: activation.denominator.map(Double.init))
    }

    /// `R(x)` at every point of `points`, in double precision.
    func callAsFunction(_ points: [Double]) -> [Double] {
        [Double](unsafeUninitializedCapacity: points.count) { values, initialized in
            points.withUnsafeBufferPointer { x in
                numerator.withUnsafeBufferPointer { a in
                    denominator.withUnsafeBufferPointer { b in
                        for i in 0..<x.count { values[i] = Horner.value(a, x[i]) / (1 + Swift.abs(Horner.value(b, x[i]))) }
                    }
                }
            }
            initialized = points.count
        }
    }
}

/// Polynomial evaluation by Horner's rule; coefficients lowest order first.
enum Horner {
    /// `c0 + c1·x + … + cn·x^n`.
    @inline(__always)
    static func value(_ c: UnsafeBufferPointer<Double>, _ x: Double) -> Double {
        var value = 0.0
        var k = c.count - 1
        while k >= 0 {
            value = value * x + c[k]
            k -= 1
        }
        return value
    }

    /// The polynomial and its derivative at `x`, in one pass.
    @inline(__always)
    static func valueAndDerivative(_ c: UnsafeBufferPointer<Double>, _ x: Double) -> (value: Double, derivative: Double) {
        var value = 0.0, derivative = 0.0
        var k = c.count - 1
        while k >= 0 {
            derivative = derivative * x + value
            value = value * x + c[k]
            k -= 1
        }
        return (value, derivative)
    }

    /// `+1`, `-1`, or `0` at `0`: the derivative of `|·|` used by the backward pass.
    @inline(__always)
    static func sign(_ value: Double) -> Double { value > 0 ? 1 : (value < 0 ? -1 : 0) }
}
