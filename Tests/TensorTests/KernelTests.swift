import Foundation
import Testing
import Tensor

@Suite("Fused kernels against plain reference loops")
struct KernelTests {
    @Test("RMSNorm matches x / sqrt(mean(x²) + eps) · w")
    func rmsNorm() throws {
        let x = randomTensor([3, 8], seed: 1, scale: 2)
        let w = randomTensor([8], seed: 2)
        let (y, inverse) = try RMSNorm.forward(x, weight: w, epsilon: 1e-5)
        for row in 0..<3 {
            let values = Array(x.scalars[(row * 8)..<(row * 8 + 8)])
            let r = 1 / (values.map { $0 * $0 }.reduce(0, +) / 8 + 1e-5).squareRoot()
            #expect(abs(inverse.scalars[row] - r) < 1e-5)
            for j in 0..<8 { #expect(abs(y.scalars[row * 8 + j] - values[j] * r * w.scalars[j]) < 1e-5) }
        }
        #expect(throws: TensorError.self) { try RMSNorm.forward(x, weight: randomTensor([7], seed: 3), epsilon: 1e-5) }
    }

    @Test("RoPE rotates each channel pair by position × frequency; the inverse undoes it", arguments: [RotaryEmbedding.Style.halfSplit, .interleaved])
    func rope(style: RotaryEmbedding.Style) throws {
        let rotary = try RotaryEmbedding(headDimension: 4, theta: 10_000, style: style)
        let x = randomTensor([1, 2, 1, 4], seed: 4)
        let positions = [0, 3]
        let y = try rotary.apply(x, positions: positions)
        #expect(Array(y.scalars[0..<4]) == Array(x.scalars[0..<4]))  // position 0: identity
        let v = Array(x.scalars[4..<8])
        let pairs = style == .halfSplit ? [(0, 2), (1, 3)] : [(0, 1), (2, 3)]
        for (i, (first, second)) in pairs.enumerated() {
            let angle = 3 * (1 / powf(10_000, Float(2 * i) / 4))
            #expect(abs(y.scalars[4 + first] - (v[first] * cosf(angle) - v[second] * sinf(angle))) < 1e-5)
            #expect(abs(y.scalars[4 + second] - (v[second] * cosf(angle) + v[first] * sinf(angle))) < 1e-5)
        }
        #expect(maxDifference(try rotary.apply(y, positions: positions, inverse: true), x) < 1e-5)
        #expect(throws: TensorError.self) { try rotary.apply(x, positions: [0]) }
        #expect(throws: TensorError.self) { try rotary.apply(x, positions: [0, -1]) }
        #expect(throws: TensorError.self) { try RotaryEmbedding(headDimension: 3, theta: 10_000) }
    }

    @Test("Activations match reference values")
    func activations() {
        #expect(abs(Activation.gelu(1) - 0.841_344_7) < 1e-6)
        #expect(abs(Activation.gelu(-2) - -0.045_500_26) < 1e-6)
        #expect(abs(Activation.silu(1) - 0.731_058_6) < 1e-6)
        for x: Float in [-3, -0.5, 0.2, 2.5] {
            let h: Float = 1e-3
            #expect(abs(Activation.geluDerivative(x) - (Activation.gelu(x + h) - Activation.gelu(x - h)) / (2 * h)) < 1e-3)
            #expect(abs(Activation.siluDerivative(x) - (Activation.silu(x + h) - Activation.silu(x - h)) / (2 * h)) < 1e-3)
        }
    }

    /// Attention computed one query at a time with explicit loops.
    func naiveAttention(
        q: Tensor, k: Tensor, v: Tensor, keyMask: [Bool]?, causal: Bool
    ) -> [Float] {
        let (b, tq, hq, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
        let (tk, hkv) = (k.shape[1], k.shape[2])
        var out = [Float](repeating: 0, count: q.count)
        for bi in 0..<b { for h in 0..<hq { for t in 0..<tq {
            let kvh = h / (hq / hkv)
            var scores = [Float](repeating: -.infinity, count: tk)
            for j in 0..<tk where (!causal || j <= t + tk - tq) && (keyMask?[bi * tk + j] ?? true) {
                var dot: Float = 0
                for c in 0..<d { dot += q.scalars[((bi * tq + t) * hq + h) * d + c] * k.scalars[((bi * tk + j) * hkv + kvh) * d + c] }
                scores[j] = dot / Float(d).squareRoot()
            }
            let maximum = scores.max() ?? -.infinity
            guard maximum > -.infinity else { continue }
            let weights = scores.map { expf($0 - maximum) }
            let total = weights.reduce(0, +)
            for j in 0..<tk where weights[j] > 0 {
                for c in 0..<d {
                    out[((bi * tq + t) * hq + h) * d + c] += weights[j] / total * v.scalars[((bi * tk + j) * hkv + kvh) * d + c]
                }
            }
        }}}
        return out
    }

    @Test("Attention with grouped heads, a prefix, padding and causality matches the naive loops")
    func attention() throws {
        let q = randomTensor([2, 3, 4, 8], seed: 5)
        let k = randomTensor([2, 5, 2, 8], seed: 6)  // 2 prefix keys in front of 3 token keys
        let v = randomTensor([2, 5, 2, 8], seed: 7)
        let mask = [true, true, true, true, true,  true, true, false, true, true]  // row 1: a padded key
        for (keyMask, causal) in [(nil, true), (mask, true), (mask, false)] as [([Bool]?, Bool)] {
            let (out, probabilities) = try Attention.forward(
                query: q, key: k, value: v, keyMask: keyMask, causal: causal, saveProbabilities: true)
            let expected = naiveAttention(q: q, k: k, v: v, keyMask: keyMask, causal: causal)
            #expect(zip(out.scalars, expected).allSatisfy { abs($0 - $1) < 1e-5 })
            #expect(probabilities?.shape == [2, 4, 3, 5])
        }
        #expect(throws: TensorError.self) {
            try Attention.forward(query: q, key: randomTensor([2, 5, 3, 8], seed: 1), value: randomTensor([2, 5, 3, 8], seed: 1),
                                  keyMask: nil, causal: true, saveProbabilities: false)
        }
        #expect(throws: TensorError.self) {
            try Attention.forward(query: q, key: k, value: v, keyMask: [true], causal: true, saveProbabilities: false)
        }
    }

    @Test("Causal attention over many queries, computed in query blocks over their visible keys, matches the naive loops")
    func causalBlocks() throws {
        // 70 queries (four blocks of 16 and one of 6), 3 prefix keys in front, grouped heads, one padded key per row.
        let q = randomTensor([2, 70, 4, 8], seed: 21)
        let k = randomTensor([2, 73, 2, 8], seed: 22)
        let v = randomTensor([2, 73, 2, 8], seed: 23)
        var mask = [Bool](repeating: true, count: 2 * 73)
        mask[40] = false
        mask[73 + 1] = false
        for keyMask in [nil, mask] {
            let (out, probabilities) = try Attention.forward(
                query: q, key: k, value: v, keyMask: keyMask, causal: true, saveProbabilities: true)
            let expected = naiveAttention(q: q, k: k, v: v, keyMask: keyMask, causal: true)
            #expect(zip(out.scalars, expected).allSatisfy { abs($0 - $1) < 1e-5 })
            let weights = try #require(probabilities).scalars
            for row in 0..<(2 * 4 * 70) {
                let t = row % 70
                let values = weights[(row * 73)..<((row + 1) * 73)]
                #expect(abs(values.reduce(0, +) - 1) < 1e-5)
                #expect(values.dropFirst(t + 3 + 1).allSatisfy { $0 == 0 }, "no weight past the causal limit")
            }
            // The backward that skips the hidden corner equals the one over every key.
            let dO = randomTensor(q.shape, seed: 24)
            let blocked = try Attention.backward(
                query: q, key: k, value: v, probabilities: #require(probabilities), outputGradient: dO, causal: true)
            let full = try Attention.backward(
                query: q, key: k, value: v, probabilities: #require(probabilities), outputGradient: dO, causal: false)
            #expect(maxDifference(blocked.query, full.query) < 1e-5)
            #expect(maxDifference(blocked.key, full.key) < 1e-5)
            #expect(maxDifference(blocked.value, full.value) < 1e-5)
            // And both equal the formulas computed naively (on AVX2 CPUs these 70 queries take the
            // packed-operand products, which the naive loops check independently of BLAS).
            let naive = naiveAttentionBackward(q: q, k: k, v: v, probabilities: try #require(probabilities), dO: dO)
            #expect(maxDifference(blocked.query, naive.query) < 1e-5)
            #expect(maxDifference(blocked.key, naive.key) < 1e-5)
            #expect(maxDifference(blocked.value, naive.value) < 1e-5)
        }
    }

    @Test("Reading the first keyLength slots of a larger buffer equals attention over exactly those keys")
    func keyCapacity() throws {
        let q = randomTensor([2, 1, 2, 4], seed: 8)
        let k = randomTensor([2, 6, 1, 4], seed: 9), v = randomTensor([2, 6, 1, 4], seed: 10)
        let mask = [true, true, false, true, true, true,  false, true, true, true, false, false]
        let (inPlace, _) = try Attention.forward(query: q, key: k, value: v, keyLength: 4, keyMask: mask, causal: true, saveProbabilities: false)
        let trimmedMask = Array(mask[0..<4] + mask[6..<10])
        let (exact, _) = try Attention.forward(
            query: q, key: k.slice(alongAxis: 1, 0..<4), value: v.slice(alongAxis: 1, 0..<4), keyMask: trimmedMask,
            causal: true, saveProbabilities: false)
        #expect(maxDifference(inPlace, exact) < 1e-6)
        #expect(throws: TensorError.self) {
            try Attention.forward(query: q, key: k, value: v, keyLength: 7, keyMask: nil, causal: true, saveProbabilities: false)
        }
    }

    @Test("A query with every key masked outputs zeros")
    func fullyMaskedQuery() throws {
        let q = randomTensor([1, 1, 1, 4], seed: 1)
        let kv = randomTensor([1, 2, 1, 4], seed: 2)
        let (out, _) = try Attention.forward(query: q, key: kv, value: kv, keyMask: [false, false], causal: true, saveProbabilities: false)
        #expect(out.scalars == [0, 0, 0, 0])
    }

    @Test("Cross-entropy averages −log p(target) over counted rows and validates targets")
    func crossEntropy() throws {
        let logits = try Tensor(rows: [[1, 2, 3], [0, 0, 0], [5, 1, 0]])
        let (loss, counted, _) = try CrossEntropy.forward(logits: logits, targets: [2, CrossEntropy.ignoredTarget, 0])
        let p0 = try Tensor(rows: [[1, 2, 3]]).softmax().scalars[2]
        let p2 = try Tensor(rows: [[5, 1, 0]]).softmax().scalars[0]
        #expect(counted == 2)
        #expect(abs(loss - (-logf(p0) - logf(p2)) / 2) < 1e-6)
        #expect(throws: TensorError.self) { try CrossEntropy.forward(logits: logits, targets: [3, 0, 0]) }
        #expect(throws: TensorError.self) { try CrossEntropy.forward(logits: logits, targets: [0]) }
        let none = try CrossEntropy.forward(logits: logits, targets: Array(repeating: CrossEntropy.ignoredTarget, count: 3))
        #expect(none.loss == 0 && none.counted == 0 && none.gradient == nil)
    }

    @Test("Cross-entropy's gradient, computed with the loss, is (softmax − onehot) / counted, 0 on ignored rows")
    func crossEntropyGradient() throws {
        let logits = try Tensor(rows: [[1, 2, 3], [0, 0, 0], [5, 1, 0]])
        let targets = [2, CrossEntropy.ignoredTarget, 0]
        let withGradient = try CrossEntropy.forward(logits: logits, targets: targets, computeGradient: true)
        #expect(withGradient.loss == (try CrossEntropy.forward(logits: logits, targets: targets)).loss)
        let gradient = try #require(withGradient.gradient)
        #expect(gradient.shape == [3, 3])
        let expected: [[Float]] = [
            (try Tensor(rows: [[1, 2, 3]]).softmax().scalars).enumerated().map { ($1 - ($0 == 2 ? 1 : 0)) / 2 },
            [0, 0, 0],
            (try Tensor(rows: [[5, 1, 0]]).softmax().scalars).enumerated().map { ($1 - ($0 == 0 ? 1 : 0)) / 2 },
        ]
        for (index, value) in gradient.scalars.enumerated() {
            #expect(abs(value - expected[index / 3][index % 3]) < 1e-6, "element \(index)")
        }
    }

    @Test("bf16 and f16 conversions are exact where representable and round to nearest even")
    func halfPrecision() {
        #expect(HalfPrecision.float(fromBFloat16: 0x3F80) == 1)
        #expect(HalfPrecision.float(fromBFloat16: 0xC020) == -2.5)
        #expect(HalfPrecision.bfloat16(from: 1) == 0x3F80)
        #expect(HalfPrecision.bfloat16(from: Float(bitPattern: 0x3F80_8000)) == 0x3F80)  // tie → even
        #expect(HalfPrecision.bfloat16(from: Float(bitPattern: 0x3F81_8000)) == 0x3F82)
        #expect(HalfPrecision.float(fromFloat16: 0x3C00) == 1)
        #expect(HalfPrecision.float(fromFloat16: 0x0001) == Float(sign: .plus, exponent: -24, significand: 1))
        #expect(HalfPrecision.float(fromFloat16: 0x7C00) == .infinity)
        #expect(HalfPrecision.float16(from: 65_520) == 0x7C00)
        #expect(HalfPrecision.float(fromBFloat16: HalfPrecision.bfloat16(from: .nan)).isNaN)
    }

    @Test("The seeded generator is reproducible and its normals have mean 0 and std 1")
    func random() throws {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42)
        #expect((0..<5).map { _ in a.next() } == (0..<5).map { _ in b.next() })
        var g = SeededGenerator(seed: 7)
        let n = try Tensor.normal([20_000], generator: &g)
        let mean = n.mean()
        let variance = n.scalars.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(n.count)
        #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.05)
        let k = try Tensor.kaimingUniform([16, 64], generator: &g)
        #expect(k.scalars.allSatisfy { abs($0) <= 0.125 })
    }

    @Test("Least squares recovers an exact solution; SVD reconstructs its matrix")
    func linearAlgebra() throws {
        let a = randomTensor([6, 3], seed: 11)
        let x = randomTensor([3, 2], seed: 12)
        let b = try Tensor.matmul(a, x)
        #expect(maxDifference(try LinearAlgebra.leastSquares(a, b), x) < 1e-4)
        let (u, s, vt) = try LinearAlgebra.svd(a)
        #expect(s.scalars == s.scalars.sorted(by: >))
        let reconstructed = try Tensor.matmul(u * s, vt)
        #expect(maxDifference(reconstructed, a) < 1e-5)
        #expect(throws: TensorError.self) { try LinearAlgebra.leastSquares(a, randomTensor([5, 1], seed: 1)) }
        #expect(throws: TensorError.self) { try LinearAlgebra.svd(Tensor.zeros([0, 3])) }
    }
}

@Suite("Attention over one cache per row")
struct PerRowAttentionTests {
    @Test("Rows with their own caches, lengths and masks equal each row's own batch-of-one attention")
    func perRowCaches() throws {
        // Three rows, grouped heads, capacity 9: different fill levels, a masked slot, 1 and 3 queries.
        for queries in [1, 3] {
            let query = randomTensor([3, queries, 4, 8], seed: 30)
            let keys = (0..<3).map { randomTensor([1, 9, 2, 8], seed: 31 + UInt64($0)) }
            let values = (0..<3).map { randomTensor([1, 9, 2, 8], seed: 41 + UInt64($0)) }
            let lengths = [4, 9, 6]
            var masks = [[Bool]](repeating: [Bool](repeating: true, count: 9), count: 3)
            masks[0][1] = false
            masks[2][0] = false
            masks[2][8] = false  // past the row's length: never read
            let together = try Attention.forward(query: query, keys: keys, values: values, keyLengths: lengths, keyMasks: masks)
            for row in 0..<3 {
                let (alone, _) = try Attention.forward(
                    query: query.slice(alongAxis: 0, row..<(row + 1)), key: keys[row], value: values[row], keyLength: lengths[row],
                    keyMask: masks[row], causal: true, saveProbabilities: false)
                #expect(maxDifference(try together.slice(alongAxis: 0, row..<(row + 1)), alone) == 0, "row \(row), \(queries) queries")
            }
        }
        let query = randomTensor([2, 1, 4, 8], seed: 1), cache = randomTensor([1, 4, 2, 8], seed: 2)
        #expect(throws: TensorError.self) {
            try Attention.forward(query: query, keys: [cache], values: [cache], keyLengths: [2], keyMasks: [[true, true, true, true]])
        }
        #expect(throws: TensorError.self) {
            try Attention.forward(query: query, keys: [cache, cache], values: [cache, cache], keyLengths: [2, 5],
                                  keyMasks: [[true, true, true, true], [true, true, true, true]])
        }
    }

    @Test("A single query (a decoding step) through the dot-product path matches the naive loops")
    func singleQuery() throws {
        let tests = KernelTests()
        let q = randomTensor([2, 1, 4, 16], seed: 50)
        let k = randomTensor([2, 7, 2, 16], seed: 51), v = randomTensor([2, 7, 2, 16], seed: 52)
        var mask = [Bool](repeating: true, count: 14)
        mask[3] = false
        mask[7] = false
        let (out, _) = try Attention.forward(query: q, key: k, value: v, keyMask: mask, causal: true, saveProbabilities: false)
        let expected = tests.naiveAttention(q: q, k: k, v: v, keyMask: mask, causal: true)
        #expect(zip(out.scalars, expected).allSatisfy { abs($0 - $1) < 1e-5 })
    }
}

/// Attention's gradients by their definitions, from the saved weights `P` (`[b, h, t, j]`):
/// `dV[j] = Σ_t P[t, j]·dO[t]`, `dS[t, j] = P[t, j]·(dO[t]·V[j] − Σ_i P[t, i]·dO[t]·V[i]) / √d`,
/// `dQ[t] = Σ_j dS[t, j]·K[j]`, `dK[j] = Σ_t dS[t, j]·Q[t]`, key/value heads summed over their group.
func naiveAttentionBackward(
    q: Tensor, k: Tensor, v: Tensor, probabilities: Tensor, dO: Tensor
) -> (query: Tensor, key: Tensor, value: Tensor) {
    let (batch, queries, heads, width) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
    let (keys, kvHeads) = (k.shape[1], k.shape[2])
    let scale = 1 / Float(width).squareRoot()
    var dq = [Float](repeating: 0, count: q.count), dk = [Float](repeating: 0, count: k.count)
    var dv = [Float](repeating: 0, count: v.count)
    func qi(_ b: Int, _ t: Int, _ h: Int, _ c: Int) -> Int { ((b * queries + t) * heads + h) * width + c }
    func ki(_ b: Int, _ j: Int, _ h: Int, _ c: Int) -> Int { ((b * keys + j) * kvHeads + h) * width + c }
    for b in 0..<batch {
        for h in 0..<heads {
            let g = h / (heads / kvHeads)
            for t in 0..<queries {
                let p = { (j: Int) in probabilities.scalars[((b * heads + h) * queries + t) * keys + j] }
                let dP = (0..<keys).map { j in (0..<width).reduce(Float(0)) { $0 + dO.scalars[qi(b, t, h, $1)] * v.scalars[ki(b, j, g, $1)] } }
                let mean = (0..<keys).reduce(Float(0)) { $0 + p($1) * dP[$1] }
                for j in 0..<keys {
                    let dS = p(j) * (dP[j] - mean) * scale
                    for c in 0..<width {
                        dv[ki(b, j, g, c)] += p(j) * dO.scalars[qi(b, t, h, c)]
                        dq[qi(b, t, h, c)] += dS * k.scalars[ki(b, j, g, c)]
                        dk[ki(b, j, g, c)] += dS * q.scalars[qi(b, t, h, c)]
                    }
                }
            }
        }
    }
    return (try! Tensor(shape: q.shape, scalars: dq), try! Tensor(shape: k.shape, scalars: dk), try! Tensor(shape: v.shape, scalars: dv))
}
