internal import CBLAS
internal import CKernels

/// The right operand of `A · B`, laid out once for products that use it many times: a frozen weight.
///
/// BLAS packs `B` into its blocked layout on every call (and, with this package's row split, once
/// per thread), then zero-fills `C` before adding the product into it. For a weight that does not
/// change, both are work repeated every step. A `PackedMatrix` holds `B` (`[k, n]` as used) in
/// panels of 16 columns, each `k` rows of 16 contiguous floats (zeros past `n`), so the product's
/// kernel (`CKernels`, AVX2 + FMA) reads each panel straight through and writes `C` once. `A` is
/// read in place.
///
/// Each element of the result is summed over `k` in the same order whatever `m` is and however
/// the rows are split across threads, so a row's result never depends on the rows beside it.
/// Results differ from BLAS's by rounding only (a different summation order).
///
/// Memory: the panels are a second copy of the weight (rounded up to 16 columns).
public struct PackedMatrix: Sendable {
    /// The inner dimension: rows of `B` as used, columns of `A`.
    public let k: Int
    /// The columns of `B` as used, and of the product.
    public let n: Int
    private let panels: [Float]

    /// Whether products with packed operands run the AVX2 + FMA kernel on this CPU. Without it they
    /// are correct but slower than BLAS, so callers should not pack (``Variable``'s packing is a
    /// no-op then).
    public static var isFast: Bool { SIMDKernels.hasAVX2 }

    /// Packs `b` for products `A · op(b)`.
    /// - Parameters:
    ///   - b: `[k, n]`, or `[n, k]` with `transposed` (a PyTorch-layout weight `[out, in]` used as
    ///     `x · Wᵀ`).
    ///   - transposed: whether `b` is used transposed.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` unless `b` has rank 2.
    public init(_ b: Tensor, transposed: Bool) throws {
        guard b.rank == 2 else {
            throw TensorError.shapeMismatch("PackedMatrix", "operand \(b.shape) is not a matrix")
        }
        let (k, n) = transposed ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        let (rowStride, columnStride) = transposed ? (1, k) : (n, 1)
        self.k = k
        self.n = n
        let count = (n + 15) / 16 * 16 * k
        panels = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            b.withUnsafeBufferPointer { source in
                SIMDKernels.packPanels(
                    source.baseAddress!, k: k, n: n, rowStride: rowStride, columnStride: columnStride, into: buffer.baseAddress!)
            }
            initialized = count
        }
    }

    /// The operand as it was packed, `[k, n]` (for tests and inspection).
    public func unpacked() -> Tensor {
        Tensor.uninitialized([k, n]) { out in
            for p in 0..<k {
                for column in 0..<n {
                    out[p * n + column] = panels[(column / 16 * k + p) * 16 + column % 16]
                }
            }
        }
    }

    /// `C[rows, panels] (+)= A[rows, :] · B[:, panels]` with the kernel chosen by `portable`.
    fileprivate func multiply(
        _ a: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, rows: Range<Int>, panels range: Range<Int>,
        accumulate: Bool, portable: Bool
    ) {
        panels.withUnsafeBufferPointer { panels in
            SIMDKernels.packedGEMM(
                a: a, panels: panels.baseAddress!, k: k, n: n, c: c, rows: rows, panels: range, accumulate: accumulate,
                portable: portable)
        }
    }

    /// `C[m×n] (+)= A[m×k] · B`, split across ``Parallel``'s workers when the product is large
    /// enough (as ``BLAS/gemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``): by
    /// rows (in tiles of 6, the kernel's) when each worker gets at least one of the kernel's 72-row
    /// blocks, otherwise by panels of 16 columns (a few rows against a large weight: then each
    /// worker reads only its share of the weight).
    fileprivate func multiply(
        _ a: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, m: Int, accumulate: Bool, portable: Bool
    ) {
        let panelCount = (n + 15) / 16
        let workers = Parallel.workerCount
        guard workers > 1, m * n * k >= BLAS.splitThreshold, !Parallel.isWorkerThread else {
            multiply(a, c, rows: 0..<m, panels: 0..<panelCount, accumulate: accumulate, portable: portable)
            return
        }
        let pointers = UncheckedSendable((a, c))
        if m >= workers * Int(PEFT_PACKED_ROWS_BLOCK) {
            Parallel.forEach((m + 5) / 6) { tiles in
                multiply(pointers.value.0, pointers.value.1, rows: tiles.lowerBound * 6..<min(m, tiles.upperBound * 6),
                         panels: 0..<panelCount, accumulate: accumulate, portable: portable)
            }
        } else {
            Parallel.forEach(panelCount) { range in
                multiply(pointers.value.0, pointers.value.1, rows: 0..<m, panels: range,
                         accumulate: accumulate, portable: portable)
            }
        }
    }
}

extension Tensor {
    /// `a · b` with a packed right operand.
    ///
    /// `a: [..., k]` (leading dimensions fold into rows) → `[..., n]`.
    /// - Parameter portable: run the portable kernel even where AVX2 + FMA is available (tests).
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if `a`'s last dimension is not `b.k`.
    public static func matmul(_ a: Tensor, _ b: PackedMatrix, portable: Bool = !PackedMatrix.isFast) throws -> Tensor {
        guard a.rank >= 1, a.shape[a.rank - 1] == b.k else {
            throw TensorError.shapeMismatch("matmul", "\(a.shape) · packed [\(b.k), \(b.n)]")
        }
        let m = a.count / max(b.k, 1)
        let shape = Array(a.shape.dropLast()) + [b.n]
        guard b.k > 0 else { return try Tensor.zeros(shape) }
        return Tensor.uninitialized(shape) { out in
            guard m > 0, b.n > 0 else { return }
            a.withUnsafeBufferPointer { pa in
                b.multiply(pa.baseAddress!, out.baseAddress!, m: m, accumulate: false, portable: portable)
            }
        }
    }

    /// Adds `a · b` to this tensor in place (a gradient contribution), `a: [..., k]`, this tensor
    /// holding `m · n` elements with last dimension `b.n`.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if the shapes do not fit.
    public mutating func addMatmul(_ a: Tensor, _ b: PackedMatrix, portable: Bool = !PackedMatrix.isFast) throws {
        let m = a.rank >= 1 && b.k > 0 ? a.count / b.k : 0
        guard a.rank >= 1, a.shape[a.rank - 1] == b.k, rank >= 1, shape[rank - 1] == b.n, count == m * b.n else {
            throw TensorError.shapeMismatch("addMatmul", "\(shape) += \(a.shape) · packed [\(b.k), \(b.n)]")
        }
        guard m > 0, b.n > 0, b.k > 0 else { return }
        withUnsafeMutableBufferPointer { out in
            a.withUnsafeBufferPointer { pa in
                b.multiply(pa.baseAddress!, out.baseAddress!, m: m, accumulate: true, portable: portable)
            }
        }
    }
}
