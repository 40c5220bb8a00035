// The hot loops Swift cannot compile for the CPU at hand on its own (see include/CKernels.h).
// Each AVX2 + FMA kernel and its portable twin share one body, a macro expanded twice.
#include "CKernels.h"
#include "x86.h"

#include <stdbool.h>
#include <stddef.h>

#if PEFT_X86
#define PEFT_AVX2 __attribute__((target("avx2,fma")))
#else
#define PEFT_AVX2
#endif

typedef float peft_v8 __attribute__((vector_size(32), aligned(4)));

// Aligned so that the packed product's short inner loop keeps its place against cache lines.
#define PEFT_HOT_ALIGN __attribute__((aligned(64)))

/// Whether this CPU runs the AVX2 + FMA kernels (always false off x86-64).
bool peft_kernels_have_avx2(void) {
#if PEFT_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
}

/// A hint to the CPU that the caller is spinning on a memory location.
void peft_spin_pause(void) {
#if PEFT_X86
    __builtin_ia32_pause();
#endif
}

// The body of the skinny product, shared by both compilations: for each weight row `j` in
// `[j0, j1)`, the dot products with eight rows of `a` at once (then four, then one, for the rest),
// so every weight element is loaded from memory once and used against every row (which stay in the
// L1 cache). `PEFT_SKINNY_BLOCK` takes one weight row against rows `first ..< first + ROWS` of `a`;
// `FOR_EACH_ROW(F)` applies `F` to each row's accumulator and index, written out one by one, since
// compilers keep named accumulators in registers but not an array of them.
#define PEFT_SKINNY_BLOCK(ROWS, FOR_EACH_ROW)                                                        \
    for (; first + ROWS <= m; first += ROWS) {                                                       \
        const float *x = a + first * k;                                                              \
        peft_v8 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, s4 = {0}, s5 = {0}, s6 = {0}, s7 = {0};      \
        long p = 0;                                                                                  \
        for (; p + 8 <= k; p += 8) {                                                                 \
            const peft_v8 v = *(const peft_v8 *)(w + p);                                             \
            FOR_EACH_ROW(PEFT_SKINNY_FMA)                                                            \
        }                                                                                            \
        FOR_EACH_ROW(PEFT_SKINNY_STORE)                                                              \
    }
#define PEFT_SKINNY_FMA(S, R) S += *(const peft_v8 *)(x + R * k + p) * v;
#define PEFT_SKINNY_STORE(S, R)                                                                      \
    {                                                                                                \
        float total = ((S[0] + S[4]) + (S[1] + S[5])) + ((S[2] + S[6]) + (S[3] + S[7]));             \
        for (long q = p; q < k; q++) total += x[R * k + q] * w[q];                                   \
        c[(first + R) * ldc + j] = total;                                                            \
    }
#define PEFT_ROWS_8(F) F(s0, 0) F(s1, 1) F(s2, 2) F(s3, 3) F(s4, 4) F(s5, 5) F(s6, 6) F(s7, 7)
#define PEFT_ROWS_4(F) F(s0, 0) F(s1, 1) F(s2, 2) F(s3, 3)
#define PEFT_ROWS_1(F) F(s0, 0)

#define PEFT_SKINNY_BODY                                                                             \
    for (long j = j0; j < j1; j++) {                                                                 \
        const float *w = b + j * k;                                                                  \
        long first = 0;                                                                              \
        PEFT_SKINNY_BLOCK(8, PEFT_ROWS_8)                                                            \
        PEFT_SKINNY_BLOCK(4, PEFT_ROWS_4)                                                            \
        PEFT_SKINNY_BLOCK(1, PEFT_ROWS_1)                                                            \
    }

/// `C[i, j] = Σ_p A[i, p] · B[j, p]` for rows `i < m` and weight rows `j0 ≤ j < j1`: a few rows
/// against a row-major `[n, k]` weight matrix (the projections of a decoding step). `A` is `[m, k]`
/// contiguous, `C` has row stride `ldc`.
PEFT_AVX2 void peft_skinny_gemm_avx2(
    const float *a, const float *b, float *c, long m, long k, long ldc, long j0, long j1) {
    PEFT_SKINNY_BODY
}

/// ``peft_skinny_gemm_avx2`` for any CPU.
void peft_skinny_gemm_portable(
    const float *a, const float *b, float *c, long m, long k, long ldc, long j0, long j1) {
    PEFT_SKINNY_BODY
}

#undef PEFT_SKINNY_BODY
#undef PEFT_SKINNY_BLOCK
#undef PEFT_SKINNY_FMA
#undef PEFT_SKINNY_STORE
#undef PEFT_ROWS_8
#undef PEFT_ROWS_4
#undef PEFT_ROWS_1

// Single-query attention for one head, shared by both compilations.
#define PEFT_SCORES_BODY                                                                             \
    for (long j = 0; j < count; j++) {                                                               \
        const float *key = keys + j * stride;                                                        \
        peft_v8 s = {0};                                                                             \
        long p = 0;                                                                                  \
        for (; p + 8 <= width; p += 8) s += *(const peft_v8 *)(query + p) * *(const peft_v8 *)(key + p); \
        float total = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));            \
        for (; p < width; p++) total += query[p] * key[p];                                           \
        scores[j] = total * scale;                                                                   \
    }

/// `scores[j] = scale · ⟨query, keys[j]⟩` for `j < count`, key `j` at `keys + j · stride`, each of
/// `width` elements.
PEFT_AVX2 void peft_attention_scores_avx2(
    const float *query, const float *keys, long stride, long count, long width, float scale, float *scores) {
    PEFT_SCORES_BODY
}

/// ``peft_attention_scores_avx2`` for any CPU.
void peft_attention_scores_portable(
    const float *query, const float *keys, long stride, long count, long width, float scale, float *scores) {
    PEFT_SCORES_BODY
}

#undef PEFT_SCORES_BODY

// Weighted sum of value rows, shared by both compilations; keys with weight 0 are skipped.
#define PEFT_WEIGHTED_SUM_BODY                                                                       \
    long p = 0;                                                                                      \
    for (; p + 16 <= width; p += 16) {                                                               \
        peft_v8 s0 = {0}, s1 = {0};                                                                  \
        for (long j = 0; j < count; j++) {                                                           \
            if (weights[j] == 0) continue;                                                           \
            const float *value = values + j * stride + p;                                            \
            const peft_v8 weight = {weights[j], weights[j], weights[j], weights[j],                  \
                                    weights[j], weights[j], weights[j], weights[j]};                 \
            s0 += weight * *(const peft_v8 *)value;                                                  \
            s1 += weight * *(const peft_v8 *)(value + 8);                                            \
        }                                                                                            \
        *(peft_v8 *)(output + p) = s0;                                                               \
        *(peft_v8 *)(output + p + 8) = s1;                                                           \
    }                                                                                                \
    for (; p < width; p++) {                                                                         \
        float total = 0;                                                                             \
        for (long j = 0; j < count; j++) {                                                           \
            if (weights[j] != 0) total += weights[j] * values[j * stride + p];                       \
        }                                                                                            \
        output[p] = total;                                                                           \
    }

/// `output = Σ_j weights[j] · values[j]` for `j < count`, value `j` at `values + j · stride`, each of
/// `width` elements.
PEFT_AVX2 void peft_weighted_sum_avx2(
    const float *weights, const float *values, long stride, long count, long width, float *output) {
    PEFT_WEIGHTED_SUM_BODY
}

/// ``peft_weighted_sum_avx2`` for any CPU.
void peft_weighted_sum_portable(
    const float *weights, const float *values, long stride, long count, long width, float *output) {
    PEFT_WEIGHTED_SUM_BODY
}

#undef PEFT_WEIGHTED_SUM_BODY

// Products against a packed right operand, shared by both compilations. The operand `B` (`[k, n]`
// as used) is laid out once in panels of 16 columns (`peft_pack_panels`): panel `j` holds, for each
// `p < k`, the 16 floats `B[p, 16j ..< 16j + 16]` (zeros past `n`), so the inner loop reads it
// contiguously and nothing is packed per call. `A` is read in place: a tile of up to 6 rows of `A`
// against one panel keeps 12 accumulators of 8 lanes, each step one broadcast of `A[i, p]` per row
// and two loads of the panel. Rows are taken in blocks of 72 (their slices of `A` stay in L2 while
// every panel passes) and `k` in chunks of 256 (a panel's chunk, 16 KiB, stays in L1 across the
// block's tiles); chunks after the first add to `C`. Each element of `C` is summed over `p` in the
// same order whatever the tile, block or row range, so the result of a row never depends on `m` or
// on how rows are split across threads.
#define PEFT_PACKED_TILE(ROWS, FOR_EACH_ROW)                                                         \
    for (; i + ROWS <= i1; i += ROWS) {                                                              \
        const float *x = a + i * lda + kk * PEFT_A_STEP;                                             \
        float *y = c + i * ldc + 16 * j;                                                             \
        peft_v8 l0 = {0}, h0 = {0}, l1 = {0}, h1 = {0}, l2 = {0}, h2 = {0};                          \
        peft_v8 l3 = {0}, h3 = {0}, l4 = {0}, h4 = {0}, l5 = {0}, h5 = {0};                          \
        for (long p = 0; p < kc; p++) {                                                              \
            const peft_v8 lo = *(const peft_v8 *)(panel + 16 * p);                                   \
            const peft_v8 hi = *(const peft_v8 *)(panel + 16 * p + 8);                               \
            FOR_EACH_ROW(PEFT_PACKED_FMA)                                                            \
        }                                                                                            \
        FOR_EACH_ROW(PEFT_PACKED_STORE)                                                              \
    }
#define PEFT_PACKED_FMA(L, H, R)                                                                     \
    {                                                                                                \
        const float s = x[R * lda + p * PEFT_A_STEP];                                                \
        const peft_v8 v = {s, s, s, s, s, s, s, s};                                                  \
        L += v * lo;                                                                                 \
        H += v * hi;                                                                                 \
    }
#define PEFT_PACKED_STORE(L, H, R)                                                                   \
    {                                                                                                \
        float *out = y + R * ldc;                                                                    \
        if (columns == 16) {                                                                         \
            if (add) {                                                                               \
                L += *(const peft_v8 *)out;                                                          \
                H += *(const peft_v8 *)(out + 8);                                                    \
            }                                                                                        \
            *(peft_v8 *)out = L;                                                                     \
            *(peft_v8 *)(out + 8) = H;                                                               \
        } else {                                                                                     \
            for (long q = 0; q < columns; q++) {                                                     \
                const float value = q < 8 ? L[q] : H[q - 8];                                         \
                out[q] = add ? out[q] + value : value;                                               \
            }                                                                                        \
        }                                                                                            \
    }
#define PEFT_PACKED_ROWS_6(F) F(l0, h0, 0) F(l1, h1, 1) F(l2, h2, 2) F(l3, h3, 3) F(l4, h4, 4) F(l5, h5, 5)
#define PEFT_PACKED_ROWS_4(F) F(l0, h0, 0) F(l1, h1, 1) F(l2, h2, 2) F(l3, h3, 3)
#define PEFT_PACKED_ROWS_2(F) F(l0, h0, 0) F(l1, h1, 1)
#define PEFT_PACKED_ROWS_1(F) F(l0, h0, 0)

#define PEFT_PACKED_BODY                                                                             \
    for (long kk = 0; kk < k; kk += PEFT_PACKED_K_CHUNK) {                                           \
        const long kc = k - kk < PEFT_PACKED_K_CHUNK ? k - kk : PEFT_PACKED_K_CHUNK;                 \
        const bool add = accumulate || kk > 0;                                                       \
        for (long start = i0; start < i1_all; start += PEFT_PACKED_ROWS_BLOCK) {                     \
            const long i1 = start + PEFT_PACKED_ROWS_BLOCK < i1_all ? start + PEFT_PACKED_ROWS_BLOCK : i1_all; \
            for (long j = j0; j < j1; j++) {                                                         \
                const float *panel = panels_base + (j * PEFT_PANEL_K + kk) * 16;                     \
                const long columns = n - 16 * j < 16 ? n - 16 * j : 16;                              \
                long i = start;                                                                      \
                PEFT_PACKED_TILE(6, PEFT_PACKED_ROWS_6)                                              \
                PEFT_PACKED_TILE(4, PEFT_PACKED_ROWS_4)                                              \
                PEFT_PACKED_TILE(2, PEFT_PACKED_ROWS_2)                                              \
                PEFT_PACKED_TILE(1, PEFT_PACKED_ROWS_1)                                              \
            }                                                                                        \
        }                                                                                            \
    }

/// `C[i, q] = Σ_p A[i, p] · B[p, q]` (or `C[i, q] += …` when `accumulate`) for rows `i0 ≤ i < i1_all`
/// and the columns `q` of panels `j0 ≤ j < j1` (`16 j ≤ q < min(16 j + 16, n)`), with `B` (`[k, n]`)
/// packed by `peft_pack_panels` at `panels_base`; `A` has row stride `lda`, `C` row stride `ldc`.
#define PEFT_A_STEP 1
#define PEFT_PANEL_K k
PEFT_AVX2 PEFT_HOT_ALIGN void peft_packed_gemm_avx2(
    const float *a, long lda, const float *panels_base, long k, long n, float *c, long ldc,
    long i0, long i1_all, long j0, long j1, bool accumulate) {
    PEFT_PACKED_BODY
}

/// ``peft_packed_gemm_avx2`` for any CPU.
void peft_packed_gemm_portable(
    const float *a, long lda, const float *panels_base, long k, long n, float *c, long ldc,
    long i0, long i1_all, long j0, long j1, bool accumulate) {
    PEFT_PACKED_BODY
}
#undef PEFT_A_STEP
#undef PEFT_PANEL_K

/// ``peft_packed_gemm_avx2`` for the small products of attention: `A[i, p]` at
/// `a[i · lda + p · a_step]` (a transposed `A` has `lda = 1`), and only the first `k` of the
/// `panel_k` rows that `B` was packed with are used (the keys a causal block sees).
#define PEFT_A_STEP a_step
#define PEFT_PANEL_K panel_k
PEFT_AVX2 void peft_packed_gemm_strided_avx2(
    const float *a, long lda, long a_step, const float *panels_base, long panel_k, long k, long n, float *c,
    long ldc, long i0, long i1_all, bool accumulate) {
    const long j0 = 0, j1 = (n + 15) / 16;
    PEFT_PACKED_BODY
}

/// ``peft_packed_gemm_strided_avx2`` for any CPU.
void peft_packed_gemm_strided_portable(
    const float *a, long lda, long a_step, const float *panels_base, long panel_k, long k, long n, float *c,
    long ldc, long i0, long i1_all, bool accumulate) {
    const long j0 = 0, j1 = (n + 15) / 16;
    PEFT_PACKED_BODY
}
#undef PEFT_A_STEP
#undef PEFT_PANEL_K

/// Lays out `scale · B` (`B` `[k, n]` as used, element `(p, q)` at `b[p · row_stride + q · column_stride]`)
/// in the panels `peft_packed_gemm_*` read: `16 · ⌈n / 16⌉ · k` floats at `panels`. A weight `W`
/// stored `[n, k]` and used as `Wᵀ` has strides `(1, k)`; one stored `[k, n]` and used as is,
/// `(n, 1)`. Full panels of a `B` with contiguous columns are copied 16 floats at a time.
void peft_pack_panels(
    const float *b, long k, long n, long row_stride, long column_stride, float scale, float *panels) {
    for (long j = 0; j < (n + 15) / 16; j++) {
        if (column_stride == 1 && 16 * j + 16 <= n && scale == 1) {
            for (long p = 0; p < k; p++) {
                __builtin_memcpy(panels + (j * k + p) * 16, b + p * row_stride + 16 * j, 16 * sizeof(float));
            }
            continue;
        }
        if (row_stride == 1 && 16 * j + 16 <= n) {
            // Columns are the contiguous rows of a row-major matrix: read each along its length.
            for (long q = 0; q < 16; q++) {
                const float *column = b + (16 * j + q) * column_stride;
                for (long p = 0; p < k; p++) panels[(j * k + p) * 16 + q] = column[p] * scale;
            }
            continue;
        }
        for (long p = 0; p < k; p++) {
            float *out = panels + (j * k + p) * 16;
            for (long q = 0; q < 16; q++) {
                const long column = 16 * j + q;
                out[q] = column < n ? b[p * row_stride + column * column_stride] * scale : 0;
            }
        }
    }
}

#undef PEFT_PACKED_BODY
#undef PEFT_PACKED_TILE
#undef PEFT_PACKED_FMA
#undef PEFT_PACKED_STORE
#undef PEFT_PACKED_ROWS_6
#undef PEFT_PACKED_ROWS_4
#undef PEFT_PACKED_ROWS_2
#undef PEFT_PACKED_ROWS_1

// Element-wise kernels built on one vector exp, shared by both compilations.
typedef int peft_i8 __attribute__((vector_size(32), aligned(4)));

// `OUT = e^X` per lane (a macro, not a function: vector arguments would change the calling
// convention between the AVX2 and portable compilations). The package's one exp: range reduction
// by `ln 2` in two parts, Cephes' degree-6 polynomial, `2^n` built in the exponent bits as two
// normal factors; within 1 ulp of `expf`. The input is clamped to
// `[−110, 89]` by comparison masks (C has no vector `?:`), so `-inf` gives 0; NaN fails both
// comparisons and stays NaN.
#define PEFT_EXP8(OUT, X)                                                                            \
    peft_v8 OUT;                                                                                     \
    {                                                                                                \
        const peft_v8 x_ = (X);                                                                      \
        const peft_v8 low_ = {-110, -110, -110, -110, -110, -110, -110, -110};                       \
        const peft_v8 high_ = {89, 89, 89, 89, 89, 89, 89, 89};                                      \
        const peft_i8 below_ = x_ < low_, above_ = x_ > high_;                                       \
        const peft_v8 c_ = (peft_v8)(((peft_i8)low_ & below_) | ((peft_i8)high_ & above_) |          \
                                     ((peft_i8)x_ & ~(below_ | above_)));                            \
        const peft_v8 shifted_ = c_ * 1.44269504f + 12582912.0f;                                     \
        const peft_v8 n_ = shifted_ - 12582912.0f;                                                   \
        peft_v8 r_ = c_ - n_ * 0.693359375f;                                                         \
        r_ = r_ - n_ * -2.12194440e-4f;                                                              \
        peft_v8 p_ = r_ * 1.9875691500e-4f + 1.3981999507e-3f;                                       \
        p_ = p_ * r_ + 8.3334519073e-3f;                                                             \
        p_ = p_ * r_ + 4.1665795894e-2f;                                                             \
        p_ = p_ * r_ + 1.6666665459e-1f;                                                             \
        p_ = p_ * r_ + 5.0000001201e-1f;                                                             \
        const peft_i8 whole_ = (peft_i8)shifted_ - 0x4B400000;                                       \
        const peft_i8 half_ = whole_ >> 1;                                                           \
        OUT = (p_ * (r_ * r_) + r_ + 1.0f) * (peft_v8)((half_ + 127) << 23) *                        \
              (peft_v8)((whole_ - half_ + 127) << 23);                                               \
    }

// `V` = the `LANES ≤ 8` floats at `PTR` (the rest 0), and the converse store: loop tails computed
// exactly like the body.
#define PEFT_LOAD8(V, PTR, LANES)                                                                    \
    peft_v8 V = {0};                                                                                 \
    if ((LANES) == 8) V = *(const peft_v8 *)(PTR);                                                   \
    else for (long l_ = 0; l_ < (LANES); l_++) V[l_] = (PTR)[l_];
#define PEFT_STORE8(V, PTR, LANES)                                                                   \
    if ((LANES) == 8) *(peft_v8 *)(PTR) = (V);                                                       \
    else for (long l_ = 0; l_ < (LANES); l_++) (PTR)[l_] = (V)[l_];

#define PEFT_SWIGLU_FORWARD_BODY                                                                     \
    for (long i = 0; i < count; i += 8) {                                                            \
        const long lanes = count - i < 8 ? count - i : 8;                                            \
        PEFT_LOAD8(gate, g + i, lanes)                                                               \
        PEFT_LOAD8(up, u + i, lanes)                                                                 \
        PEFT_EXP8(e, -gate)                                                                          \
        const peft_v8 result = gate / (1.0f + e) * up;                                               \
        PEFT_STORE8(result, out + i, lanes)                                                          \
    }

/// SwiGLU, `out = silu(g) ⊙ u = g · σ(g) · u`, over `count` elements.
PEFT_AVX2 void peft_swiglu_forward_avx2(const float *g, const float *u, float *out, long count) {
    PEFT_SWIGLU_FORWARD_BODY
}

/// ``peft_swiglu_forward_avx2`` for any CPU.
void peft_swiglu_forward_portable(const float *g, const float *u, float *out, long count) {
    PEFT_SWIGLU_FORWARD_BODY
}

#define PEFT_SWIGLU_BACKWARD_BODY                                                                    \
    for (long i = 0; i < count; i += 8) {                                                            \
        const long lanes = count - i < 8 ? count - i : 8;                                            \
        PEFT_LOAD8(gate, g + i, lanes)                                                               \
        PEFT_LOAD8(up, u + i, lanes)                                                                 \
        PEFT_LOAD8(grad, dy + i, lanes)                                                              \
        PEFT_EXP8(e, -gate)                                                                          \
        const peft_v8 sigmoid = 1.0f / (1.0f + e);                                                   \
        const peft_v8 gate_grad = grad * up * (sigmoid * (1.0f + gate * (1.0f - sigmoid)));          \
        const peft_v8 up_grad = grad * (gate * sigmoid);                                             \
        PEFT_STORE8(gate_grad, d_gate + i, lanes)                                                    \
        PEFT_STORE8(up_grad, d_up + i, lanes)                                                        \
    }

/// SwiGLU's backward over `count` elements, from the output gradient `dy`: writes `dy ⊙ silu(g)` to
/// `d_up` (which may be `dy`) and `dy ⊙ u ⊙ silu'(g)` to `d_gate`.
PEFT_AVX2 void peft_swiglu_backward_avx2(
    const float *g, const float *u, const float *dy, float *d_up, float *d_gate, long count) {
    PEFT_SWIGLU_BACKWARD_BODY
}

/// ``peft_swiglu_backward_avx2`` for any CPU.
void peft_swiglu_backward_portable(
    const float *g, const float *u, const float *dy, float *d_up, float *d_gate, long count) {
    PEFT_SWIGLU_BACKWARD_BODY
}

#define PEFT_EXP_SUM_BODY                                                                            \
    peft_v8 total = {0};                                                                             \
    for (long i = 0; i < count; i += 8) {                                                            \
        const long lanes = count - i < 8 ? count - i : 8;                                            \
        PEFT_LOAD8(x, values + i, lanes)                                                             \
        PEFT_EXP8(e, x - shift)                                                                      \
        for (long lane = lanes; lane < 8; lane++) e[lane] = 0;                                       \
        total += e;                                                                                  \
        if (out) {                                                                                   \
            const peft_v8 scaled = e * scale;                                                        \
            PEFT_STORE8(scaled, out + i, lanes)                                                      \
        }                                                                                            \
    }                                                                                                \
    return ((total[0] + total[4]) + (total[1] + total[5])) + ((total[2] + total[6]) + (total[3] + total[7]));

/// `Σ_i e^(values[i] − shift)` over `count` elements; when `out` is not null (it may be `values`),
/// also writes `e^(values[i] − shift) · scale` to `out[i]`.
PEFT_AVX2 float peft_exp_sum_avx2(
    const float *values, float *out, long count, float shift, float scale) {
    PEFT_EXP_SUM_BODY
}

/// ``peft_exp_sum_avx2`` for any CPU.
float peft_exp_sum_portable(
    const float *values, float *out, long count, float shift, float scale) {
    PEFT_EXP_SUM_BODY
}

// Four independent accumulators, so that the loop is bound by the loads, not by the additions'
// latency: the streaming-read yardstick of the decoding benchmark.
#define PEFT_SUM_BODY                                                                                \
    peft_v8 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};                                                  \
    long i = 0;                                                                                      \
    for (; i + 32 <= count; i += 32) {                                                               \
        s0 += *(const peft_v8 *)(values + i);                                                        \
        s1 += *(const peft_v8 *)(values + i + 8);                                                    \
        s2 += *(const peft_v8 *)(values + i + 16);                                                   \
        s3 += *(const peft_v8 *)(values + i + 24);                                                   \
    }                                                                                                \
    const peft_v8 t = (s0 + s1) + (s2 + s3);                                                         \
    float total = ((t[0] + t[4]) + (t[1] + t[5])) + ((t[2] + t[6]) + (t[3] + t[7]));                 \
    for (; i < count; i++) total += values[i];                                                       \
    return total;

/// `Σ_i values[i]` over `count` floats (summed in 32 interleaved partial sums, then the tail).
PEFT_AVX2 float peft_sum_avx2(const float *values, long count) {
    PEFT_SUM_BODY
}

/// ``peft_sum_avx2`` for any CPU (the same order of additions).
float peft_sum_portable(const float *values, long count) {
    PEFT_SUM_BODY
}

#undef PEFT_SWIGLU_FORWARD_BODY
#undef PEFT_SWIGLU_BACKWARD_BODY
#undef PEFT_EXP_SUM_BODY
#undef PEFT_SUM_BODY
#undef PEFT_EXP8
#undef PEFT_LOAD8
#undef PEFT_STORE8
