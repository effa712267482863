#!/bin/sh
# restart_gidroot.sh - a communicator idup'd from a since-freed parent
# across a checkpoint and restarts under both MPIs, and communicators
# made after the restart under ids of their own.
#
#   sh tests/ckpt-mpi/restart_gidroot.sh [BUILD_DIR]
#
# restart_gidroot.c goes through restart_app.sh with RESTART_APP_AGAIN=1:
# checkpointed under MPICH a quarter of the way, restarted under Open MPI
# and under MPICH; each restarted run makes a dup and an idup from it the
# way the freed parent and its idup'd child were made, and must then
# take a second checkpoint, which fails (TARGETS times out) if the new
# ones got the old ids.  Each run must leave the per-rank files of a
# native run that was never interrupted.  Checked by disabling the guard
# (COMM_REBUILD's arg[4] left -1, shim/comm.c): both second checkpoints
# fail.  About 30 s.
RESTART_APP_AGAIN=1 exec sh "$(dirname -- "$0")/restart_app.sh" gidroot 200 "$@"
