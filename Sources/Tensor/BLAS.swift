internal import CBLAS
internal import CKernels

/// Thin, row-major wrappers over OpenBLAS for kernels that work on raw buffers with strides.
///
/// These are the only single-precision GEMM entry points in the package; ``Tensor``'s `matmul`
/// and every fused kernel above it call them. They do not validate bounds: the caller guarantees
/// that each buffer holds the rows and leading dimensions it describes.
///
/// Threads: OpenBLAS is set to one thread on first use, and ``gemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``
/// splits a large product into row (or column) blocks of `C` run on ``Parallel``'s workers, each
/// block a single-threaded OpenBLAS call. Element-wise kernels and products then share one set of
/// threads: OpenBLAS's own workers otherwise spin (`sched_yield`) for up to 2²⁸ cycles after each
/// product, competing for the cores with the loops that run between products. Blocks start on
/// multiples of 16 rows or columns, so every element of `C` is still summed over `k` by
/// OpenBLAS's kernel; the split decides only which thread computes it.
public enum BLAS {
    /// Products with fewer multiply-adds than this (`m·n·k`) run on the calling thread.
    public static let splitThreshold = 1 << 21

    /// Sets OpenBLAS to one thread, once, before the first call into OpenBLAS: every entry point
    /// reads it first (products here, LAPACK in ``LinearAlgebra``). Changing the thread count while
    /// another thread is inside OpenBLAS with its own workers is a race: a least-squares fit that ran
    /// before any product, beside a test whose first product flipped the count, gave results that
    /// differed from run to run.
    @usableFromInline
    static let singleThreadedOpenBLAS: Bool = {
        openblas_set_num_threads(1)
        return true
    }()

    /// Row-major `C[m×n] = alpha · op(A) · op(B) + beta · C`, where `op(A)` is `m×k` and `op(B)` is `k×n`.
    ///
    /// - Parameters:
    ///   - transposeA: `A` is stored `k×m` and used transposed.
    ///   - transposeB: `B` is stored `n×k` and used transposed.
    ///   - lda, ldb, ldc: row strides in elements of `A`, `B` and `C` as stored.
    ///   - beta: `0` overwrites `C` without reading it, so `C` may be uninitialised.
    @inlinable
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            // BLAS leaves C untouched for k = 0 only when beta = 1; make the empty sum explicit.
            for row in 0..<m {
                let rowStart = c + row * ldc
                for column in 0..<n { rowStart[column] = beta == 0 ? 0 : beta * rowStart[column] }
            }
            return
        }
        _ = singleThreadedOpenBLAS
        let workers = Parallel.workerCount
        guard workers > 1, m * n * k >= splitThreshold, !Parallel.isWorkerThread else {
            sgemmRowMajor(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            return
        }
        // Blocks of whole rows of C (the most common shape: many tokens), or of columns when the
        // rows are too few; block edges on multiples of 16 (OpenBLAS's row micro-tile).
        let splitRows = m >= n || m >= 64 * workers
        let length = splitRows ? m : n
        let blocks = min(workers, max(1, length / 16))
        guard blocks > 1 else {
            sgemmRowMajor(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            return
        }
        let task = UncheckedSendable((a, b, c))
        Parallel.forEach(blocks) { range in
            let (a, b, c) = task.value
            for block in range {
                let start = (length * block / blocks) & ~15
                let end = block == blocks - 1 ? length : (length * (block + 1) / blocks) & ~15
                guard end > start else { continue }
                if splitRows {
                    sgemmRowMajor(
                        transposeA, transposeB, end - start, n, k, alpha, a + (transposeA ? start : start * lda), lda,
                        b, ldb, beta, c + start * ldc, ldc)
                } else {
                    sgemmRowMajor(
                        transposeA, transposeB, m, end - start, k, alpha, a, lda,
                        b + (transposeB ? start * ldb : start), ldb, beta, c + start, ldc)
                }
            }
        }
    }

    /// `y = alpha · A · x + beta · y` for `A` stored row-major as `rows×columns` (then `x` has
    /// `columns` and `y` has `rows` elements), or `y = alpha · Aᵀ · x + beta · y` when `transposeA`
    /// (then `x` has `rows` and `y` has `columns` elements).
    @inlinable
    public static func gemv(
        transposeA: Bool, rows: Int, columns: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>,
        beta: Float = 0, y: UnsafeMutablePointer<Float>
    ) {
        guard rows > 0, columns > 0 else { return }
        _ = singleThreadedOpenBLAS
        sgemvRowMajor(transposeA, rows, columns, alpha, a, lda, x, beta, y)
    }

    /// The number of threads OpenBLAS uses for one call: 1 once the first product has run (see
    /// above); products are split across ``Parallel/workerCount`` threads by this package instead.
    public static var threadCount: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// Runs `body` with every product it makes on the calling thread computed there, unsplit: for
    /// regions that run many small products in parallel themselves (``Parallel/forEach(_:minimumChunk:_:)``,
    /// whose workers never split products either).
    public static func withSingleThread<Result>(_ body: () throws -> Result) rethrows -> Result {
        try Parallel.asWorker(body)
    }

    /// OpenBLAS's description of its build and the kernel set it uses (for benchmark reports),
    /// saying so when the package replaced OpenBLAS's own choice (``replacedCoreName``).
    public static var configuration: String {
        guard let config = openblas_get_config() else { return "unknown" }
        return String(cString: config) + " core=" + coreName
            + (replacedCoreName.map { " (OpenBLAS chose \($0) for this CPU; replaced at load)" } ?? "")
    }

    /// The name of the kernel set OpenBLAS uses on this CPU (e.g. `Haswell`, `Zen`, `Cooperlake`).
    public static var coreName: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

    /// The kernel set OpenBLAS had chosen itself, when the package replaced it as the program was
    /// loaded; `nil` when OpenBLAS's choice stands.
    ///
    /// OpenBLAS builds that pick kernels at run time (Debian's, for one) take an x86-64 CPU they do not
    /// recognise for an old one: Debian 12's 0.3.21 gives a 5th-generation Xeon (family 6, model 207,
    /// AVX-512) Prescott's SSE3 kernels, a fifth of the AVX-512 kernels' speed. Where OpenBLAS's choice
    /// predates AVX2 on a CPU that has AVX2 and FMA, it is replaced by the one newer OpenBLAS versions
    /// make from the vector units present (`SkylakeX` or `Cooperlake` with AVX-512, `Haswell`
    /// otherwise). Setting `OPENBLAS_CORETYPE` keeps any choice, OpenBLAS's or the user's.
    public static var replacedCoreName: String? { peft_openblas_replaced_core().map { String(cString: $0) } }

    /// The replacement rule behind ``replacedCoreName``: the kernel set to use instead of `chosen`
    /// on a CPU with the given vector units, or `nil` to keep `chosen`.
    public static func coreReplacement(for chosen: String, avx2FMA: Bool, avx512: Bool, avx512BF16: Bool) -> String? {
        peft_openblas_core_for(chosen, avx2FMA, avx512, avx512BF16).map { String(cString: $0) }
    }

    /// ``coreReplacement(for:avx2FMA:avx512:avx512BF16:)`` with the vector units of the CPU at hand.
    public static func coreReplacementOnThisCPU(for chosen: String) -> String? {
        peft_openblas_core_for_this_cpu(chosen).map { String(cString: $0) }
    }

    @usableFromInline
    static func sgemmRowMajor(
        _ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb),
            beta, c, blasint(ldc))
    }

    @usableFromInline
    static func sgemvRowMajor(
        _ transposeA: Bool, _ rows: Int, _ columns: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int, _ x: UnsafePointer<Float>,
        _ beta: Float, _ y: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemv(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, blasint(rows), blasint(columns),
            alpha, a, blasint(lda), x, 1, beta, y, 1)
    }
}
