// Skinny-product variants for decoding at batch 8, timed alone on one thread (see
// Documentation/Performance.md, "Batch 8, looked at again"). Not part of the package:
//
//     gcc -O2 -o /tmp/skinny-variants Benchmarks/skinny-variants.c
//     /tmp/skinny-variants K [HUGE_PAGES=1] [WEIGHT_BYTES=268435456]
//
// times `cur8` (the package's kernel: one weight row against 8 input rows), `two` (one weight row
// from each half of the range, 4 input rows a pass) and `adj` (two adjacent weight rows, 4 input
// rows a pass) over WEIGHT_BYTES of weights with rows of K floats, and a plain streaming read; prints
// each one's weight-read rate and arithmetic rate (best of 5 rounds, 2,000 when the weights fit L2).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
typedef float v8 __attribute__((vector_size(32), aligned(4)));

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

// Current kernel: one weight row against 8 rows.
__attribute__((target("avx2,fma"))) void cur8(const float *a, const float *b, float *c, long k, long ldc, long j0, long j1) {
    for (long j = j0; j < j1; j++) {
        const float *w = b + j * k; const float *x = a;
        v8 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, s4 = {0}, s5 = {0}, s6 = {0}, s7 = {0};
        for (long p = 0; p + 8 <= k; p += 8) {
            const v8 v = *(const v8 *)(w + p);
            s0 += *(const v8 *)(x + 0 * k + p) * v; s1 += *(const v8 *)(x + 1 * k + p) * v;
            s2 += *(const v8 *)(x + 2 * k + p) * v; s3 += *(const v8 *)(x + 3 * k + p) * v;
            s4 += *(const v8 *)(x + 4 * k + p) * v; s5 += *(const v8 *)(x + 5 * k + p) * v;
            s6 += *(const v8 *)(x + 6 * k + p) * v; s7 += *(const v8 *)(x + 7 * k + p) * v;
        }
#define ST(S, R) c[R * ldc + j] = ((S[0] + S[4]) + (S[1] + S[5])) + ((S[2] + S[6]) + (S[3] + S[7]));
        ST(s0,0) ST(s1,1) ST(s2,2) ST(s3,3) ST(s4,4) ST(s5,5) ST(s6,6) ST(s7,7)
    }
}

// Weight rows `ja` and `jb` against the 8 input rows, 4 input rows a pass: each input vector loaded
// once for both weight rows.
__attribute__((target("avx2,fma"), always_inline)) static inline void pair(
    const float *a, const float *b, float *c, long k, long ldc, long ja, long jb) {
    const float *wa = b + ja * k, *wb = b + jb * k;
    for (long r = 0; r < 8; r += 4) {
        const float *x = a + r * k;
        v8 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0};
        for (long p = 0; p + 8 <= k; p += 8) {
            const v8 va = *(const v8 *)(wa + p), vb = *(const v8 *)(wb + p);
            v8 x0 = *(const v8 *)(x + p), x1 = *(const v8 *)(x + k + p), x2 = *(const v8 *)(x + 2 * k + p), x3 = *(const v8 *)(x + 3 * k + p);
            a0 += x0 * va; b0 += x0 * vb; a1 += x1 * va; b1 += x1 * vb;
            a2 += x2 * va; b2 += x2 * vb; a3 += x3 * va; b3 += x3 * vb;
        }
#define ST2(S, R, J) c[(r + R) * ldc + J] = ((S[0] + S[4]) + (S[1] + S[5])) + ((S[2] + S[6]) + (S[3] + S[7]));
        ST2(a0,0,ja) ST2(a1,1,ja) ST2(a2,2,ja) ST2(a3,3,ja) ST2(b0,0,jb) ST2(b1,1,jb) ST2(b2,2,jb) ST2(b3,3,jb)
    }
}

// Two weight rows from the two halves of the range (two sequential streams).
__attribute__((target("avx2,fma"))) void two(const float *a, const float *b, float *c, long k, long ldc, long j0, long j1) {
    long half = (j1 - j0) / 2;
    for (long t = 0; t < half; t++) pair(a, b, c, k, ldc, j0 + t, j0 + half + t);
    if ((j1 - j0) % 2) cur8(a, b, c, k, ldc, j1 - 1, j1);
}

// Two adjacent weight rows.
__attribute__((target("avx2,fma"))) void adj(const float *a, const float *b, float *c, long k, long ldc, long j0, long j1) {
    for (long ja = j0; ja + 1 < j1; ja += 2) pair(a, b, c, k, ldc, ja, ja + 1);
    if ((j1 - j0) % 2) cur8(a, b, c, k, ldc, j1 - 1, j1);
}

// Streaming read alone (b1-like): sum of the weights.
__attribute__((target("avx2,fma"))) float stream(const float *b, long n) {
    v8 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    for (long p = 0; p + 32 <= n; p += 32) { s0 += *(const v8 *)(b + p); s1 += *(const v8 *)(b + p + 8); s2 += *(const v8 *)(b + p + 16); s3 += *(const v8 *)(b + p + 24); }
    v8 s = s0 + s1 + s2 + s3; return s[0] + s[7];
}

int main(int argc, char **argv) {
    long k = argc > 1 ? atol(argv[1]) : 576;
    long bytes = argc > 3 ? atol(argv[3]) : 256L << 20;
    long n = bytes / (k * 4);
    int huge = argc > 2 ? atoi(argv[2]) : 1;
    float *b = aligned_alloc(2 << 20, n * k * 4);
    if (huge) madvise(b, n * k * 4, 14 /*MADV_HUGEPAGE*/);
    for (long i = 0; i < n * k; i++) b[i] = (float)((i * 2654435761u) % 1000) * 1e-3f;
    float *a = aligned_alloc(64, 8 * k * 4); for (long i = 0; i < 8 * k; i++) a[i] = (float)(i % 7) * 0.1f;
    float *c1 = calloc(8 * n, 4), *c2 = calloc(8 * n, 4), *c3 = calloc(8 * n, 4);
    double best[4] = {1e9, 1e9, 1e9, 1e9}; volatile float sink = 0;
    for (int round = 0; round < (bytes < (8L<<20) ? 2000 : 5); round++) {
        double t;
        t = now(); cur8(a, b, c1, k, n, 0, n); t = now() - t; if (t < best[0]) best[0] = t;
        t = now(); two(a, b, c2, k, n, 0, n); t = now() - t; if (t < best[1]) best[1] = t;
        t = now(); adj(a, b, c3, k, n, 0, n); t = now() - t; if (t < best[2]) best[2] = t;
        t = now(); sink += stream(b, n * k); t = now() - t; if (t < best[3]) best[3] = t;
    }
    double maxdiff = 0; for (long i = 0; i < 8 * n; i++) { double d = c1[i] - c2[i]; if (d < 0) d = -d; if (d > maxdiff) maxdiff = d; d = c1[i]-c3[i]; if (d<0) d=-d; if (d>maxdiff) maxdiff=d; }
    double gb = n * k * 4 / 1e9, gf = 2.0 * 8 * n * k / 1e9;
    printf("k %ld: cur8 %.1f GB/s %.1f GFLOP/s | two-streams %.1f GB/s %.1f | adjacent %.1f GB/s %.1f | stream %.1f GB/s | maxdiff %g\n",
           k, gb / best[0], gf / best[0], gb / best[1], gf / best[1], gb / best[2], gf / best[2], gb / best[3], maxdiff);
    return 0;
}
