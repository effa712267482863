#!/bin/sh
# restart_nbc.sh - nonblocking collectives outstanding at a checkpoint.
#
#   sh tests/ckpt-mpi/restart_nbc.sh [BUILD_DIR]
#
# restart_nbc.c (an Iallreduce, an Ibcast on a dup and an Ialltoallv left
# outstanding while the ranks compute, rank 1 starting later than rank 0)
# goes through restart_app.sh: checkpointed under MPICH, restarted under
# Open MPI and under MPICH, each restart must leave the per-rank files of
# a native run that was never interrupted.  That needs every rank to
# catch up to the collective targets, DRAIN to complete the pending
# collectives, and the Waitall after the restart, in a proxy that never
# saw them, to return their results.
exec sh "$(dirname -- "$0")/restart_app.sh" nbc 200 "$@"
