#!/bin/sh
# restart_icc.sh - a checkpoint between two leaders' MPI_Intercomm_create,
# taken under Open MPI, restarted under both MPIs.
#
#   sh tests/ckpt-mpi/restart_icc.sh [BUILD_DIR]
#
# restart_icc.c goes through restart_app.sh with RESTART_APP_GO=1 and
# RESTART_APP_MPI=openmpi: rank 0 is inside Intercomm_create, and its
# message to rank 1 waits on the peer communicator (WORLD) with the
# application's tag, Open MPI's way: rank 1 has seen it with Iprobe
# (RESTART_APP_SEEN) before it creates DIR/started.  Rank 1 reaches the
# constructor only once the checkpoint waits in TARGETS.  DRAIN's
# wildcard probe on WORLD would take that message into the application
# and the constructor would never end; it cannot, because rank 0's proxy
# is inside the real constructor and answers PARK only when it is over,
# that is once rank 1's proxy has received the message, and DRAIN
# begins after every rank has parked.  (Checked by making rank 1 sleep
# 2 s between its admission in TARGETS and its call reaching the proxy:
# still passes.  At MPI_THREAD_MULTIPLE the constructor runs on a proxy
# thread and PARK is answered meanwhile: restart_iccmt.sh.)  Restarted under Open MPI and under MPICH, each run must
# leave the per-rank files of a native run that was never interrupted,
# including what rank 1 receives on WORLD with MPI_ANY_TAG.  About 25 s.
RESTART_APP_GO=1 RESTART_APP_MPI=openmpi RESTART_APP_SEEN=1 \
	exec sh "$(dirname -- "$0")/restart_app.sh" icc 200 "$@"
