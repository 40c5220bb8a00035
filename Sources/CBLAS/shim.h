// The only place the package sees C: OpenBLAS's CBLAS interface and LAPACKE.
#include <cblas.h>
#include <lapacke.h>
