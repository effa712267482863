/*
 * restart_failckpt.c - the application of tests/ckpt-mpi/restart_failckpt.sh:
 * restart_issend.c's, built to wait for DIR/over.K after each checkpoint
 * instead of a resume hook (a checkpoint that fails before its image runs
 * none).
 */
#define ISSEND_CKPT_FAILS 1
#include "restart_issend.c"
