#!/bin/sh
# restart_outside.sh - a rank checkpointed outside MPI sends the moment
# it is restored, before the engine's client thread has finished the
# restart: the new channel must be mapped by then (restart_outside.c;
# how the run is judged: restart_app.sh).
#
#   sh tests/ckpt-mpi/restart_outside.sh [BUILD_DIR]
exec sh "$(dirname -- "$0")/restart_app.sh" outside 200 "$@"
