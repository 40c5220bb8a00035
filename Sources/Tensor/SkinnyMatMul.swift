/// Products with few rows against a large weight matrix, `C[m×n] = A[m×k] · B[n×k]ᵀ` for small `m`:
/// the shape of every projection while decoding (a handful of tokens against `[out, in]` weights).
///
/// BLAS packs all of `B` into its blocked layout on every call, which for a few rows costs as much
/// as the arithmetic; this kernel streams each row of `B` once, straight from the weights, and
/// dots it with every row of `A` (which stays in cache). Columns are split across the cores.
enum SkinnyMatMul {
    /// The largest `m` for which this kernel is used instead of BLAS.
    static let maximumRows = 16

    /// Writes `C[m×n] = A[m×k] · B[n×k]ᵀ`, all row-major and contiguous.
    static func multiply(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int
    ) {
        Parallel.forEach(n, minimumChunk: max(1, 16_384 / max(k, 1))) { columns in
            for j in columns {
                let weightRow = b + j * k
                var i = 0
                while i + 1 < m {
                    let (first, second) = dot2(a + i * k, a + (i + 1) * k, weightRow, k)
                    c[i * n + j] = first
                    c[(i + 1) * n + j] = second
                    i += 2
                }
                if i < m { c[i * n + j] = dot2(a + i * k, a + i * k, weightRow, k).0 }
            }
        }
    }

    /// The dot products of `x` and `y` with `w`, over `k` elements, sharing each load of `w`.
    @inline(__always)
    private static func dot2(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ k: Int
    ) -> (Float, Float) {
        var accumulatorX = SIMD8<Float>(), accumulatorY = SIMD8<Float>()
        var accumulatorX2 = SIMD8<Float>(), accumulatorY2 = SIMD8<Float>()
        let (rawX, rawY, rawW) = (UnsafeRawPointer(x), UnsafeRawPointer(y), UnsafeRawPointer(w))
        var index = 0
        while index + 16 <= k {
            let offset = index * 4
            let w0 = rawW.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            let w1 = rawW.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self)
            accumulatorX += rawX.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self) * w0
            accumulatorY += rawY.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self) * w0
            accumulatorX2 += rawX.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self) * w1
            accumulatorY2 += rawY.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self) * w1
            index += 16
        }
        var sumX = (accumulatorX + accumulatorX2).sum(), sumY = (accumulatorY + accumulatorY2).sum()
        while index < k {
            sumX += x[index] * w[index]
            sumY += y[index] * w[index]
            index += 1
        }
        return (sumX, sumY)
    }
}
