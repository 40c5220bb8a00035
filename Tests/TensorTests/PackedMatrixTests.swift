import Foundation
import Testing
@testable import Tensor

/// Products against a packed right operand (`PackedMatrix`), both kernel compilations, against BLAS.
@Suite("Packed products")
struct PackedMatrixTests {
    @Test("Equal to BLAS for ragged shapes, plain and transposed, overwriting and accumulating",
          arguments: SIMDKernelTests.variants, [true, false])
    func matchesBLAS(portable: Bool, transposed: Bool) throws {
        // k = 300 crosses the kernel's 256-element chunk; m = 150 its 72-row block and the split;
        // n = 17 and 40 leave a partial panel.
        for (m, n, k) in [(1, 1, 1), (5, 17, 7), (13, 16, 33), (73, 40, 300), (150, 33, 64), (7, 300, 20)] {
            let a = randomTensor([m, k], seed: UInt64(m + n + k))
            let b = randomTensor(transposed ? [n, k] : [k, n], seed: UInt64(m * n * k))
            let packed = try PackedMatrix(b, transposed: transposed)
            #expect(packed.k == k && packed.n == n)
            let expected = try Tensor.matmul(a, b, transposeB: transposed)
            let product = try Tensor.matmul(a, packed, portable: portable)
            #expect(product.shape == [m, n])
            #expect(maxDifference(product, expected) < 1e-4 * Float(k).squareRoot(), "\(m)×\(n)×\(k)")

            var accumulated = randomTensor([m, n], seed: 99)
            let start = accumulated
            try accumulated.addMatmul(a, packed, portable: portable)
            #expect(maxDifference(accumulated, try start + expected) < 1e-4 * Float(k).squareRoot(), "+= \(m)×\(n)×\(k)")
        }
    }

    @Test("A row's result does not depend on the rows beside it or on the split across threads",
          arguments: SIMDKernelTests.variants)
    func rowsAreIndependent(portable: Bool) throws {
        let (m, n, k) = (200, 48, 300)
        let a = randomTensor([m, k], seed: 5), b = randomTensor([n, k], seed: 6)
        let packed = try PackedMatrix(b, transposed: true)
        let whole = try Tensor.matmul(a, packed, portable: portable)
        let single = try BLAS.withSingleThread { try Tensor.matmul(a, packed, portable: portable) }
        #expect(whole == single)
        for row in [0, 71, 72, 199] {
            let one = try Tensor.matmul(Tensor(shape: [1, k], scalars: Array(a.scalars[row * k..<(row + 1) * k])), packed, portable: portable)
            #expect(one.scalars == Array(whole.scalars[row * n..<(row + 1) * n]), "row \(row)")
        }
    }

    @Test("Leading dimensions fold into rows; the packed operand unpacks to what was packed")
    func shapesAndUnpacking() throws {
        let b = randomTensor([5, 19], seed: 7)
        #expect(try PackedMatrix(b, transposed: false).unpacked() == b)
        let transposed = try PackedMatrix(b, transposed: true)
        #expect(transposed.k == 19 && transposed.n == 5)
        let unpacked = transposed.unpacked()
        for p in 0..<19 { for q in 0..<5 { #expect(unpacked.scalars[p * 5 + q] == b.scalars[q * 19 + p]) } }
        let a = randomTensor([2, 3, 19], seed: 8)
        #expect(try Tensor.matmul(a, transposed).shape == [2, 3, 5])
    }

    @Test("Shape errors name the shapes")
    func errors() throws {
        let packed = try PackedMatrix(randomTensor([4, 6], seed: 1), transposed: false)
        #expect(throws: TensorError.self) { try Tensor.matmul(randomTensor([3, 5], seed: 2), packed) }
        var wrong = randomTensor([3, 7], seed: 3)
        #expect(throws: TensorError.self) { try wrong.addMatmul(randomTensor([3, 4], seed: 4), packed) }
        #expect(throws: TensorError.self) { try PackedMatrix(randomTensor([2, 3, 4], seed: 5), transposed: false) }
    }
}

@Suite("Element-wise C kernels, both compilations")
struct ElementwiseKernelTests {
    @Test("SwiGLU forward and backward against scalar formulas, every tail length",
          arguments: SIMDKernelTests.variants)
    func swiGLU(portable: Bool) {
        for count in [1, 7, 8, 9, 23] {
            let g = randomTensor([count], seed: 1, scale: 6).scalars, u = randomTensor([count], seed: 2).scalars
            let dy = randomTensor([count], seed: 3).scalars
            var out = [Float](repeating: .nan, count: count), dUp = out, dGate = out, inPlace = dy
            SIMDKernels.swiGLUForward(g, u, &out, count: count, portable: portable)
            SIMDKernels.swiGLUBackward(g, u, dy, &dUp, &dGate, count: count, portable: portable)
            inPlace.withUnsafeMutableBufferPointer { dyAndDUp in
                SIMDKernels.swiGLUBackward(
                    g, u, dyAndDUp.baseAddress!, dyAndDUp.baseAddress!, &dGate, count: count, portable: portable)
            }
            #expect(inPlace == dUp)
            for i in 0..<count {
                let sigmoid = 1 / (1 + expf(-g[i]))
                #expect(abs(out[i] - g[i] * sigmoid * u[i]) <= 1e-6 * max(1, abs(out[i])))
                #expect(abs(dUp[i] - dy[i] * g[i] * sigmoid) <= 1e-6 * max(1, abs(dUp[i])))
                let expected = dy[i] * u[i] * sigmoid * (1 + g[i] * (1 - sigmoid))
                #expect(abs(dGate[i] - expected) <= 1e-6 * max(1, abs(expected)))
            }
        }
    }

    @Test("exp-sum: within 1 ulp of expf per element, scaled output, NaN and infinities",
          arguments: SIMDKernelTests.variants)
    func expSum(portable: Bool) {
        // The normal range of the result (below -87.3 it is subnormal, above 88.7 infinite).
        let values: [Float] = (0..<1003).map { -87 + Float($0) * 0.175 } + [-.infinity, .infinity, .nan, 0]
        var out = [Float](repeating: 0, count: values.count)
        _ = SIMDKernels.expSum(values, count: values.count, shift: 0, into: &out, scale: 1, portable: portable)
        for (x, y) in zip(values.prefix(1003), out.prefix(1003)) {
            let r = expf(x)
            #expect(abs(y - r) <= r.ulp, "e^\(x)")
        }
        #expect(out[1003] == 0 && out[1004] == .infinity && out[1005].isNaN && out[1006] == 1)
        for count in [1, 5, 8, 11] {
            let row = randomTensor([count], seed: UInt64(count)).scalars
            var scaled = [Float](repeating: .nan, count: count)
            let total = SIMDKernels.expSum(row, count: count, shift: 0.5, into: &scaled, scale: 0.25, portable: portable)
            let expected = row.map { expf($0 - 0.5) }
            #expect(abs(total - expected.reduce(0, +)) <= 1e-5 * Float(count))
            for i in 0..<count { #expect(abs(scaled[i] - expected[i] * 0.25) <= 1e-6) }
            #expect(SIMDKernels.expSum(row, count: count, shift: 0.5, portable: portable) == total)
        }
    }
}
