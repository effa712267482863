#!/bin/sh
# restart_nbrwait.sh - a nonblocking and a persistent neighbourhood
# collective on Cartesian communicators where one process is both
# neighbours of a dimension, outstanding at a checkpoint.
#
#   sh tests/ckpt-mpi/restart_nbrwait.sh [BUILD_DIR]
#
# restart_nbrwait.c goes through restart_app.sh with RESTART_APP_GO=1,
# checkpointed under MPICH, then under Open MPI: rank 0 started both (its
# proxy exchanging the blocks itself, under generalized requests) and
# waits outside MPI; rank 1 starts them only once the coordinator waits
# in TARGETS.  DRAIN must step the exchanges to their end, the
# checkpointed run must go on, and the restarts under Open MPI and MPICH
# must leave the per-rank files of a native run (the persistent request
# started again in a proxy that never saw it).  Checked by disabling the
# path: with the proxy exchanging before it replies (main before this
# test), rank 0 never gets out of its MPI_Ineighbor_alltoall to say it is
# there.  About 30 s.
here=$(dirname -- "$0")
RESTART_APP_GO=1 sh "$here/restart_app.sh" nbrwait 200 "$@"
a=$?
RESTART_APP_GO=1 RESTART_APP_MPI=openmpi sh "$here/restart_app.sh" nbrwait 200 "$@"
exit $((a + $?))
