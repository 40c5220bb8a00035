import Foundation
import Testing
import Tensor

@Suite("Vectorised exp and reductions against libm and plain loops")
struct VectorMathTests {
    /// Distance in units in the last place of `expected`.
    func ulps(_ value: Float, _ expected: Double) -> Double {
        abs(Double(value) - expected) / Double(Float(expected).ulp)
    }

    @Test("exp is within 1 ulp of expf and of the exact value over the whole normal range")
    func expAccuracy() {
        // About 3 million inputs spread over [-87.33, 88.72], eight per vector call.
        var worstAgainstLibm = 0.0, worstAgainstExact = 0.0
        var x: Float = -87.33
        while x < 88.72 {
            let inputs = VectorMath.Vector((0..<8).map { x + Float($0) * 7e-6 * max(1, abs(x)) })
            let outputs = VectorMath.exp(inputs)
            for lane in 0..<8 where inputs[lane] < 88.72 {
                worstAgainstLibm = max(worstAgainstLibm, ulps(outputs[lane], Double(expf(inputs[lane]))))
                worstAgainstExact = max(worstAgainstExact, ulps(outputs[lane], Foundation.exp(Double(inputs[lane]))))
            }
            x += 5.6e-5 * max(1, abs(x))
        }
        #expect(worstAgainstLibm <= 1)
        #expect(worstAgainstExact <= 1)
    }

    @Test("exp: subnormal results, underflow, overflow, infinities and NaN as expf")
    func expEdges() {
        for x: Float in [-103, -100, -95, -90, -88, -87.5] {
            #expect(abs(VectorMath.exp(x) - expf(x)) <= 2 * Float.leastNonzeroMagnitude * max(1, expf(x) / Float.leastNormalMagnitude))
        }
        for x: Float in [-.infinity, -1e30, -200, -110, -104.5] { #expect(VectorMath.exp(x) == 0) }
        for x: Float in [88.73, 89, 100, 1e30, .infinity] { #expect(VectorMath.exp(x) == .infinity) }
        #expect(VectorMath.exp(Float.nan).isNaN)
        #expect(VectorMath.exp(0) == 1)
        #expect(ulps(VectorMath.exp(88.72), Foundation.exp(Double(Float(88.72)))) <= 1)
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
