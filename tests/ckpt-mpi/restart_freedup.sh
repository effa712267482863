#!/bin/sh
# restart_freedup.sh - receives pending on a communicator their rank has
# freed, across a checkpoint: one gets its message, one nothing will
# match is cancelled, and a new communicator that took the freed one's
# handle before the checkpoint keeps its own message, after the resume
# and after restarts under both MPIs (restart_freedup.c; how the run is
# judged: restart_app.sh).  A hang fails in 90 s, not 300.
#
#   sh tests/ckpt-mpi/restart_freedup.sh [BUILD_DIR]
DMTCP_MPI_TEST_TIMEOUT=${DMTCP_MPI_TEST_TIMEOUT:-90}
export DMTCP_MPI_TEST_TIMEOUT
RESTART_APP_GO=1 exec sh "$(dirname -- "$0")/restart_app.sh" freedup 200 "$@"
