import Testing
import Tensor

@Suite("Matrix products")
struct MatMulTests {
    @Test("2-D products agree with a naive loop for every transpose combination",
          arguments: [(false, false), (true, false), (false, true), (true, true)])
    func transposes(transposeA: Bool, transposeB: Bool) throws {
        let (m, k, n) = (5, 7, 3)
        let a = randomTensor(transposeA ? [k, m] : [m, k], seed: 1)
        let b = randomTensor(transposeB ? [n, k] : [k, n], seed: 2)
        let plainA = transposeA ? try a.transposed() : a
        let plainB = transposeB ? try b.transposed() : b
        let expected = try Tensor(shape: [m, n], scalars: naiveMatmul(plainA.scalars, plainB.scalars, m: m, k: k, n: n))
        let product = try Tensor.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
        #expect(maxDifference(product, expected) < 1e-5)
    }

    @Test("Leading dimensions fold into rows, like a linear layer over a batch")
    func foldsLeadingDimensions() throws {
        let x = randomTensor([2, 3, 4], seed: 3)
        let w = randomTensor([4, 6], seed: 4)
        let product = try Tensor.matmul(x, w)
        #expect(product.shape == [2, 3, 6])
        let flat = try Tensor.matmul(x.reshaped([6, 4]), w)
        #expect(product.scalars == flat.scalars)
    }

    @Test("Batched products multiply matching batch entries")
    func batched() throws {
        let a = randomTensor([3, 2, 4], seed: 5)
        let b = randomTensor([3, 4, 5], seed: 6)
        let product = try Tensor.matmul(a, b)
        for entry in 0..<3 {
            let expected = naiveMatmul(
                try a.slice(alongAxis: 0, entry..<(entry + 1)).scalars,
                try b.slice(alongAxis: 0, entry..<(entry + 1)).scalars, m: 2, k: 4, n: 5)
            let got = try product.slice(alongAxis: 0, entry..<(entry + 1)).scalars
            #expect(zip(got, expected).allSatisfy { abs($0 - $1) < 1e-5 })
        }
    }

    @Test("Empty inner dimension gives zeros; empty outer gives an empty result")
    func emptyOperands() throws {
        let zeros = try Tensor.matmul(Tensor.zeros([3, 0]), Tensor.zeros([0, 2]))
        #expect(zeros == (try Tensor.zeros([3, 2])))
        let empty = try Tensor.matmul(Tensor.zeros([0, 4]), randomTensor([4, 2], seed: 1))
        #expect(empty.shape == [0, 2])
    }

    @Test("Mismatched inner dimensions throw instead of trapping")
    func mismatchThrows() {
        #expect(throws: TensorError.self) { try Tensor.matmul(randomTensor([2, 3], seed: 1), randomTensor([4, 2], seed: 2)) }
        #expect(throws: TensorError.self) { try Tensor.matmul(randomTensor([3], seed: 1), randomTensor([3, 2], seed: 2)) }
        #expect(throws: TensorError.self) { try Tensor.matmul(randomTensor([2, 2, 3], seed: 1), randomTensor([3, 3, 2], seed: 2)) }
    }
}

@Suite("Few-row products")
struct SkinnyMatMulTests {
    @Test("Products with up to 16 rows against transposed weights agree with a naive loop", arguments: [1, 2, 3, 8, 16, 17])
    func fewRows(rows: Int) throws {
        let (k, n) = (37, 29)  // not multiples of the vector width
        let a = randomTensor([rows, k], seed: 1)
        let weights = randomTensor([n, k], seed: 2)
        let expected = try Tensor(shape: [rows, n], scalars: naiveMatmul(a.scalars, weights.transposed().scalars, m: rows, k: k, n: n))
        #expect(maxDifference(try Tensor.matmul(a, weights, transposeB: true), expected) < 1e-5)
    }
}
