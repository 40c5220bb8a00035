import Foundation

/// Scaled dot-product attention over multiple heads with grouped key/value heads, a causal rule,
/// key padding and an optional key/value prefix: the fused kernel pair behind every attention layer.
///
/// Layouts (token-major, as the projections produce them, so no transposed copies are made):
/// - `query: [batch, queryLength, queryHeads, headDimension]`
/// - `key`, `value: [batch, keyLength, keyValueHeads, headDimension]`, `queryHeads` a multiple of
///   `keyValueHeads` (query head `h` reads key/value head `h / (queryHeads / keyValueHeads)`).
///
/// A preallocated cache can be read in place: `key` and `value` may hold `keyCapacity ≥ keyLength`
/// slots per batch row, of which the first `keyLength` are used.
///
/// Masking: query `t` may attend key `j < keyLength` when `keyMask[b · keyCapacity + j]` is `true`
/// (or no mask is given) and, if `causal`, `j ≤ t + keyLength − queryLength`. The causal rule is aligned at the
/// end, so keys in front of the queries — a cached past, or a prefix of virtual tokens — are
/// visible to every query. A query with no visible key outputs zeros. Scores are scaled by
/// `1/√headDimension`.
public enum Attention {
    /// The validated sizes of one attention call.
    public struct Dimensions: Sendable, Equatable {
        /// Rows; queries per row; key slots in use per row; key slots allocated per row (`key[1]`).
        public let batch: Int, queryLength: Int, keyLength: Int, keyCapacity: Int
        /// Query heads; key/value heads (each shared by `queryHeads / keyValueHeads` query heads);
        /// the size of one head.
        public let queryHeads: Int, keyValueHeads: Int, headDimension: Int

        /// - Parameter keyLength: the key slots in use; `nil` for all of `key[1]`.
        /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if the shapes do not fit the layouts above.
        public init(query: [Int], key: [Int], value: [Int], keyLength: Int? = nil) throws {
            guard query.count == 4, key.count == 4, key == value, query[0] == key[0], query[3] == key[3],
                  key[2] > 0, query[2] % key[2] == 0, (0...key[1]).contains(keyLength ?? key[1]) else {
                throw TensorError.shapeMismatch(
                    "Attention", "query \(query), key \(key), value \(value), key length \(keyLength ?? key[1])")
            }
            (batch, queryLength, queryHeads, headDimension) = (query[0], query[1], query[2], query[3])
            (keyCapacity, keyValueHeads) = (key[1], key[2])
            self.keyLength = keyLength ?? key[1]
        }
    }

    /// Attention output `[batch, queryLength, queryHeads, headDimension]` and, when
    /// `saveProbabilities`, the attention weights `[batch, queryHeads, queryLength, keyLength]`
    /// for ``backward(query:key:value:probabilities:outputGradient:)``.
    /// - Parameter keyLength: the leading key slots in use (a cache's fill level); `nil` for all.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` for misfitting shapes or a mask that does not
    ///   hold `batch · keyCapacity` entries.
    public static func forward(
        query: Tensor, key: Tensor, value: Tensor, keyLength: Int? = nil, keyMask: [Bool]?, causal: Bool,
        saveProbabilities: Bool
    ) throws -> (output: Tensor, probabilities: Tensor?) {
        let d = try Dimensions(query: query.shape, key: key.shape, value: value.shape, keyLength: keyLength)
        if let keyMask, keyMask.count != d.batch * d.keyCapacity {
            throw TensorError.shapeMismatch("Attention", "key mask of \(keyMask.count) for \(d.batch)×\(d.keyCapacity) keys")
        }
        let block = d.queryLength * d.keyLength
        // Each unit of work clears its own block of weights before filling it (on its own thread,
        // while the block is in its cache), so the storage starts unset.
        var probabilities = Tensor.unsetStorage(saveProbabilities ? d.batch * d.queryHeads * block : 0)
        let blocks = queryBlocks(d, causal: causal)
        let packedCount = packsOperands(d) ? PackedOperands.count(d) : 0
        let output = Tensor.uninitialized(query.shape) { out in
            guard out.count > 0 else { return }
            query.withUnsafeBufferPointer { q in
            key.withUnsafeBufferPointer { k in
            value.withUnsafeBufferPointer { v in
            probabilities.withUnsafeMutableBufferPointer { p in
                // One (batch row, head) pair per unit of work, each on single-threaded BLAS: many
                // small products in parallel beat each product split across threads.
                BLAS.withSingleThread {
                    Parallel.forEach(d.batch * d.queryHeads) { units in
                        var scratch = [Float](repeating: 0, count: saveProbabilities ? 0 : block)
                        var panels = [Float](repeating: 0, count: packedCount)
                        scratch.withUnsafeMutableBufferPointer { scratch in
                        panels.withUnsafeMutableBufferPointer { panels in
                            for unit in units {
                                let (b, h) = (unit / d.queryHeads, unit % d.queryHeads)
                                if saveProbabilities { (p.baseAddress! + unit * block).initialize(repeating: 0, count: block) }
                                attendHead(
                                    h, query: q.baseAddress! + b * d.queryLength * d.queryHeads * d.headDimension,
                                    key: k.baseAddress! + b * d.keyCapacity * d.keyValueHeads * d.headDimension,
                                    value: v.baseAddress! + b * d.keyCapacity * d.keyValueHeads * d.headDimension,
                                    keyMask: keyMask.map { ($0, b * d.keyCapacity) }, dimensions: d, blocks: blocks, causal: causal,
                                    scores: saveProbabilities ? p.baseAddress! + unit * block : scratch.baseAddress!,
                                    output: out.baseAddress! + b * d.queryLength * d.queryHeads * d.headDimension,
                                    panels: packedCount > 0 ? panels.baseAddress! : nil)
                            }
                        }}
                    }
                }
            }}}}
        }
        let saved = saveProbabilities
            ? Tensor(uncheckedShape: [d.batch, d.queryHeads, d.queryLength, d.keyLength], scalars: probabilities)
            : nil
        return (output, saved)
    }

    /// Causal attention for rows that each read their own key/value cache (a serving batch, whose
    /// requests joined at different times and hold different numbers of keys): row `r`'s queries
    /// `query[r]` attend to the first `keyLengths[r]` slots of `keys[r]` and `values[r]` where
    /// `keyMasks[r]` allows, as ``forward(query:key:value:keyLength:keyMask:causal:saveProbabilities:)``
    /// would for that row alone. All rows and heads run in one parallel loop.
    ///
    /// - Parameters:
    ///   - query: `[rows, queryLength, queryHeads, headDimension]`.
    ///   - keys, values: per row, `[1, capacity, keyValueHeads, headDimension]`.
    ///   - keyLengths: per row, the slots in use (the newest `queryLength` are the queries' own).
    ///   - keyMasks: per row, `capacity` flags, `false` for slots no query may see.
    /// - Returns: `[rows, queryLength, queryHeads, headDimension]`.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if the counts or shapes do not fit.
    public static func forward(
        query: Tensor, keys: [Tensor], values: [Tensor], keyLengths: [Int], keyMasks: [[Bool]]
    ) throws -> Tensor {
        let rows = query.rank == 4 ? query.shape[0] : -1
        guard keys.count == rows, values.count == rows, keyLengths.count == rows, keyMasks.count == rows else {
            throw TensorError.shapeMismatch(
                "Attention", "query \(query.shape) with \(keys.count) keys, \(values.count) values, \(keyLengths.count) lengths, \(keyMasks.count) masks")
        }
        let rowShape = [1] + query.shape.dropFirst()
        let dimensions = try (0..<rows).map { row in
            let d = try Dimensions(query: rowShape, key: keys[row].shape, value: values[row].shape, keyLength: keyLengths[row])
            guard d.keyCapacity == keyMasks[row].count, d.keyLength >= d.queryLength else {
                throw TensorError.shapeMismatch(
                    "Attention", "row \(row): \(keyMasks[row].count) mask flags, \(d.keyLength) keys for \(d.queryLength) queries in \(keys[row].shape)")
            }
            return d
        }
        guard rows > 0, let first = dimensions.first, query.count > 0 else { return try Tensor.zeros(query.shape) }
        let (heads, rowStride) = (first.queryHeads, first.queryLength * first.queryHeads * first.headDimension)
        let scratchSize = dimensions.map { $0.queryLength * $0.keyLength }.max() ?? 0
        let blocks = dimensions.map { queryBlocks($0, causal: true) }
        return Tensor.uninitialized(query.shape) { out in
            query.withUnsafeBufferPointer { q in
            withBaseAddresses(of: keys[...]) { keyPointers in
            withBaseAddresses(of: values[...]) { valuePointers in
                BLAS.withSingleThread {
                    Parallel.forEach(rows * heads) { units in
                        var scratch = [Float](repeating: 0, count: scratchSize)
                        scratch.withUnsafeMutableBufferPointer { scratch in
                            for unit in units {
                                let (row, h) = (unit / heads, unit % heads)
                                attendHead(
                                    h, query: q.baseAddress! + row * rowStride, key: keyPointers[row],
                                    value: valuePointers[row], keyMask: (keyMasks[row], 0), dimensions: dimensions[row],
                                    blocks: blocks[row], causal: true, scores: scratch.baseAddress!,
                                    output: out.baseAddress! + row * rowStride)
                            }
                        }
                    }
                }
            }}}
        }
    }

    /// Calls `body` with the base address of every tensor's storage, valid for the call.
    private static func withBaseAddresses<Result>(
        of tensors: ArraySlice<Tensor>, collected: [UnsafePointer<Float>] = [],
        _ body: ([UnsafePointer<Float>]) -> Result
    ) -> Result {
        guard let first = tensors.first else { return body(collected) }
        return first.withUnsafeBufferPointer { buffer in
            withBaseAddresses(of: tensors.dropFirst(), collected: collected + [buffer.baseAddress!], body)
        }
    }

    /// Attention of every query of one batch row for head `h`. `query` and `output` point at the
    /// row's `[queryLength, queryHeads, headDimension]`, `key` and `value` at its
    /// `[keyCapacity, keyValueHeads, headDimension]`; `keyMask` is the mask and the offset of the
    /// row's flags in it. `scores` holds `queryLength · keyLength` floats and is left holding the
    /// attention weights. A single query (a decoding step) is computed with dot products and a
    /// weighted sum; blocks of several queries with two products: against the head's keys and
    /// values packed once into `panels` (``PackedOperands/count(_:)`` floats) when given, else
    /// through BLAS.
    private static func attendHead(
        _ h: Int, query: UnsafePointer<Float>, key: UnsafePointer<Float>, value: UnsafePointer<Float>,
        keyMask: ([Bool], offset: Int)?, dimensions d: Dimensions, blocks: [QueryBlock], causal: Bool,
        scores: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, panels: UnsafeMutablePointer<Float>? = nil
    ) {
        let (qStride, kvStride) = (d.queryHeads * d.headDimension, d.keyValueHeads * d.headDimension)
        let scale = 1 / Float(d.headDimension).squareRoot()
        let (query, output) = (query + h * d.headDimension, output + h * d.headDimension)
        guard d.keyLength > 0 else {
            for t in 0..<d.queryLength {
                for c in 0..<d.headDimension { output[t * qStride + c] = 0 }
            }
            return
        }
        let kvOffset = (h / (d.queryHeads / d.keyValueHeads)) * d.headDimension
        let (key, value) = (key + kvOffset, value + kvOffset)
        // `scale · Kᵀ` (head dimension × keys) and `V` (keys × head dimension).
        let packed = panels.map { panels in
            let (keysT, values) = PackedOperands.split(panels, d)
            SIMDKernels.packPanels(
                key, k: d.headDimension, n: d.keyLength, rowStride: 1, columnStride: kvStride, scale: scale, into: keysT)
            SIMDKernels.packPanels(value, k: d.keyLength, n: d.headDimension, rowStride: kvStride, columnStride: 1, into: values)
            return (keysT: UnsafePointer(keysT), values: UnsafePointer(values))
        }
        for rows in blocks {
            let blockScores = scores + rows.start * d.keyLength
            let blockOutput = output + rows.start * qStride
            guard rows.visibleKeys > 0 else {
                // No key is visible to these queries: zero outputs (and weights).
                for t in 0..<rows.count {
                    for c in 0..<d.headDimension { blockOutput[t * qStride + c] = 0 }
                }
                continue
            }
            let blockQuery = query + rows.start * qStride
            if rows.count == 1 {
                SIMDKernels.attentionScores(
                    query: blockQuery, keys: key, stride: kvStride, count: rows.visibleKeys, width: d.headDimension,
                    scale: scale, into: blockScores)
            } else if let packed {
                SIMDKernels.packedGEMM(
                    a: blockQuery, lda: qStride, aStep: 1, panels: packed.keysT, panelK: d.headDimension, k: d.headDimension,
                    n: rows.visibleKeys, c: blockScores, ldc: d.keyLength, rows: 0..<rows.count, accumulate: false)
            } else {
                BLAS.gemm(
                    transposeA: false, transposeB: true, m: rows.count, n: rows.visibleKeys, k: d.headDimension,
                    alpha: scale, a: blockQuery, lda: qStride, b: key, ldb: kvStride, c: blockScores, ldc: d.keyLength)
            }
            applyMask(blockScores, maskOffset: keyMask, rows: rows, dimensions: d, causal: causal)
            Softmax.rowsInPlace(blockScores, rows: rows.count, width: rows.visibleKeys, stride: d.keyLength)
            if rows.count == 1 {
                SIMDKernels.weightedSum(
                    weights: blockScores, values: value, stride: kvStride, count: rows.visibleKeys, width: d.headDimension,
                    into: blockOutput)
            } else if let packed {
                SIMDKernels.packedGEMM(
                    a: blockScores, lda: d.keyLength, aStep: 1, panels: packed.values, panelK: d.keyLength, k: rows.visibleKeys,
                    n: d.headDimension, c: blockOutput, ldc: qStride, rows: 0..<rows.count, accumulate: false)
            } else {
                BLAS.gemm(
                    transposeA: false, transposeB: false, m: rows.count, n: d.headDimension, k: rows.visibleKeys,
                    a: blockScores, lda: d.keyLength, b: value, ldb: kvStride, c: blockOutput, ldc: qStride)
            }
        }
    }

    /// Gradients of ``forward(query:key:value:keyLength:keyMask:causal:saveProbabilities:)`` (with all
    /// key slots in use) with respect to
    /// query, key and value, from the saved probabilities `P`:
    /// `dP = dO·Vᵀ`, `dS = P ⊙ (dP − rowsum(dP ⊙ P)) / √d`, `dQ = dS·K`, `dK = dSᵀ·Q`, `dV = Pᵀ·dO`
    /// (key/value gradients summed over the query heads of a group).
    /// - Parameter causal: the forward pass was causal, so the keys past each block of queries
    ///   (whose weights are 0) are skipped; `false` computes every product in full.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if the shapes disagree.
    public static func backward(
        query: Tensor, key: Tensor, value: Tensor, probabilities: Tensor, outputGradient: Tensor, causal: Bool = false
    ) throws -> (query: Tensor, key: Tensor, value: Tensor) {
        let d = try Dimensions(query: query.shape, key: key.shape, value: value.shape)
        guard outputGradient.shape == query.shape,
              probabilities.shape == [d.batch, d.queryHeads, d.queryLength, d.keyLength] else {
            throw TensorError.shapeMismatch(
                "Attention.backward", "dO \(outputGradient.shape), P \(probabilities.shape) for query \(query.shape)")
        }
        let block = d.queryLength * d.keyLength
        let group = d.queryHeads / d.keyValueHeads
        let scale = 1 / Float(d.headDimension).squareRoot()
        let (qStride, kvStride) = (d.queryHeads * d.headDimension, d.keyValueHeads * d.headDimension)
        let blocks = queryBlocks(d, causal: causal)
        guard query.count > 0, key.count > 0 else {
            return (try Tensor.zeros(query.shape), try Tensor.zeros(key.shape), try Tensor.zeros(value.shape))
        }
        // Each unit clears its own slices of the three gradients (on its own thread) before
        // accumulating into them, so their storage starts unset.
        var dQuery = Tensor(uncheckedShape: query.shape, scalars: Tensor.unsetStorage(query.count))
        var dKey = Tensor(uncheckedShape: key.shape, scalars: Tensor.unsetStorage(key.count))
        var dValue = Tensor(uncheckedShape: value.shape, scalars: Tensor.unsetStorage(value.count))
        query.withUnsafeBufferPointer { q in
        key.withUnsafeBufferPointer { k in
        value.withUnsafeBufferPointer { v in
        probabilities.withUnsafeBufferPointer { p in
        outputGradient.withUnsafeBufferPointer { dO in
        dQuery.withUnsafeMutableBufferPointer { dq in
        dKey.withUnsafeMutableBufferPointer { dk in
        dValue.withUnsafeMutableBufferPointer { dv in
            // One (batch row, key/value head) per unit: its query heads accumulate into its own
            // slices of dK and dV, so units never write the same memory.
            let packs = packsOperands(d)
            let blockRows = blocks.map(\.count).max() ?? 0
            let panelCount = packs ? PackedOperands.count(d) + 2 * PackedOperands.rounded(d.headDimension) * blockRows : 0
            BLAS.withSingleThread {
                Parallel.forEach(d.batch * d.keyValueHeads) { units in
                    var scratch = [Float](repeating: 0, count: block)
                    var panels = [Float](repeating: 0, count: panelCount)
                    scratch.withUnsafeMutableBufferPointer { dS in
                    panels.withUnsafeMutableBufferPointer { panels in
                        for unit in units {
                            let (b, kvHead) = (unit / d.keyValueHeads, unit % d.keyValueHeads)
                            let kvOffset = b * d.keyLength * kvStride + kvHead * d.headDimension
                            for j in 0..<d.keyLength {
                                (dk.baseAddress! + kvOffset + j * kvStride).initialize(repeating: 0, count: d.headDimension)
                                (dv.baseAddress! + kvOffset + j * kvStride).initialize(repeating: 0, count: d.headDimension)
                            }
                            for h in (kvHead * group)..<((kvHead + 1) * group) {
                                let qOffset = b * d.queryLength * qStride + h * d.headDimension
                                for t in 0..<d.queryLength {
                                    (dq.baseAddress! + qOffset + t * qStride).initialize(repeating: 0, count: d.headDimension)
                                }
                            }
                            let products = packs ? BackwardProducts(
                                panels: panels.baseAddress!, dimensions: d, blockRows: blockRows,
                                key: k.baseAddress! + kvOffset, value: v.baseAddress! + kvOffset, kvStride: kvStride) : nil
                            for h in (kvHead * group)..<((kvHead + 1) * group) {
                                let weights = p.baseAddress! + (b * d.queryHeads + h) * block
                                let qOffset = b * d.queryLength * qStride + h * d.headDimension
                                for rows in blocks where rows.visibleKeys > 0 {
                                    let (width, rowOffset) = (rows.visibleKeys, qOffset + rows.start * qStride)
                                    let blockWeights = weights + rows.start * d.keyLength
                                    let (blockQuery, blockDO) = (q.baseAddress! + rowOffset, dO.baseAddress! + rowOffset)
                                    if let products {
                                        products.scoreGradient(dO: blockDO, qStride: qStride, rows: rows.count, width: width, into: dS.baseAddress!)
                                    } else {
                                        BLAS.gemm(
                                            transposeA: false, transposeB: true, m: rows.count, n: width, k: d.headDimension,
                                            a: blockDO, lda: qStride, b: v.baseAddress! + kvOffset, ldb: kvStride,
                                            c: dS.baseAddress!, ldc: d.keyLength)
                                    }
                                    for t in 0..<rows.count {
                                        let row = t * d.keyLength
                                        let dot = VectorMath.dot(dS.baseAddress! + row, blockWeights + row, count: width)
                                        for j in 0..<width { dS[row + j] = blockWeights[row + j] * (dS[row + j] - dot) * scale }
                                    }
                                    if let products {
                                        products.accumulate(
                                            dS: dS.baseAddress!, weights: blockWeights, query: blockQuery, dO: blockDO, qStride: qStride,
                                            rows: rows.count, width: width, dQuery: dq.baseAddress! + rowOffset,
                                            dKey: dk.baseAddress! + kvOffset, dValue: dv.baseAddress! + kvOffset, kvStride: kvStride)
                                        continue
                                    }
                                    BLAS.gemm(
                                        transposeA: false, transposeB: false, m: rows.count, n: d.headDimension, k: width,
                                        a: dS.baseAddress!, lda: d.keyLength, b: k.baseAddress! + kvOffset, ldb: kvStride,
                                        c: dq.baseAddress! + rowOffset, ldc: qStride)
                                    BLAS.gemm(
                                        transposeA: true, transposeB: false, m: width, n: d.headDimension, k: rows.count,
                                        a: dS.baseAddress!, lda: d.keyLength, b: blockQuery, ldb: qStride,
                                        beta: 1, c: dk.baseAddress! + kvOffset, ldc: kvStride)
                                    BLAS.gemm(
                                        transposeA: true, transposeB: false, m: width, n: d.headDimension, k: rows.count,
                                        a: blockWeights, lda: d.keyLength, b: blockDO, ldb: qStride,
                                        beta: 1, c: dv.baseAddress! + kvOffset, ldc: kvStride)
                                }
                            }
                        }
                    }}
                }
            }
        }}}}}}}}
        return (dQuery, dKey, dValue)
    }
}
