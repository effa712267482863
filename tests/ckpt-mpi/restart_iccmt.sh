#!/bin/sh
# restart_iccmt.sh - restart_icc.sh at MPI_THREAD_MULTIPLE: the leaders'
# MPI_Intercomm_create runs on a proxy thread of its own, and the proxy
# serves the checkpoint meanwhile.
#
#   sh tests/ckpt-mpi/restart_iccmt.sh [BUILD_DIR]
#
# As restart_icc.sh (checkpoint under Open MPI with rank 0 inside the
# constructor and its message to rank 1 visible on WORLD; restarts under
# both MPIs), with DMTCP_MPI_FAULT=ctor-late: every constructor thread
# starts 2 s late, as a loaded machine may start it.  Rank 1's thread is
# then not yet inside the real constructor when the checkpoint's DRAIN
# begins, and DRAIN must not probe WORLD until it has ended
# (px_ctor_running, proxy/ckpt.c): before that check, DRAIN took rank 0's
# message into the application, Open MPI failed the constructor (Error
# in ompi_get_rprocs) and the job aborted.  The checkpoint must end at
# least 2 s after rank 1 was let go into the constructor
# (RESTART_APP_CKPT_MIN_S), which proves the fault fired: DRAIN waited
# for the late thread (2.06 s here; 0.07 s with the point disarmed).
# About 30 s.
DMTCP_MPI_FAULT=ctor-late RESTART_APP_CKPT_MIN_S=2 RESTART_APP_GO=1 RESTART_APP_MPI=openmpi RESTART_APP_SEEN=1 \
	exec sh "$(dirname -- "$0")/restart_app.sh" iccmt 200 "$@"
