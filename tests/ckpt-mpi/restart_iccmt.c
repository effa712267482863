/*
 * restart_iccmt.c - the application of tests/ckpt-mpi/restart_iccmt.sh:
 * restart_icc.c at MPI_THREAD_MULTIPLE.
 */
#define ICC_THREADS 1
#include "restart_icc.c"
