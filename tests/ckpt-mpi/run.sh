#!/bin/sh
# run.sh - the proxy's checkpoint protocol under each MPI (fake_app.c).
#
#   sh tests/ckpt-mpi/run.sh BUILD_DIR
#
# Runs build/tests/ckpt-mpi/fake_app on 2 ranks through the launcher and
# the real proxies, once per MPI in $MPIS (default: mpich openmpi), and
# passes if both ranks report that all their checks passed.
set -u

B=${1:-build}
app=$B/tests/ckpt-mpi/fake_app
fails=0

# The engine, if built, is preloaded: keep its coordinator client off.
DMTCP_MPI_NO_CLIENT=1
OMPI_ALLOW_RUN_AS_ROOT=1
OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
OMPI_MCA_rmaps_base_oversubscribe=1
export DMTCP_MPI_NO_CLIENT OMPI_ALLOW_RUN_AS_ROOT OMPI_ALLOW_RUN_AS_ROOT_CONFIRM \
	OMPI_MCA_rmaps_base_oversubscribe
unset DMTCP_MPI_PROXY

out=$(mktemp "${TMPDIR:-/tmp}/dmtcp_mpi-ckpt-mpi.XXXXXX") || exit 1
sync=$(mktemp -d "${TMPDIR:-/tmp}/dmtcp_mpi-ckpt-mpi.XXXXXX") || exit 1
trap 'rm -rf "$out" "$sync"' EXIT INT TERM
# fake_app's ranks tell each other where they are through files here.
DMTCP_MPI_TEST_SYNC=$sync
export DMTCP_MPI_TEST_SYNC

for mpi in ${MPIS:-mpich openmpi}; do
	rm -f "$sync"/*
	timeout 120 "mpirun.$mpi" -n 2 "$B/bin/dmtcp_mpi" "$app" >"$out" 2>&1
	rc=$?
	passed=$(grep -c '^ckpt-mpi: rank [01]: all checks passed$' "$out")
	if [ "$rc" -eq 0 ] && [ "$passed" -eq 2 ]; then
		echo "ckpt-mpi ($mpi): passed"
	else
		echo "ckpt-mpi ($mpi): FAILED (exit $rc)"
		cat "$out"
		fails=$((fails + 1))
	fi
done
[ "$fails" -eq 0 ]
