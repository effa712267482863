#!/bin/sh
# restart_allocmem.sh - MPI_Alloc_mem memory, which dmtcp_mpi keeps in
# the channel arena and hands to the real MPI in place, across a
# checkpoint and restarts under both MPIs.
#
#   sh tests/ckpt-mpi/restart_allocmem.sh [BUILD_DIR]
#
# restart_allocmem.c goes through restart_app.sh: checkpointed under
# MPICH, restarted under Open MPI and under MPICH; each restart must
# leave the per-rank files of a native run that was never interrupted.
# Most of each step is spent with two receives into an Alloc_mem block
# pending, so that is where the checkpoint lands; every line depends on
# the whole state block, which is Alloc_mem memory too.
exec sh "$(dirname -- "$0")/restart_app.sh" allocmem 200 "$@"
