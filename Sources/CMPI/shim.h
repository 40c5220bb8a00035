// Open MPI's C interface (pkg-config `ompi-c`), for the MPITraining target only.
// MPI's handles are macros Swift cannot import (casts of addresses of library globals); these
// functions return them.
#include <mpi.h>

static inline MPI_Comm peft_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype peft_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype peft_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op peft_mpi_sum(void) { return MPI_SUM; }
static inline void *peft_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Errhandler peft_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int peft_mpi_success(void) { return MPI_SUCCESS; }
static inline int peft_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline int peft_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
