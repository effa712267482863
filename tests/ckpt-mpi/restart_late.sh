#!/bin/sh
# restart_late.sh - a communicator made after the checkpoint's INTENT.
#
#   sh tests/ckpt-mpi/restart_late.sh [BUILD_DIR]
#
# restart_late.c (a Comm_dup of WORLD that rank 0 is inside when the
# checkpoint begins, rank 1 entering it only once the coordinator waits
# in TARGETS, then Bcasts from rank 0 on the new communicator) goes
# through restart_app.sh (RESTART_APP_GO): checkpointed under MPICH,
# restarted under Open MPI and under MPICH, each restart must leave the
# per-rank files of a native run that was never interrupted.  Nobody
# reported the new communicator at INTENT, so no collective on it may
# start before the checkpoint is over.  Checked by undoing 5eb516e's
# shim hunk (a key nobody reported unconstrained again, target INT64_MAX):
# rank 0 Bcasts past rank 1 in the image, and both restarts hang (the
# ckpt_all coll_basic hang of CI seed 70137).  About 20 s.
DMTCP_MPI_TEST_TIMEOUT=${DMTCP_MPI_TEST_TIMEOUT:-90}
export DMTCP_MPI_TEST_TIMEOUT
RESTART_APP_GO=1 exec sh "$(dirname -- "$0")/restart_app.sh" late 200 "$@"
