#!/bin/sh
# restart_freepersist.sh - a persistent synchronous send started on a
# communicator both ranks have freed, unmatched when a checkpoint parks
# it, completes once the receiver starts its persistent receive, after the
# resume and after restarts under both MPIs (restart_freepersist.c; how
# the run is judged: restart_app.sh).  A hang fails in 90 s, not 300.
#
#   sh tests/ckpt-mpi/restart_freepersist.sh [BUILD_DIR]
DMTCP_MPI_TEST_TIMEOUT=${DMTCP_MPI_TEST_TIMEOUT:-90}
export DMTCP_MPI_TEST_TIMEOUT
RESTART_APP_GO=1 RESTART_APP_QUIET=1 exec sh "$(dirname -- "$0")/restart_app.sh" freepersist 200 "$@"
