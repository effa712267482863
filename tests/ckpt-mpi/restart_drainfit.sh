#!/bin/sh
# restart_drainfit.sh - messages in flight at a checkpoint whose channel
# arena heap blocks and pending sends have mostly taken.
#
#   sh tests/ckpt-mpi/restart_drainfit.sh [BUILD_DIR]
#
# restart_drainfit.c with a 64 MiB arena and the shared heap on (28 MiB
# of heap blocks, 24 MiB of staged pending sends per rank, 4 messages of
# 6 MiB in flight each way at the checkpoint) goes through
# restart_app.sh (RESTART_APP_GO): checkpointed under MPICH, restarted
# under Open MPI and under MPICH, each restart must leave the per-rank
# files of a native run that was never interrupted.  While DRAIN's block
# had to be 16 MiB the checkpoint failed with about 12 MiB free: "the
# MPI shim could not drain messages in flight (round 1)".  About 10 s.
DMTCP_MPI_ARENA_MB=64 DMTCP_MPI_SHARED_HEAP=1
export DMTCP_MPI_ARENA_MB DMTCP_MPI_SHARED_HEAP
DMTCP_MPI_TEST_TIMEOUT=${DMTCP_MPI_TEST_TIMEOUT:-90}
export DMTCP_MPI_TEST_TIMEOUT
RESTART_APP_GO=1 exec sh "$(dirname -- "$0")/restart_app.sh" drainfit 200 "$@"
