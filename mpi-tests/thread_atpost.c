/*
 * thread_atpost.c - p2p_atpost.c under MPI_THREAD_MULTIPLE: there the
 * shim makes a blocking Send or Recv an Isend or Irecv plus Test polls,
 * and a request complete at its post must end the call with no poll and
 * the same status, data and error as natively.
 */
/* ranks: 2 */
#define ATPOST_NAME "thread_atpost"
#define ATPOST_MULTIPLE 1
#include "p2p_atpost.c"
