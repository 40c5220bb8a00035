// The only place the package sees C: OpenBLAS's CBLAS interface and LAPACKE, and glibc's mallopt
// (the command-line tool tunes the allocator for large tensors).
#include <cblas.h>
#include <lapacke.h>
#include <malloc.h>
