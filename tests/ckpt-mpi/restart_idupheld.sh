#!/bin/sh
# restart_idupheld.sh - a checkpoint with rank 0's MPI_Comm_idup held at
# the gate and rank 1 not yet in it, then restarts under both MPIs that
# use the new communicator.
#
#   sh tests/ckpt-mpi/restart_idupheld.sh [BUILD_DIR]
#
# restart_idupheld.c goes through restart_app.sh with RESTART_APP_GO=1
# and RESTART_APP_SEEN=1 (its header says how the moment is made; DIR/seen:
# the idup was in the image).  The idup's record is complete in rank 0's
# image but marked unbuilt (shim/commdup.c): a restart must leave it to
# the held call, which makes it once the restored rank goes on, together
# with rank 1's idup.  Checked by reverting that (the record imaged as
# built): both restarts hang, rank 0 making the idup's communicator again
# with id -1 while rank 1 makes the next one (A), and end by the timeout
# (DMTCP_MPI_TEST_TIMEOUT).  About 10 s.
RESTART_APP_GO=1 RESTART_APP_SEEN=1 \
	exec sh "$(dirname -- "$0")/restart_app.sh" idupheld 120 "$@"
