#!/bin/sh
# restart_thread.sh - MPI_THREAD_MULTIPLE across a checkpoint: threads
# polling a receive and running collectives on their own communicators
# are parked, checkpointed under MPICH and restarted under both MPIs
# (restart_thread.c; how the run is judged: restart_app.sh).
#
#   sh tests/ckpt-mpi/restart_thread.sh [BUILD_DIR]
exec sh "$(dirname -- "$0")/restart_app.sh" thread 200 "$@"
