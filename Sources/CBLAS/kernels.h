// SIMD kernels that Swift cannot compile for this CPU on its own.
//
// Swift code is built for the baseline of its target (SSE2 on x86-64) unless the package passes
// unsafe flags, which would stop other packages from depending on this one. These few kernels are
// the hot loops of decoding, where the wider vectors and fused multiply-adds of AVX2 + FMA decide
// how close a step gets to the memory bandwidth. Each is compiled twice from the same source: once
// with `target("avx2,fma")` and once portable; `peft_kernels_have_avx2()` tells the caller (once, at
// start-up) which to use. Nothing here allocates or keeps state. SwiftPM does not track this
// header: after editing it, touch a file of Sources/Tensor so that Tensor is compiled again.
#ifndef PEFT_KERNELS_H
#define PEFT_KERNELS_H

#include <stdbool.h>
#include <stddef.h>

#if defined(__x86_64__) || defined(_M_X64)
#define PEFT_KERNELS_X86 1
#define PEFT_AVX2 __attribute__((target("avx2,fma")))
#else
#define PEFT_KERNELS_X86 0
#define PEFT_AVX2
#endif

typedef float peft_v8 __attribute__((vector_size(32), aligned(4)));

/// Whether this CPU runs the AVX2 + FMA kernels (always false off x86-64).
static inline bool peft_kernels_have_avx2(void) {
#if PEFT_KERNELS_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
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
static inline PEFT_AVX2 void peft_skinny_gemm_avx2(
    const float *a, const float *b, float *c, long m, long k, long ldc, long j0, long j1) {
    PEFT_SKINNY_BODY
}

/// ``peft_skinny_gemm_avx2`` for any CPU.
static inline void peft_skinny_gemm_portable(
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
static inline PEFT_AVX2 void peft_attention_scores_avx2(
    const float *query, const float *keys, long stride, long count, long width, float scale, float *scores) {
    PEFT_SCORES_BODY
}

/// ``peft_attention_scores_avx2`` for any CPU.
static inline void peft_attention_scores_portable(
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
static inline PEFT_AVX2 void peft_weighted_sum_avx2(
    const float *weights, const float *values, long stride, long count, long width, float *output) {
    PEFT_WEIGHTED_SUM_BODY
}

/// ``peft_weighted_sum_avx2`` for any CPU.
static inline void peft_weighted_sum_portable(
    const float *weights, const float *values, long stride, long count, long width, float *output) {
    PEFT_WEIGHTED_SUM_BODY
}

#undef PEFT_WEIGHTED_SUM_BODY

#endif
