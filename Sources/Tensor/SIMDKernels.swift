internal import CKernels

/// The C kernels of the CKernels target, each dispatched to its AVX2 + FMA compilation when the CPU has
/// them (decided once per process) or to its portable one; tests run both.
enum SIMDKernels {
    /// Whether the AVX2 + FMA compilations run on this CPU.
    static let hasAVX2 = peft_kernels_have_avx2()

    /// `C[i, j] = ⟨A[i], B[j]⟩` for `i < m`, `j ∈ columns`; `A: [m, k]`, `B: [n, k]`, `C` with row
    /// stride `ldc`.
    @inline(__always)
    static func skinnyGEMM(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, m: Int, k: Int, ldc: Int,
        columns: Range<Int>, portable: Bool = !hasAVX2
    ) {
        if portable {
            peft_skinny_gemm_portable(a, b, c, m, k, ldc, columns.lowerBound, columns.upperBound)
        } else {
            peft_skinny_gemm_avx2(a, b, c, m, k, ldc, columns.lowerBound, columns.upperBound)
        }
    }

    /// `scores[j] = scale · ⟨query, keys + j·stride⟩` for `j < count`, vectors of `width` elements.
    @inline(__always)
    static func attentionScores(
        query: UnsafePointer<Float>, keys: UnsafePointer<Float>, stride: Int, count: Int, width: Int, scale: Float,
        into scores: UnsafeMutablePointer<Float>, portable: Bool = !hasAVX2
    ) {
        if portable {
            peft_attention_scores_portable(query, keys, stride, count, width, scale, scores)
        } else {
            peft_attention_scores_avx2(query, keys, stride, count, width, scale, scores)
        }
    }

    /// `output = Σ_j weights[j] · (values + j·stride)` for `j < count`, vectors of `width` elements;
    /// zero weights are skipped.
    @inline(__always)
    static func weightedSum(
        weights: UnsafePointer<Float>, values: UnsafePointer<Float>, stride: Int, count: Int, width: Int,
        into output: UnsafeMutablePointer<Float>, portable: Bool = !hasAVX2
    ) {
        if portable {
            peft_weighted_sum_portable(weights, values, stride, count, width, output)
        } else {
            peft_weighted_sum_avx2(weights, values, stride, count, width, output)
        }
    }

    /// `Σ_i e^(values[i] − shift)` over `count` floats; with `output` (which may be `values`), also
    /// writes `e^(values[i] − shift) · scale` there.
    @inline(__always)
    static func expSum(
        _ values: UnsafePointer<Float>, count: Int, shift: Float, into output: UnsafeMutablePointer<Float>? = nil,
        scale: Float = 1, portable: Bool = !hasAVX2
    ) -> Float {
        portable
            ? peft_exp_sum_portable(values, output, count, shift, scale)
            : peft_exp_sum_avx2(values, output, count, shift, scale)
    }

    /// `Σ values[i]` over `count` floats, in 32 interleaved partial sums (the same order on every path).
    @inline(__always)
    static func sum(_ values: UnsafePointer<Float>, count: Int, portable: Bool = !hasAVX2) -> Float {
        portable ? peft_sum_portable(values, count) : peft_sum_avx2(values, count)
    }

    /// SwiGLU, `out = g · σ(g) · u`, over `count` floats.
    @inline(__always)
    static func swiGLUForward(
        _ g: UnsafePointer<Float>, _ u: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int,
        portable: Bool = !hasAVX2
    ) {
        if portable {
            peft_swiglu_forward_portable(g, u, out, count)
        } else {
            peft_swiglu_forward_avx2(g, u, out, count)
        }
    }

    /// SwiGLU's backward over `count` floats, from the output gradient `dy`: `dUp` (which may be
    /// `dy`) receives `dy · silu(g)`, `dGate` receives `dy · u · silu'(g)`.
    @inline(__always)
    static func swiGLUBackward(
        _ g: UnsafePointer<Float>, _ u: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
        _ dUp: UnsafeMutablePointer<Float>, _ dGate: UnsafeMutablePointer<Float>, count: Int,
        portable: Bool = !hasAVX2
    ) {
        if portable {
            peft_swiglu_backward_portable(g, u, dy, dUp, dGate, count)
        } else {
            peft_swiglu_backward_avx2(g, u, dy, dUp, dGate, count)
        }
    }

    /// Packs `scale · B` (`[k, n]` as used, element `(p, q)` at `b[p · rowStride + q · columnStride]`)
    /// into `16 · ⌈n / 16⌉ · k` floats of 16-column panels (see ``PackedMatrix``).
    @inline(__always)
    static func packPanels(
        _ b: UnsafePointer<Float>, k: Int, n: Int, rowStride: Int, columnStride: Int, scale: Float = 1,
        into panels: UnsafeMutablePointer<Float>
    ) {
        peft_pack_panels(b, k, n, rowStride, columnStride, scale, panels)
    }

    /// `C[i, q] (+)= Σ_p A[i, p] · B[p, q]` for `i ∈ rows` and the columns `q` of panels `panels`, all
    /// contiguous (`A: [m, k]`, `C: [m, n]`), `B` packed by
    /// ``packPanels(_:k:n:rowStride:columnStride:scale:into:)``: ``PackedMatrix``'s product.
    @inline(__always)
    static func packedGEMM(
        a: UnsafePointer<Float>, panels: UnsafePointer<Float>, k: Int, n: Int, c: UnsafeMutablePointer<Float>,
        rows: Range<Int>, panels range: Range<Int>, accumulate: Bool, portable: Bool = !hasAVX2
    ) {
        let (i0, i1, j0, j1) = (rows.lowerBound, rows.upperBound, range.lowerBound, range.upperBound)
        if portable {
            peft_packed_gemm_portable(a, k, panels, k, n, c, n, i0, i1, j0, j1, accumulate)
        } else {
            peft_packed_gemm_avx2(a, k, panels, k, n, c, n, i0, i1, j0, j1, accumulate)
        }
    }

    /// `C[i, :] (+)= Σ_{p < k} A[i, p] · B[p, :]` for `i ∈ rows`, `A[i, p]` at `a[i · lda + p · aStep]`,
    /// `B` packed by ``packPanels(_:k:n:rowStride:columnStride:scale:into:)`` with `panelK ≥ k` rows,
    /// `C` with row stride `ldc`.
    @inline(__always)
    static func packedGEMM(
        a: UnsafePointer<Float>, lda: Int, aStep: Int, panels: UnsafePointer<Float>, panelK: Int, k: Int, n: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, rows: Range<Int>, accumulate: Bool, portable: Bool = !hasAVX2
    ) {
        if portable {
            peft_packed_gemm_strided_portable(
                a, lda, aStep, panels, panelK, k, n, c, ldc, rows.lowerBound, rows.upperBound, accumulate)
        } else {
            peft_packed_gemm_strided_avx2(
                a, lda, aStep, panels, panelK, k, n, c, ldc, rows.lowerBound, rows.upperBound, accumulate)
        }
    }
}
