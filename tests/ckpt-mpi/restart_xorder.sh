#!/bin/sh
# restart_xorder.sh - two communicators each rank made in a different
# order, across a checkpoint and restarts under both MPIs.
#
#   sh tests/ckpt-mpi/restart_xorder.sh [BUILD_DIR]
#
# restart_xorder.c (rank 0 idups parent 0 then parent 1, rank 1 the
# other way round) goes through restart_app.sh: checkpointed under MPICH
# a quarter of the way, restarted under Open MPI and under MPICH; each
# run must end and leave the per-rank files of a native run.  Before the
# restart made communicators again in the order of their ids
# (shim_comm_rebuild_all) it made them in each rank's creation order and
# both restarts hung.  About 20 s.
exec sh "$(dirname -- "$0")/restart_app.sh" xorder 200 "$@"
