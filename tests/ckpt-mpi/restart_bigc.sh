#!/bin/sh
# restart_bigc.sh - datatypes of the large-count constructors across a
# checkpoint and restarts under both MPIs.
#
#   sh tests/ckpt-mpi/restart_bigc.sh [BUILD_DIR]
#
# restart_bigc.c goes through restart_app.sh: checkpointed under MPICH,
# restarted under Open MPI and under MPICH, each restart must leave the
# per-rank files of a native run that was never interrupted: the new
# proxies made the _c types again from their int constructors (with the
# chunk types made for counts beyond INT_MAX), and their envelopes and
# contents are still what the program gave.
exec sh "$(dirname -- "$0")/restart_app.sh" bigc 200 "$@"
