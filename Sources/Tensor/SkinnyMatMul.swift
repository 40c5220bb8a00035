/// Products with few rows against a large weight matrix, `C[m×n] = A[m×k] · B[n×k]ᵀ` for small `m`:
/// the shape of every projection while decoding (a handful of tokens against `[out, in]` weights).
///
/// BLAS packs all of `B` into its blocked layout on every call, which for a few rows costs as much
/// as the arithmetic; this kernel streams each row of `B` once, straight from the weights, and
/// dots it with up to eight rows of `A` at a time (which stay in cache), so a decoding step reads
/// each weight from memory once. Columns are split across the cores. The inner loop is C
/// (`CKernels`): AVX2 + FMA where the CPU has them, portable vectors elsewhere.
enum SkinnyMatMul {
    /// The largest `m` for which this kernel is used instead of BLAS.
    static let maximumRows = 16

    /// Writes `C[m×n] = A[m×k] · B[n×k]ᵀ`, all row-major and contiguous.
    static func multiply(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int
    ) {
        let (pa, pb, pc) = (UncheckedSendable(a), UncheckedSendable(b), UncheckedSendable(c))
        Parallel.forEach(n, minimumChunk: max(1, 16_384 / max(k, 1))) { columns in
            SIMDKernels.skinnyGEMM(pa.value, pb.value, pc.value, m: m, k: k, ldc: n, columns: columns)
        }
    }
}
