import Testing
@testable import Tensor

/// Both compilations of every C kernel (AVX2 + FMA, and portable) against plain loops, whichever of
/// them this CPU would pick.
@Suite("SIMD kernels, both compilations")
struct SIMDKernelTests {
    /// The variants this CPU can run: portable always, AVX2 + FMA where present.
    static let variants: [Bool] = SIMDKernels.hasAVX2 ? [true, false] : [true]

    @Test("Few-row products: 8-, 4- and 1-row blocks, vector and scalar tails, a column range, a row stride",
          arguments: variants, [1, 4, 5, 8, 13, 16])
    func skinny(portable: Bool, rows: Int) throws {
        for k in [7, 37, 64] {
            let (n, ldc) = (11, 14)
            let a = randomTensor([rows, k], seed: 1), b = randomTensor([n, k], seed: 2)
            var c = [Float](repeating: .nan, count: rows * ldc)
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        SIMDKernels.skinnyGEMM(
                            pa.baseAddress!, pb.baseAddress!, pc.baseAddress!, m: rows, k: k, ldc: ldc, columns: 2..<9,
                            portable: portable)
                    }
                }
            }
            for i in 0..<rows {
                for j in 0..<ldc {
                    guard (2..<9).contains(j) else {
                        #expect(c[i * ldc + j].isNaN, "column \(j) is outside the range and must stay untouched")
                        continue
                    }
                    var expected: Float = 0
                    for p in 0..<k { expected += a.scalars[i * k + p] * b.scalars[j * k + p] }
                    #expect(abs(c[i * ldc + j] - expected) < 1e-5, "k \(k), row \(i), column \(j)")
                }
            }
        }
    }

    @Test("Scaled dot products with strided keys, and weighted sums of strided values that skip zero weights",
          arguments: variants)
    func attentionPieces(portable: Bool) throws {
        for width in [4, 16, 21] {
            let (count, stride) = (9, width + 3)
            let query = randomTensor([width], seed: 3), keys = randomTensor([count, stride], seed: 4)
            var weights = randomTensor([count], seed: 5).scalars
            weights[2] = 0
            var scores = [Float](repeating: 0, count: count), output = [Float](repeating: .nan, count: width)
            query.withUnsafeBufferPointer { q in
                keys.withUnsafeBufferPointer { k in
                    SIMDKernels.attentionScores(
                        query: q.baseAddress!, keys: k.baseAddress!, stride: stride, count: count, width: width, scale: 0.5,
                        into: &scores, portable: portable)
                    SIMDKernels.weightedSum(
                        weights: weights, values: k.baseAddress!, stride: stride, count: count, width: width, into: &output,
                        portable: portable)
                }
            }
            for j in 0..<count {
                var dot: Float = 0
                for p in 0..<width { dot += query.scalars[p] * keys.scalars[j * stride + p] }
                #expect(abs(scores[j] - 0.5 * dot) < 1e-5, "width \(width), key \(j)")
            }
            for p in 0..<width {
                var sum: Float = 0
                for j in 0..<count { sum += weights[j] * keys.scalars[j * stride + p] }
                #expect(abs(output[p] - sum) < 1e-5, "width \(width), element \(p)")
            }
        }
    }

    @Test("Sums: the vector body, the tail and their boundaries, bit-identical across compilations", arguments: variants)
    func sum(portable: Bool) {
        for count in [0, 1, 7, 31, 32, 33, 64, 100, 1_027] {
            let values = randomTensor([max(1, count)], seed: UInt64(count)).scalars
            let total = SIMDKernels.sum(values, count: count, portable: portable)
            let exact = values.prefix(count).reduce(0.0) { $0 + Double($1) }
            #expect(abs(Double(total) - exact) <= 1e-5 * Double(max(1, count)), "count \(count)")
            #expect(total == SIMDKernels.sum(values, count: count, portable: true), "count \(count)")
        }
    }

    @Test("The streaming read reports a finite, positive rate")
    func streamingRead() {
        let rate = MemoryBandwidth.streamingRead(megabytes: 16, passes: 2)
        #expect(rate.isFinite && rate > 0)
    }
}
