#!/bin/sh
# restart_heap.sh - large malloc'ed arrays, which dmtcp_mpi keeps in the
# channel arena and hands to the real MPI in place (shim/heap.c), across
# a checkpoint and restarts under both MPIs.
#
#   sh tests/ckpt-mpi/restart_heap.sh [BUILD_DIR]
#
# restart_heap.c goes through restart_app.sh: checkpointed under MPICH,
# restarted under Open MPI and under MPICH; each restart must leave the
# per-rank files of a native run that was never interrupted.  Every line
# depends on the whole state array, filled before the checkpoint, and a
# receive into a realloc'ed array is pending at most moments.
exec sh "$(dirname -- "$0")/restart_app.sh" heap 200 "$@"
