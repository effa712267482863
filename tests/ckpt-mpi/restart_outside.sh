#!/bin/sh
# restart_outside.sh - a checkpoint that finds one rank outside MPI and
# the other inside a Sendrecv whose message is drained; the first rank
# sends, and takes that message, the moment it runs again, after the
# resume and after restarts under both MPIs (restart_outside.c; how the
# run is judged: restart_app.sh).  A hang fails in 90 s, not 300.
#
#   sh tests/ckpt-mpi/restart_outside.sh [BUILD_DIR]
DMTCP_MPI_TEST_TIMEOUT=${DMTCP_MPI_TEST_TIMEOUT:-90}
export DMTCP_MPI_TEST_TIMEOUT
exec sh "$(dirname -- "$0")/restart_app.sh" outside 200 "$@"
