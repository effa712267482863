#!/bin/sh
# restart_truncpark.sh - a checkpoint that parks a receive already
# complete in error (truncated) in the proxy: the checkpoint must succeed
# and the Wait after it return MPI_ERR_TRUNCATE, after the resume and
# after restarts under both MPIs (restart_truncpark.c; how the run is
# judged: restart_app.sh).  A hang fails in 90 s, not 300.
#
#   sh tests/ckpt-mpi/restart_truncpark.sh [BUILD_DIR]
DMTCP_MPI_TEST_TIMEOUT=${DMTCP_MPI_TEST_TIMEOUT:-90}
export DMTCP_MPI_TEST_TIMEOUT
exec sh "$(dirname -- "$0")/restart_app.sh" truncpark 200 "$@"
