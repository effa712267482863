#!/bin/sh
# restart_redchunk.sh - a chunked reduction one rank is inside and the
# other has not started at the checkpoint, restarted without the chunk
# size in the restart's environment.
#
#   sh tests/ckpt-mpi/restart_redchunk.sh [BUILD_DIR]
#
# restart_redchunk.c (DMTCP_MPI_TEST_REDUCE_CHUNK=1000 set by the
# program, rank 0 held at the gate of an Allreduce_c's first chunk, rank
# 1 outside it) goes through restart_app.sh (RESTART_APP_GO):
# checkpointed under MPICH, restarted under Open MPI and under MPICH,
# each restart must leave the per-rank files of a native run that was
# never interrupted.  With the limit read at each call instead of once
# at MPI_Init, rank 1 made one unchunked call after the restart: the
# restart under Open MPI ended in MPI_ERR_TRUNCATE, the one under MPICH
# hung (ckpt_all chain mode: reduce_big, a DRAIN that timed out with both
# proxies in collectives).  About 15 s.
DMTCP_MPI_TEST_TIMEOUT=${DMTCP_MPI_TEST_TIMEOUT:-60}
export DMTCP_MPI_TEST_TIMEOUT
RESTART_APP_GO=1 exec sh "$(dirname -- "$0")/restart_app.sh" redchunk 200 "$@"
