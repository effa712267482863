#!/bin/sh
# restart_final.sh - a checkpoint after MPI_Finalize (restart_final.c):
# both ranks are past it, outside MPI, when the checkpoint is taken under
# MPICH; the job must then end normally, and the checkpoint restart under
# Open MPI and under MPICH, each ending normally, printing no error and
# leaving the per-rank files of a native run.  Before the fix the
# checkpoint failed in PARK (the finalized proxies had exited and
# nothing answered), and the restart of such an image would have left
# its new proxies in MPI_Init: the ranks ended before MPI was started.
# Each check prints PASS or FAIL; the exit status is the number of
# FAILs.  DMTCP_MPI_TEST_TIMEOUT bounds each run (90 s).  About 10 s.
#
#   sh tests/ckpt-mpi/restart_final.sh [BUILD_DIR]
set -u

ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/../.." && pwd)
B=${1:-${B:-build}}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
T=$(mktemp -d "${TMPDIR:-/tmp}/dmtcp_mpi-restart-final.XXXXXX") || exit 1
NFAIL=0
TMO=${DMTCP_MPI_TEST_TIMEOUT:-90}

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
export DMTCP_MPI_TMPDIR=$T/tmp
unset DMTCP_MPI_PROXY DMTCP_MPI_NO_CLIENT DMTCP_MPI_CKPTDIR \
	DMTCP_MPI_COORD_HOST DMTCP_MPI_SECRET DMTCP_MPI_INTERVAL

check() {
	what=$1; shift
	if "$@"; then echo "PASS: restart_final: $what"; else
		echo "FAIL: restart_final: $what"; NFAIL=$((NFAIL + 1)); fi
}

COORD_PID=
cleanup() {
	[ -n "$COORD_PID" ] && kill -TERM "$COORD_PID" 2>/dev/null
	for p in $(pgrep -f "$T/"); do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if ! command -v mpirun.mpich >/dev/null || ! command -v mpirun.openmpi >/dev/null; then
	echo "SKIP: restart_final: needs mpirun.mpich and mpirun.openmpi"
	exit 0
fi
mkdir -p "$T/ref" "$T/run" && mkdir -m 700 "$T/tmp" || exit 1
SRC=$ROOT/tests/ckpt-mpi/restart_final.c
"$B/bin/dmtcp_mpicc" -O1 -I"$ROOT" -I"$ROOT/tests/ckpt-mpi" -o "$T/app" "$SRC" &&
	mpicc.mpich -O1 -I"$ROOT" -I"$ROOT/tests/ckpt-mpi" -o "$T/app-native" "$SRC" ||
	{ echo "FAIL: restart_final: cannot build $SRC"; exit 1; }

timeout "$TMO" mpirun.mpich -n 2 "$T/app-native" "$T/ref" >/dev/null 2>"$T/ref.err"
check "native reference run" [ "$(tail -n 1 "$T/ref/out.1" 2>/dev/null)" = end ]

timeout 20 "$B/bin/dmtcp_mpi_coordinator" --daemon --port 0 --port-file "$T/port" \
	--ckptdir "$T/ck" --timeout 30 || { echo "FAIL: restart_final: no coordinator"; exit 1; }
export DMTCP_MPI_COORD_PORT="$(cat "$T/port")"
cmd() { timeout 120 "$B/bin/dmtcp_mpi_command" "$@"; }
COORD_PID=$(cmd --status | sed -n 's/^pid=//p')

timeout "$TMO" mpirun.mpich -n 2 "$B/bin/dmtcp_mpi" "$T/app" "$T/run" \
	>"$T/run.stdout" 2>"$T/run.stderr" &
job=$!
n=1200
while { [ ! -f "$T/run/after.0" ] || [ ! -f "$T/run/after.1" ]; } && [ $n -gt 0 ]; do
	sleep 0.1; n=$((n - 1))
done
ck=$(cmd --checkpoint 2>"$T/cmd.err")
touch "$T/run/done"
wait $job
rc=$?
check "the checkpointed job ended normally (exit $rc)" [ $rc -eq 0 ]
check "MPICH job checkpointed after MPI_Finalize" [ -n "$ck" ] && [ -f "$ck/rank1.img" ]
[ -n "$ck" ] || { sed 's/^/    | /' "$T/cmd.err" "$T/run.stderr" | head -n 10; exit "$NFAIL"; }

for mpi in openmpi mpich; do
	# The restart must write the last line again itself.
	sed -i '/^end$/d' "$T/run/out.0" "$T/run/out.1"
	timeout "$TMO" "mpirun.$mpi" -n 2 "$B/bin/dmtcp_mpi_restart" "$ck" \
		>"$T/$mpi.stdout" 2>"$T/$mpi.stderr" </dev/null
	rc=$?
	check "restart under $mpi ends normally (exit $rc)" [ $rc -eq 0 ]
	check "... output identical to the native run" \
		cmp -s "$T/ref/out.0" "$T/run/out.0" && cmp -s "$T/ref/out.1" "$T/run/out.1"
	if [ -s "$T/$mpi.stderr" ]; then
		check "restart ($mpi) printed nothing on stderr" false
		sed 's/^/    | /' "$T/$mpi.stderr" | head -n 10
	fi
done
echo "restart_final: $NFAIL failed"
exit "$NFAIL"
