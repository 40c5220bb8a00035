import Foundation
import Testing
@testable import Tensor

@Suite("The exp kernel and the reductions against libm and plain loops")
struct VectorMathTests {
    /// `e^x` for each input through the exp kernel of `CKernels` (its AVX2 + FMA compilation, or its
    /// portable one).
    func exp(_ inputs: [Float], portable: Bool) -> [Float] {
        var outputs = [Float](repeating: .nan, count: inputs.count)
        _ = SIMDKernels.expSum(inputs, count: inputs.count, shift: 0, into: &outputs, portable: portable)
        return outputs
    }

    /// Distance in units in the last place of `expected`.
    func ulps(_ value: Float, _ expected: Double) -> Double {
        abs(Double(value) - expected) / Double(Float(expected).ulp)
    }

    @Test("exp is within 1 ulp of expf and of the exact value over the whole normal range",
          arguments: SIMDKernelTests.variants)
    func expAccuracy(portable: Bool) {
        // About 3 million inputs spread over [-87.33, 88.72].
        var inputs: [Float] = []
        var x: Float = -87.33
        while x < 88.72 {
            inputs += (0..<8).map { x + Float($0) * 7e-6 * max(1, abs(x)) }.filter { $0 < 88.72 }
            x += 5.6e-5 * max(1, abs(x))
        }
        let outputs = exp(inputs, portable: portable)
        var worstAgainstLibm = 0.0, worstAgainstExact = 0.0
        for (input, output) in zip(inputs, outputs) {
            worstAgainstLibm = max(worstAgainstLibm, ulps(output, Double(expf(input))))
            worstAgainstExact = max(worstAgainstExact, ulps(output, Foundation.exp(Double(input))))
        }
        #expect(worstAgainstLibm <= 1)
        #expect(worstAgainstExact <= 1)
    }

    @Test("exp: subnormal results, underflow, overflow, infinities and NaN as expf",
          arguments: SIMDKernelTests.variants)
    func expEdges(portable: Bool) {
        let subnormal: [Float] = [-103, -100, -95, -90, -88, -87.5]
        for (x, y) in zip(subnormal, exp(subnormal, portable: portable)) {
            #expect(abs(y - expf(x)) <= 2 * Float.leastNonzeroMagnitude * max(1, expf(x) / Float.leastNormalMagnitude))
        }
        #expect(exp([-.infinity, -1e30, -200, -110, -104.5], portable: portable).allSatisfy { $0 == 0 })
        #expect(exp([88.73, 89, 100, 1e30, .infinity], portable: portable).allSatisfy { $0 == .infinity })
        let special = exp([.nan, 0, 88.72], portable: portable)
        #expect(special[0].isNaN)
        #expect(special[1] == 1)
        #expect(ulps(special[2], Foundation.exp(Double(Float(88.72)))) <= 1)
    }

    @Test("maximum, dot and the exp passes agree with plain loops for every tail length")
    func reductions() {
        var generator = SeededGenerator(seed: 11)
        for count in [0, 1, 7, 8, 9, 31, 64, 100] {
            let a = (0..<count).map { _ in generator.nextUnitFloat() * 8 - 4 }
            let b = (0..<count).map { _ in generator.nextUnitFloat() * 8 - 4 }
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    let base = pa.baseAddress ?? UnsafePointer(bitPattern: 8)!
                    let other = pb.baseAddress ?? UnsafePointer(bitPattern: 8)!
                    #expect(VectorMath.maximum(base, count: count) == (a.max() ?? -.infinity))
                    #expect(abs(VectorMath.dot(base, other, count: count) - zip(a, b).map { $0 * $1 }.reduce(0, +)) < 1e-3)
                    let sumOfExp = a.map { expf($0 - 1) }.reduce(0, +)
                    #expect(abs(VectorMath.sumOfExp(base, count: count, shift: 1) - sumOfExp) <= 1e-5 * max(1, sumOfExp))
                }
            }
            var exps = a
            let total = exps.withUnsafeMutableBufferPointer {
                VectorMath.expInPlace($0.baseAddress ?? UnsafeMutablePointer(bitPattern: 8)!, count: count, shift: 0.5)
            }
            #expect(abs(total - a.map { expf($0 - 0.5) }.reduce(0, +)) <= 1e-5 * max(1, total))
            for (value, input) in zip(exps, a) { #expect(ulps(value, Foundation.exp(Double(input - 0.5))) <= 1) }
        }
    }
}
