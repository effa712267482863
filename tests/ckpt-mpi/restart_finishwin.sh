#!/bin/sh
# restart_finishwin.sh - a checkpoint while an application thread is
# completing a nonblocking collective the proxy has answered done.
#
#   sh tests/ckpt-mpi/restart_finishwin.sh [BUILD_DIR]
#
# restart_finishwin.c goes through restart_app.sh (checkpointed under
# MPICH, restarted under Open MPI and under MPICH, each restart must
# leave the per-rank files of a native run).  The checkpoint comes while
# rank 0's MPI_Test copies an Iallreduce's result out, held there 2 s by
# the fault point icoll-finish-slow (the app arms it around that call), and rank 0 has an Ibarrier pending
# that rank 1 starts only in TARGETS.  DRAIN completes the collectives
# still pending in the application (shim_icoll_drained): the Ibarrier,
# not the Iallreduce, which the proxy forgot when it answered the Test.
# Before shim/req.c completed a request before letting the slot go, the
# checkpoint found the Iallreduce still pending and completed it too:
# its plan was freed twice.  glibc's thread caches hide that (each
# thread's free goes to its own), so they are off here: glibc then
# aborts rank 0 at the second free ("double free or corruption"), right
# after the checkpoint.  About 10 s.
export GLIBC_TUNABLES=glibc.malloc.tcache_count=0
RESTART_APP_GO=1 exec sh "$(dirname -- "$0")/restart_app.sh" finishwin 200 "$@"
