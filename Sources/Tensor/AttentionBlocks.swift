import Foundation

/// How attention's products are laid out: operands packed once per head for the packed kernel, the
/// causal query blocks and their visible keys, and the masks applied within a block.
extension Attention {
    /// Whether the products of an attention call run against operands packed once per head
    /// (``PackedMatrix``'s kernel) rather than through BLAS: where that kernel is fast, for
    /// calls with enough queries to reuse the packing (a prefill or a training step, not a decoding
    /// step).
    static func packsOperands(_ d: Dimensions) -> Bool {
        packsOperandsWhereFast && PackedMatrix.isFast && d.queryLength >= 16 && d.keyLength > 0
    }

    /// Whether attention calls of 16 queries or more multiply against packed operands on CPUs with
    /// AVX2 + FMA (the default) or run every product through BLAS (`false`; tests and benchmarks
    /// compare the two). Set it before any attention runs, not during.
    nonisolated(unsafe) public static var packsOperandsWhereFast = true

    /// The per-head packed operands of the forward pass: `scale · Kᵀ` then `V`.
    enum PackedOperands {
        /// `n` rounded up to the panels' 16 columns.
        static func rounded(_ n: Int) -> Int { (n + 15) / 16 * 16 }

        /// Floats for `Kᵀ` (head dimension × keys) and `V` (keys × head dimension).
        static func count(_ d: Dimensions) -> Int {
            rounded(d.keyLength) * d.headDimension + rounded(d.headDimension) * d.keyLength
        }

        /// `panels` split into the two.
        static func split(
            _ panels: UnsafeMutablePointer<Float>, _ d: Dimensions
        ) -> (keysT: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>) {
            (panels, panels + rounded(d.keyLength) * d.headDimension)
        }
    }

    /// The backward products of one key/value head against packed operands: `Vᵀ` and `K` packed
    /// once per head, each query block's `Q` and `dO` once per block.
    struct BackwardProducts {
        let d: Dimensions
        let valuesT: UnsafeMutablePointer<Float>, keys: UnsafeMutablePointer<Float>
        let queryBlock: UnsafeMutablePointer<Float>, outputGradientBlock: UnsafeMutablePointer<Float>

        /// Packs `Vᵀ` and `K` of the head at `key`, `value` into `panels`, which hold
        /// ``PackedOperands/count(_:)`` floats plus room for two blocks of `blockRows` rows.
        init(
            panels: UnsafeMutablePointer<Float>, dimensions d: Dimensions, blockRows: Int,
            key: UnsafePointer<Float>, value: UnsafePointer<Float>, kvStride: Int
        ) {
            self.d = d
            (valuesT, keys) = PackedOperands.split(panels, d)
            queryBlock = panels + PackedOperands.count(d)
            outputGradientBlock = queryBlock + PackedOperands.rounded(d.headDimension) * blockRows
            SIMDKernels.packPanels(
                value, k: d.headDimension, n: d.keyLength, rowStride: 1, columnStride: kvStride, into: valuesT)
            SIMDKernels.packPanels(key, k: d.keyLength, n: d.headDimension, rowStride: kvStride, columnStride: 1, into: keys)
        }

        /// `dP = dO · Vᵀ` for a block of `rows` queries and its `width` visible keys, into rows of
        /// stride `keyLength` at `dS`.
        func scoreGradient(dO: UnsafePointer<Float>, qStride: Int, rows: Int, width: Int, into dS: UnsafeMutablePointer<Float>) {
            SIMDKernels.packedGEMM(
                a: dO, lda: qStride, aStep: 1, panels: valuesT, panelK: d.headDimension, k: d.headDimension, n: width,
                c: dS, ldc: d.keyLength, rows: 0..<rows, accumulate: false)
        }

        /// `dQ = dS · K` (written), `dK += dSᵀ · Q`, `dV += Pᵀ · dO` for one block.
        func accumulate(
            dS: UnsafePointer<Float>, weights: UnsafePointer<Float>, query: UnsafePointer<Float>, dO: UnsafePointer<Float>,
            qStride: Int, rows: Int, width: Int, dQuery: UnsafeMutablePointer<Float>, dKey: UnsafeMutablePointer<Float>,
            dValue: UnsafeMutablePointer<Float>, kvStride: Int
        ) {
            let hd = d.headDimension
            SIMDKernels.packedGEMM(
                a: dS, lda: d.keyLength, aStep: 1, panels: keys, panelK: d.keyLength, k: width, n: hd,
                c: dQuery, ldc: qStride, rows: 0..<rows, accumulate: false)
            SIMDKernels.packPanels(query, k: rows, n: hd, rowStride: qStride, columnStride: 1, into: queryBlock)
            SIMDKernels.packedGEMM(
                a: dS, lda: 1, aStep: d.keyLength, panels: queryBlock, panelK: rows, k: rows, n: hd,
                c: dKey, ldc: kvStride, rows: 0..<width, accumulate: true)
            SIMDKernels.packPanels(dO, k: rows, n: hd, rowStride: qStride, columnStride: 1, into: outputGradientBlock)
            SIMDKernels.packedGEMM(
                a: weights, lda: 1, aStep: d.keyLength, panels: outputGradientBlock, panelK: rows, k: rows, n: hd,
                c: dValue, ldc: kvStride, rows: 0..<width, accumulate: true)
        }
    }

    /// A block of consecutive queries and the leading keys any of them may see.
    struct QueryBlock {
        let start: Int, count: Int
        /// Keys `0..<visibleKeys` are visible to at least one query of the block; the rest to none.
        let visibleKeys: Int
    }

    /// The queries in blocks. Causal attention splits them into about eight blocks of at least 16
    /// queries, each computed only over the keys its last query may see, which skips about seven
    /// sixteenths of the score matrix (the fully hidden part above the diagonal); otherwise one
    /// block sees every key.
    static func queryBlocks(_ d: Dimensions, causal: Bool) -> [QueryBlock] {
        guard causal, d.queryLength > 16 else { return [QueryBlock(start: 0, count: d.queryLength, visibleKeys: d.keyLength)] }
        let size = max(16, (d.queryLength / 8 + 15) / 16 * 16)
        let offset = d.keyLength - d.queryLength
        return stride(from: 0, to: d.queryLength, by: size).map { start in
            let end = min(start + size, d.queryLength)
            return QueryBlock(start: start, count: end - start, visibleKeys: min(d.keyLength, max(0, end + offset)))
        }
    }

    /// Sets masked scores of the queries `rows` of one `(batch row, head)` to `-infinity`: the
    /// block's scores start at `scores`, one row of its `rows.visibleKeys` keys every `keyLength`;
    /// `maskOffset` is the key mask and where the batch row's flags start in it.
    static func applyMask(
        _ scores: UnsafeMutablePointer<Float>, maskOffset: ([Bool], offset: Int)?, rows: QueryBlock, dimensions d: Dimensions,
        causal: Bool
    ) {
        let offset = d.keyLength - d.queryLength
        let width = rows.visibleKeys
        for t in rows.start..<(rows.start + rows.count) {
            let row = scores + (t - rows.start) * d.keyLength
            if causal {
                let firstHidden = max(0, min(width, t + offset + 1))
                for j in firstHidden..<width { row[j] = -.infinity }
            }
            if let (keyMask, start) = maskOffset {
                keyMask.withUnsafeBufferPointer { flags in
                    for j in 0..<width where !flags[start + j] { row[j] = -.infinity }
                }
            }
        }
    }
}
