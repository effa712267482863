#!/bin/sh
# restart_p2p.sh - persistent requests, a buffered send and a matched
# message across a checkpoint and restarts under both MPIs.
#
#   sh tests/ckpt-mpi/restart_p2p.sh [BUILD_DIR]
#
# restart_p2p.c goes through restart_app.sh: checkpointed under MPICH,
# restarted under Open MPI and under MPICH, each restart must leave the
# per-rank files of a native run that was never interrupted.  Most of each
# step is spent with a persistent receive active or a matched message
# held, so that is where the checkpoint lands.
exec sh "$(dirname -- "$0")/restart_app.sh" p2p 200 "$@"
