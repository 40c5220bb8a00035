import Autograd
import Foundation
@testable import PEFT
import Tensor
import Testing

/// `R(x)` evaluated directly in double precision, with powers from `pow` (not Horner's rule).
private func directRational(_ activation: RationalActivation, _ x: Double) -> Double {
    var numerator = 0.0, denominator = 0.0
    for (k, a) in activation.numerator.enumerated() { numerator += Double(a) * pow(x, Double(k)) }
    for (k, b) in activation.denominator.enumerated() { denominator += Double(b) * pow(x, Double(k + 1)) }
    return numerator / (1 + abs(denominator))
}

/// `B(x)` directly in double precision.
private func directDenominator(_ activation: RationalActivation, _ x: Double) -> Double {
    activation.denominator.enumerated().reduce(0) { $0 + Double($1.element) * pow(x, Double($1.offset + 1)) }
}

private func gelu(_ x: Double) -> Double { 0.5 * x * (1 + erf(x / 2.0.squareRoot())) }

private func grid(_ interval: ClosedRange<Double>, points: Int) -> [Double] {
    let (lower, upper) = (interval.lowerBound, interval.upperBound)
    return (0..<points).map { lower + (upper - lower) * Double($0) / Double(points - 1) }
}

/// Values with `minimum ≤ |x| ≤ maximum` and random signs: with `minimum = 0.5`, away from the
/// zeros of the fitted `B` (`x = 0` for every fit, and `x ≈ 0.153` for the (6, 5) fit on [-4, 4]),
/// where `|B|` has a kink and finite differences would not match.
private func inputsAwayFromZero(_ shape: [Int], minimum: Float, maximum: Float, seed: UInt64) throws -> Tensor {
    var generator = SeededGenerator(seed: seed)
    let magnitudes = try Tensor.uniform(shape, low: minimum, high: maximum, generator: &generator)
    return try Tensor(shape: shape, scalars: magnitudes.scalars.map { generator.next() % 2 == 0 ? $0 : -$0 })
}

@Suite("Rational activation: kernels and the autograd op")
struct RationalActivationTests {
    @Test("Forward matches a direct double-precision evaluation, for B of either sign", arguments: [(5, 4), (6, 5)])
    func forwardMatchesDirectEvaluation(p: Int, q: Int) throws {
        let activation = try RationalActivation.fitGELU(degrees: (p, q)).activation
        var generator = SeededGenerator(seed: 7)
        let x = try Tensor.uniform([3, 4, 5], low: -6, high: 6, generator: &generator)
        let y = activation.forward(x)
        #expect(y.shape == x.shape)
        var worst = 0.0
        for (input, output) in zip(x.scalars, y.scalars) {
            let expected = directRational(activation, Double(input))
            worst = max(worst, abs(Double(output) - expected) / max(1, abs(expected)))
        }
        print("rational (\(p), \(q)) forward vs direct double evaluation: max relative error \(worst)")
        #expect(worst < 1e-6)
    }

    @Test("Gradients w.r.t. x, numerator and denominator match finite differences", arguments: [(5, 4), (6, 5)])
    func gradientsMatchFiniteDifferences(p: Int, q: Int) throws {
        let activation = try RationalActivation.fitGELU(degrees: (p, q)).activation
        let x = try inputsAwayFromZero([3, 4], minimum: 0.5, maximum: 2.5, seed: UInt64(10 * p + q))
        let signs = Set(x.scalars.map { directDenominator(activation, Double($0)).sign })
        let inputs = [
            Variable(x, requiresGradient: true),
            Variable(Tensor(activation.numerator), requiresGradient: true),
            Variable(Tensor(activation.denominator), requiresGradient: true),
        ]
        let results = try GradientCheck.check(inputs, epsilon: 1e-3) {
            try Variable.rational($0[0], numerator: $0[1], denominator: $0[2])
        }
        // The (5, 4) fit has B > 0 there, the (6, 5) fit B < 0: both branches of |B| are checked.
        #expect(signs == (p == 5 ? [.plus] : [.minus]))
        #expect(results.count == 3)
        for (result, name) in zip(results, ["x", "numerator", "denominator"]) {
            print("gradient check rational (\(p), \(q)) w.r.t. \(name), B \(signs == [.plus] ? "> 0" : "< 0"): \(result)")
            #expect(result.relativeError < 1e-2, "\(name): \(result)")
        }
    }

    @Test("Gradients of a large tensor (the blocked, parallel path) equal a direct double evaluation")
    func largeTensorCoefficientGradients() throws {
        let (a, b): ([Float], [Float]) = ([0.1, 0.5, 0.4, 0.1, 0.01, -0.001], [0.05, 0.2, 0.01, -0.001])
        let activation = try RationalActivation(numerator: a, denominator: b)
        var generator = SeededGenerator(seed: 3)
        let count = 4 * RationalActivation.backwardBlockSize + 123  // four blocks: several threads
        let x = try Tensor.uniform([count], low: -3, high: 3, generator: &generator)
        let dy = try Tensor.uniform([count], low: -1, high: 1, generator: &generator)
        let (dx, dNumerator, dDenominator) = try activation.backward(input: x, outputGradient: dy)
        #expect(dx.shape == x.shape && dNumerator.shape == [6] && dDenominator.shape == [4])
        var expected = [Double](repeating: 0, count: 10)
        var worstInputGradient = 0.0
        let (inputs, outputGradients, inputGradients) = (x.scalars, dy.scalars, dx.scalars)
        var powers = [Double](repeating: 1, count: 6)
        for i in 0..<count {
            let (xi, g) = (Double(inputs[i]), Double(outputGradients[i]))
            for k in 1...5 { powers[k] = powers[k - 1] * xi }
            var (numerator, numeratorSlope, denominator, denominatorSlope) = (0.0, 0.0, 0.0, 0.0)
            for k in 0...5 { numerator += Double(a[k]) * powers[k] }
            for k in 1...5 { numeratorSlope += Double(k) * Double(a[k]) * powers[k - 1] }
            for k in 1...4 { denominator += Double(b[k - 1]) * powers[k] }
            for k in 1...4 { denominatorSlope += Double(k) * Double(b[k - 1]) * powers[k - 1] }
            let d = 1 + abs(denominator)
            let sign: Double = denominator > 0 ? 1 : (denominator < 0 ? -1 : 0)
            let y = numerator / d
            let inputGradient = g * (numeratorSlope - y * sign * denominatorSlope) / d
            worstInputGradient = max(worstInputGradient, abs(Double(inputGradients[i]) - inputGradient) / max(1, abs(inputGradient)))
            for k in 0...5 { expected[k] += g * powers[k] / d }
            for k in 1...4 { expected[5 + k] -= g * y * sign * powers[k] / d }
        }
        #expect(worstInputGradient < 1e-6)
        let computed = (dNumerator.scalars + dDenominator.scalars).map(Double.init)
        for (c, e) in zip(computed, expected) { #expect(abs(c - e) <= 1e-5 * max(1, abs(e)), "\(c) vs \(e)") }
    }

    @Test("Invalid coefficients and mismatched shapes throw")
    func invalidInputsThrow() throws {
        #expect(throws: RationalActivationError.invalidDegrees(numerator: 0, denominator: 4)) {
            try RationalActivation(numerator: [1], denominator: [0, 0, 0, 0])
        }
        #expect(throws: RationalActivationError.invalidDegrees(numerator: 5, denominator: 0)) {
            try RationalActivation(numerator: [0, 1, 0, 0, 0, 0], denominator: [])
        }
        #expect(throws: RationalActivationError.invalidDegrees(numerator: 11, denominator: 1)) {
            try RationalActivation(numerator: [Float](repeating: 0, count: 12), denominator: [0])
        }
        let activation = try RationalActivation(numerator: [0, 1], denominator: [0])
        #expect(throws: TensorError.self) {
            try activation.backward(input: Tensor.zeros([2, 3]), outputGradient: Tensor.zeros([3, 2]))
        }
        let x = Variable(try Tensor.zeros([4]), requiresGradient: true)
        #expect(throws: TensorError.self) {
            try Variable.rational(x, numerator: Variable(Tensor.zeros([2, 3])), denominator: Variable(Tensor([0.1])))
        }
        #expect(throws: RationalActivationError.self) {
            try Variable.rational(x, numerator: Variable(Tensor([0.5])), denominator: Variable(Tensor([0.1])))
        }
    }
}

/// One fit whose measured error a test pins down.
struct GELUFitCase: CustomTestStringConvertible, Sendable {
    let degrees: (numerator: Int, denominator: Int)
    let interval: ClosedRange<Double>
    /// The bound on the reported (true-form) maximum error: the measured value plus a margin.
    let maximumError: Double
    /// Where the linearised solution's true-form error must lie (measured ± a margin).
    let linearizedError: ClosedRange<Double>
    let method: RationalFit.Method
    /// Whether the kept fit has `B(x) ≥ 0` on the whole grid (so `|B| = B` there, no kink).
    let denominatorNonNegative: Bool

    var testDescription: String { "(\(degrees.numerator), \(degrees.denominator)) on \(interval)" }
}

// Measured with this library (float64, 2,001 points); see Documentation/RationalActivation.md.
let geluFitCases = [
    GELUFitCase(degrees: (5, 4), interval: -3...3, maximumError: 8.0e-4, linearizedError: 7.5e-4...8.0e-4,
                method: .linearized, denominatorNonNegative: true),
    GELUFitCase(degrees: (5, 4), interval: -4...4, maximumError: 2.5e-3, linearizedError: 2.3e-3...2.5e-3,
                method: .linearized, denominatorNonNegative: true),
    GELUFitCase(degrees: (5, 4), interval: -6...6, maximumError: 4.0e-3, linearizedError: 8.0e-3...8.6e-3,
                method: .refined, denominatorNonNegative: true),
    GELUFitCase(degrees: (6, 5), interval: -3...3, maximumError: 8.0e-5, linearizedError: 7.0e-5...8.0e-5,
                method: .linearized, denominatorNonNegative: true),
    GELUFitCase(degrees: (6, 5), interval: -4...4, maximumError: 1.5e-3, linearizedError: 7.0...7.4,
                method: .refined, denominatorNonNegative: false),
    GELUFitCase(degrees: (6, 5), interval: -6...6, maximumError: 3.0e-3, linearizedError: 5.0e-3...5.4e-3,
                method: .refined, denominatorNonNegative: true),
]

@Suite("Rational activation: the GELU fit")
struct GELUFitTests {
    @Test("The fit's true-form error on its interval is as measured", arguments: geluFitCases)
    func fitErrorOnInterval(_ expected: GELUFitCase) throws {
        let fit = try RationalActivation.fitGELU(degrees: expected.degrees, interval: expected.interval)
        let points = grid(expected.interval, points: 2001)
        let trueFormError = points.map { abs(directRational(fit.activation, $0) - gelu($0)) }.max() ?? .nan
        let smallestB = points.map { directDenominator(fit.activation, $0) }.min() ?? .nan
        let (lower, upper) = (expected.interval.lowerBound, expected.interval.upperBound)
        let outside = grid((2 * lower)...(2 * upper), points: 4001)
            .map { abs(directRational(fit.activation, $0) - gelu($0)) }.max() ?? .nan
        print("""
            GELU fit \(expected.testDescription): max error \(fit.maximumError) (\(fit.method)), \
            linearised \(fit.linearizedMaximumError), min B on the grid \(smallestB); \
            on [\(2 * lower), \(2 * upper)], outside the fit's interval and not claimed: \(outside)
            """)
        #expect(fit.points == 2001 && fit.interval == expected.interval)
        #expect(fit.maximumError <= expected.maximumError)
        #expect(abs(fit.maximumError - trueFormError) <= 1e-12, "the reported error is the true form's")
        #expect(expected.linearizedError.contains(fit.linearizedMaximumError))
        #expect(fit.method == expected.method)
        if expected.denominatorNonNegative {
            #expect(smallestB >= -1e-9, "B(x) ≥ 0 up to the rounding of b to Float")
        } else {
            #expect(smallestB < -1, "B changes sign: only the true-form refinement is valid")
        }
    }

    @Test("Two fits with the same arguments are identical")
    func fitIsDeterministic() throws {
        #expect(try RationalActivation.fitGELU(degrees: (6, 5)) == RationalActivation.fitGELU(degrees: (6, 5)))
    }

    @Test("Invalid degrees, intervals and point counts throw")
    func invalidFitArgumentsThrow() {
        #expect(throws: RationalActivationError.invalidDegrees(numerator: 0, denominator: 4)) {
            try RationalActivation.fitGELU(degrees: (0, 4))
        }
        #expect(throws: RationalActivationError.invalidDegrees(numerator: 5, denominator: 0)) {
            try RationalActivation.fitGELU(degrees: (5, 0))
        }
        #expect(throws: RationalActivationError.invalidDegrees(numerator: 5, denominator: 1_000)) {
            try RationalActivation.fitGELU(degrees: (5, 1_000))
        }
        #expect(throws: RationalActivationError.invalidInterval(lowerBound: 1, upperBound: 1)) {
            try RationalActivation.fitGELU(interval: 1...1)
        }
        #expect(throws: RationalActivationError.invalidInterval(lowerBound: -.infinity, upperBound: 0)) {
            try RationalActivation.fitGELU(interval: -Double.infinity...0)
        }
        #expect(throws: RationalActivationError.invalidInterval(lowerBound: -.greatestFiniteMagnitude, upperBound: .greatestFiniteMagnitude)) {
            try RationalActivation.fitGELU(interval: -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude)
        }
        #expect(throws: RationalActivationError.self, "x^4 overflows double") {
            try RationalActivation.fitGELU(interval: -1e150...1e150)
        }
        for points in [-1, 0, 1, 9, 1_000_001] {
            #expect(throws: RationalActivationError.invalidPointCount(points, allowed: 10...1_000_000)) {
                try RationalActivation.fitGELU(points: points)
            }
        }
    }
}
