#!/bin/sh
# restart_topohold.sh - a checkpoint with rank 0 inside a blocking
# MPI_Neighbor_alltoall on a periodic Cartesian ring of 2 and rank 1
# behind it, then restarts under both MPIs.
#
#   sh tests/ckpt-mpi/restart_topohold.sh [BUILD_DIR]
#
# restart_topo.c with RESTART_APP_GO=1 (its header says how the moment is
# made): rank 1 enters the call only once the coordinator waits for it in
# TARGETS, so rank 0's proxy is exchanging the blocks itself when PARK
# comes.  The call must end normally in the checkpointed run and the
# restarts must leave the per-rank files of a native run.  About 25 s.
RESTART_APP_GO=1 exec sh "$(dirname -- "$0")/restart_app.sh" topo 200 "$@"
