// OpenBLAS's CBLAS interface and LAPACKE, and glibc's mallopt (the command-line tool tunes the
// allocator for large tensors). The package's own C kernels are the CKernels target.
#include <cblas.h>
#include <lapacke.h>
#include <malloc.h>
