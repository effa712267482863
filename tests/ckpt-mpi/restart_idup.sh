#!/bin/sh
# restart_idup.sh - collectives on communicators made by MPI_Comm_idup
# across a checkpoint and restarts under both MPIs.
#
#   sh tests/ckpt-mpi/restart_idup.sh [BUILD_DIR]
#
# restart_idup.c goes through restart_app.sh with RESTART_APP_GO=1: the
# checkpoint comes while rank 0 is inside an Iallreduce on an idup'd
# communicator that rank 1 has not started; rank 1 must count as behind
# (the idup'd communicator has an id both ranks computed alike,
# shim/commdup.c) and catch up in TARGETS.  Restarted under Open MPI and
# under MPICH, each run must leave the per-rank files of a native run
# that was never interrupted.  Checked by disabling the path: with the
# idup'd communicator left without an id (gid -1) the checkpoint does
# not wait in TARGETS and fails in DRAIN (rank 0's collective never
# completes).  About 20 s.
RESTART_APP_GO=1 exec sh "$(dirname -- "$0")/restart_app.sh" idup 200 "$@"
