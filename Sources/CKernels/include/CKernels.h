// SIMD kernels that Swift cannot compile for this CPU on its own.
//
// Swift code is built for the baseline of its target (SSE2 on x86-64) unless the package passes
// unsafe flags, which would stop other packages from depending on this one. These few kernels are
// the hot loops of decoding and training, where wide vectors and fused multiply-adds decide how
// close a step gets to the memory bandwidth or the arithmetic peak. Each is compiled twice from the
// same source: once with `target("avx2,fma")` and once portable; `peft_kernels_have_avx2()` tells
// the caller (once, at start-up) which to use. Nothing here allocates or keeps state, except the
// one repair of OpenBLAS's kernel choice at the end of this header.
#ifndef PEFT_CKERNELS_H
#define PEFT_CKERNELS_H

#include <stdbool.h>
#include <stddef.h>

/// Whether this CPU runs the AVX2 + FMA kernels (always false off x86-64).
bool peft_kernels_have_avx2(void);

/// A hint to the CPU that the caller is spinning on a memory location (x86's `pause`; nothing
/// elsewhere): frees the core's resources for its sibling thread and saves power while it waits.
void peft_spin_pause(void);

/// `C[i, j] = Σ_p A[i, p] · B[j, p]` for rows `i < m` and weight rows `j0 ≤ j < j1`: a few rows
/// against a row-major `[n, k]` weight matrix (the projections of a decoding step). `A` is `[m, k]`
/// contiguous, `C` has row stride `ldc`.
void peft_skinny_gemm_avx2(const float *a, const float *b, float *c, long m, long k, long ldc, long j0, long j1);

/// ``peft_skinny_gemm_avx2`` for any CPU.
void peft_skinny_gemm_portable(const float *a, const float *b, float *c, long m, long k, long ldc, long j0, long j1);

/// `scores[j] = scale · ⟨query, keys[j]⟩` for `j < count`, key `j` at `keys + j · stride`, each of
/// `width` elements.
void peft_attention_scores_avx2(const float *query, const float *keys, long stride, long count, long width, float scale, float *scores);

/// ``peft_attention_scores_avx2`` for any CPU.
void peft_attention_scores_portable(const float *query, const float *keys, long stride, long count, long width, float scale, float *scores);

/// `output = Σ_j weights[j] · values[j]` for `j < count`, value `j` at `values + j · stride`, each of
/// `width` elements.
void peft_weighted_sum_avx2(const float *weights, const float *values, long stride, long count, long width, float *output);

/// ``peft_weighted_sum_avx2`` for any CPU.
void peft_weighted_sum_portable(const float *weights, const float *values, long stride, long count, long width, float *output);

/// The packed product's blocking: rows of `A` in blocks of this many (their slices stay in L2 while
/// every panel passes) and `k` in chunks of `PEFT_PACKED_K_CHUNK` (a panel's chunk stays in L1).
#define PEFT_PACKED_ROWS_BLOCK 72
#define PEFT_PACKED_K_CHUNK 256

/// `C[i, q] = Σ_p A[i, p] · B[p, q]` (or `C[i, q] += …` when `accumulate`) for rows `i0 ≤ i < i1_all`
/// and the columns `q` of panels `j0 ≤ j < j1` (`16 j ≤ q < min(16 j + 16, n)`), with `B` (`[k, n]`)
/// packed by `peft_pack_panels` at `panels_base`; `A` has row stride `lda`, `C` row stride `ldc`.
/// Each element of `C` is summed over `p` in the same order whatever the row range.
void peft_packed_gemm_avx2(const float *a, long lda, const float *panels_base, long k, long n, float *c, long ldc, long i0, long i1_all, long j0, long j1, bool accumulate);

/// ``peft_packed_gemm_avx2`` for any CPU.
void peft_packed_gemm_portable(const float *a, long lda, const float *panels_base, long k, long n, float *c, long ldc, long i0, long i1_all, long j0, long j1, bool accumulate);

/// ``peft_packed_gemm_avx2`` for the small products of attention: `A[i, p]` at
/// `a[i · lda + p · a_step]` (a transposed `A` has `lda = 1`), and only the first `k` of the
/// `panel_k` rows that `B` was packed with are used (the keys a causal block sees).
void peft_packed_gemm_strided_avx2(const float *a, long lda, long a_step, const float *panels_base, long panel_k, long k, long n, float *c, long ldc, long i0, long i1_all, bool accumulate);

/// ``peft_packed_gemm_strided_avx2`` for any CPU.
void peft_packed_gemm_strided_portable(const float *a, long lda, long a_step, const float *panels_base, long panel_k, long k, long n, float *c, long ldc, long i0, long i1_all, bool accumulate);

/// Lays out `scale · B` (`B` `[k, n]` as used, element `(p, q)` at `b[p · row_stride + q · column_stride]`)
/// in the panels `peft_packed_gemm_*` read: `16 · ⌈n / 16⌉ · k` floats at `panels`. A weight `W`
/// stored `[n, k]` and used as `Wᵀ` has strides `(1, k)`; one stored `[k, n]` and used as is,
/// `(n, 1)`. Full panels of a `B` with contiguous columns are copied 16 floats at a time.
void peft_pack_panels(const float *b, long k, long n, long row_stride, long column_stride, float scale, float *panels);

/// SwiGLU, `out = silu(g) ⊙ u = g · σ(g) · u`, over `count` elements.
void peft_swiglu_forward_avx2(const float *g, const float *u, float *out, long count);

/// ``peft_swiglu_forward_avx2`` for any CPU.
void peft_swiglu_forward_portable(const float *g, const float *u, float *out, long count);

/// SwiGLU's backward over `count` elements, from the output gradient `dy`: writes `dy ⊙ silu(g)` to
/// `d_up` (which may be `dy`) and `dy ⊙ u ⊙ silu'(g)` to `d_gate`.
void peft_swiglu_backward_avx2(const float *g, const float *u, const float *dy, float *d_up, float *d_gate, long count);

/// ``peft_swiglu_backward_avx2`` for any CPU.
void peft_swiglu_backward_portable(const float *g, const float *u, const float *dy, float *d_up, float *d_gate, long count);

/// `Σ_i e^(values[i] − shift)` over `count` elements; when `out` is not null (it may be `values`),
/// also writes `e^(values[i] − shift) · scale` to `out[i]`.
float peft_exp_sum_avx2(const float *values, float *out, long count, float shift, float scale);

/// ``peft_exp_sum_avx2`` for any CPU.
float peft_exp_sum_portable(const float *values, float *out, long count, float shift, float scale);

/// `Σ_i values[i]` over `count` floats (summed in 32 interleaved partial sums, then the tail).
float peft_sum_avx2(const float *values, long count);

/// ``peft_sum_avx2`` for any CPU (the same order of additions).
float peft_sum_portable(const float *values, long count);

/// The kernel set OpenBLAS should use instead of `chosen` (the name `openblas_get_corename()` gives),
/// or NULL to keep it: on a CPU with AVX2 and FMA, a set that predates AVX2 (`Prescott`, which
/// Debian 12's OpenBLAS 0.3.21 chooses for x86-64 CPUs it does not recognise, `Nehalem`,
/// `Sandybridge`, …) is replaced as newer OpenBLAS versions choose for CPUs they do not recognise
/// (by the vector units present): `Cooperlake` with AVX-512
/// (F, BW, VL, DQ, CD) and AVX512-BF16, `SkylakeX` with AVX-512, `Haswell` otherwise. Any other
/// choice is kept.
const char *peft_openblas_core_for(const char *chosen, bool avx2_fma, bool avx512, bool avx512_bf16);

/// ``peft_openblas_core_for`` with the vector units of the CPU at hand (NULL off x86-64).
const char *peft_openblas_core_for_this_cpu(const char *chosen);

/// The kernel set OpenBLAS had chosen itself when the package replaced it at load time (a
/// constructor applies ``peft_openblas_core_for`` to this CPU, unless `OPENBLAS_CORETYPE` is set:
/// that choice is the user's), or NULL when OpenBLAS's choice stands.
const char *peft_openblas_replaced_core(void);

#endif
