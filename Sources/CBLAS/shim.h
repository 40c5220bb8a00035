// The only place the package sees C: OpenBLAS's CBLAS interface and LAPACKE, glibc's mallopt
// (the command-line tool tunes the allocator for large tensors), and the few SIMD kernels of
// kernels.h that Swift cannot compile for AVX2 + FMA on its own.
#include <cblas.h>
#include <lapacke.h>
#include <malloc.h>
#include "kernels.h"
