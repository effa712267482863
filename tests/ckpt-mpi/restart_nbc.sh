#!/bin/sh
# restart_nbc.sh - nonblocking collectives outstanding at a checkpoint.
#
#   sh tests/ckpt-mpi/restart_nbc.sh [BUILD_DIR]
#
# restart_nbc.c (an Iallreduce, an Ibcast on a dup, an Ialltoallv and an
# Iallreduce with a user operation left outstanding while the ranks
# compute, rank 1 starting later than rank 0)
# goes through restart_app.sh: checkpointed under MPICH, restarted under
# Open MPI and under MPICH, each restart must leave the per-rank files of
# a native run that was never interrupted.  That needs every rank to
# catch up to the collective targets, DRAIN to complete the pending
# collectives, and the Waitall after the restart, in a proxy that never
# saw them, to return their results.  The checkpoint comes at a step the
# app chooses (RESTART_APP_GO; see restart_nbc.c): its collectives started
# on rank 0 and not on rank 1, one of them 32 MiB.  Checked by disabling
# the path: with DRAIN not waiting for incomplete collectives (proxy/ckpt.c
# reporting CTL_ARG_DRAIN_COLLS = 0) the checkpoint fails (shim_icoll_drained
# finds them incomplete), 2 of 2 runs; with that and shim_icoll_drained
# (shim/icoll.c) both skipped, the restarts' files differ from the
# reference, 4 of 4 runs (the old random moment: passed).  Skipping only
# shim_icoll_drained passes: after a restart the new proxy answers a Wait
# on a request it never saw at once, and the results are in the arena
# block the image kept.  About 20 s.
RESTART_APP_GO=1 exec sh "$(dirname -- "$0")/restart_app.sh" nbc 200 "$@"
