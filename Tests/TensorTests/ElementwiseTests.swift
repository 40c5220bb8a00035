import Foundation
import Testing
import Tensor

@Suite("Element-wise arithmetic, reductions and shapes")
struct ElementwiseTests {
    @Test("Broadcasting follows NumPy's rules")
    func broadcasting() throws {
        let a = try Tensor(rows: [[1, 2, 3], [4, 5, 6]])
        #expect((try a + Tensor([10, 20, 30])).scalars == [11, 22, 33, 14, 25, 36])
        let column = try Tensor(shape: [2, 1], scalars: [1, 2])
        #expect((try a * column).scalars == [1, 2, 3, 8, 10, 12])
        let outer = try Tensor(shape: [2, 1], scalars: [1, 2]) * Tensor(shape: [1, 3], scalars: [1, 10, 100])
        #expect(outer.shape == [2, 3] && outer.scalars == [1, 10, 100, 2, 20, 200])
        #expect(throws: TensorError.self) { try a + Tensor([1, 2]) }
    }

    @Test("Summing back to a broadcast operand's shape inverts the broadcast")
    func summedToShape() throws {
        let g = try Tensor(rows: [[1, 2, 3], [4, 5, 6]])
        #expect(try g.summed(toShape: [3]).scalars == [5, 7, 9])
        #expect(try g.summed(toShape: [2, 1]).scalars == [6, 15])
        #expect(try g.summed(toShape: [1, 1]).scalars == [21])
        #expect(throws: TensorError.self) { try g.summed(toShape: [2]) }
    }

    @Test("Reductions along an axis, and out-of-range axes throw")
    func reductions() throws {
        let t = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(try t.sum(alongAxis: 0).scalars == [5, 7, 9])
        #expect(try t.sum(alongAxis: -1, keepingDimension: true).shape == [2, 1])
        #expect(t.sum() == 21)
        #expect(try t.argmaxAlongLastAxis() == [2, 2])
        #expect(throws: TensorError.self) { try t.sum(alongAxis: 2) }
    }

    @Test("Softmax rows sum to one; fully masked rows become zeros, not NaN")
    func softmax() throws {
        let t = try Tensor(rows: [[1, 2, 3], [-.infinity, 0, -.infinity], [-.infinity, -.infinity, -.infinity]])
        let s = try t.softmax()
        #expect(abs(s.scalars[0..<3].reduce(0, +) - 1) < 1e-6)
        #expect(s.scalars[3..<6] == [0, 1, 0])
        #expect(s.scalars[6..<9] == [0, 0, 0])
        let logS = try Tensor(rows: [[1, 2, 3]]).logSoftmax()
        let expected = try Tensor(rows: [[1, 2, 3]]).softmax().scalars.map { logf($0) }
        #expect(zip(logS.scalars, expected).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test("Permute, concatenate, slice and split round-trip")
    func shapeOps() throws {
        let t = randomTensor([2, 3, 4], seed: 9)
        let p = try t.permuted([2, 0, 1])
        #expect(p.shape == [4, 2, 3])
        #expect(try p.permuted([1, 2, 0]) == t)
        let parts = try t.split(alongAxis: 1, sizes: [1, 2])
        #expect(parts.map(\.shape) == [[2, 1, 4], [2, 2, 4]])
        #expect(try Tensor.concatenate(parts, alongAxis: 1) == t)
        #expect(throws: TensorError.self) { try t.slice(alongAxis: 1, 2..<5) }
        #expect(throws: TensorError.self) { try t.permuted([0, 0, 1]) }
        #expect(throws: TensorError.self) { try t.reshaped([5, -1]) }
        #expect(try t.reshaped([4, -1]).shape == [4, 6])
    }

    @Test("Embedding gather picks rows and rejects out-of-range ids; scatter accumulates")
    func gather() throws {
        let table = try Tensor(rows: [[0, 0], [1, 1], [2, 2]])
        #expect(try table.gatherRows([2, 0, 2]).scalars == [2, 2, 0, 0, 2, 2])
        #expect(throws: TensorError.self) { try table.gatherRows([3]) }
        #expect(throws: TensorError.self) { try table.gatherRows([-1]) }
        let grad = try Tensor(rows: [[1, 1], [2, 2], [3, 3]])
        #expect(try Tensor.scatterAddRows(grad, ids: [2, 0, 2], rows: 3).scalars == [2, 2, 0, 0, 4, 4])
    }

    @Test("Constructors validate shapes")
    func constructors() {
        #expect(throws: TensorError.self) { try Tensor(shape: [2, 2], scalars: [1, 2, 3]) }
        #expect(throws: TensorError.self) { try Tensor(shape: [-1], scalars: []) }
        #expect(throws: TensorError.self) { try Tensor(rows: [[1], [1, 2]]) }
        #expect(throws: TensorError.self) { try Tensor.zeros([Int.max, 3]) }
    }
}
