#!/bin/sh
# restart_topo.sh - topologies, an intercommunicator and an attribute
# across a checkpoint and restarts under both MPIs.
#
#   sh tests/ckpt-mpi/restart_topo.sh [BUILD_DIR]
#
# restart_topo.c goes through restart_app.sh: checkpointed under MPICH,
# restarted under Open MPI and under MPICH, each restart must leave the
# per-rank files of a native run that was never interrupted: the new
# proxies made the Cartesian and dist-graph communicators and the
# intercommunicator again from the records (TOPO_REBUILD,
# INTERCOMM_REBUILD), and a user reduction operation still works.
exec sh "$(dirname -- "$0")/restart_app.sh" topo 200 "$@"
