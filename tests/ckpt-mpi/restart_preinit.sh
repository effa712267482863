#!/bin/sh
# restart_preinit.sh - a checkpoint taken before MPI_Init
# (restart_preinit.c): both ranks wait, outside MPI and before ever
# calling it, while the checkpoint is taken under MPICH; the job then
# goes on and ends normally, and the checkpoint restarts under Open MPI
# and under MPICH.  A restart's proxies start MPI at once, before the
# restored ranks ask (proxy/env.c); the ranks' own MPI_Init, coming
# later, must be answered from it: each restart ends normally, prints no
# error and leaves the per-rank files of a native run.  Each check prints
# PASS or FAIL; the exit status is the number of FAILs.
# DMTCP_MPI_TEST_TIMEOUT bounds each run (90 s).  About 10 s.
#
#   sh tests/ckpt-mpi/restart_preinit.sh [BUILD_DIR]
set -u

ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/../.." && pwd)
B=${1:-${B:-build}}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
T=$(mktemp -d "${TMPDIR:-/tmp}/dmtcp_mpi-restart-preinit.XXXXXX") || exit 1
NFAIL=0
TMO=${DMTCP_MPI_TEST_TIMEOUT:-90}

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
export DMTCP_MPI_TMPDIR=$T/tmp
unset DMTCP_MPI_PROXY DMTCP_MPI_NO_CLIENT DMTCP_MPI_CKPTDIR \
	DMTCP_MPI_COORD_HOST DMTCP_MPI_SECRET DMTCP_MPI_INTERVAL

check() {
	what=$1; shift
	if "$@"; then echo "PASS: restart_preinit: $what"; else
		echo "FAIL: restart_preinit: $what"; NFAIL=$((NFAIL + 1)); fi
}

# The ranks' files are the native run's.
same_files() {
	cmp -s "$T/ref/out.0" "$T/run/out.0" && cmp -s "$T/ref/out.1" "$T/run/out.1"
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
	echo "SKIP: restart_preinit: needs mpirun.mpich and mpirun.openmpi"
	exit 0
fi
mkdir -p "$T/ref" "$T/run" && mkdir -m 700 "$T/tmp" || exit 1
SRC=$ROOT/tests/ckpt-mpi/restart_preinit.c
"$B/bin/dmtcp_mpicc" -O1 -I"$ROOT" -I"$ROOT/tests/ckpt-mpi" -o "$T/app" "$SRC" &&
	mpicc.mpich -O1 -I"$ROOT" -I"$ROOT/tests/ckpt-mpi" -o "$T/app-native" "$SRC" ||
	{ echo "FAIL: restart_preinit: cannot build $SRC"; exit 1; }

timeout "$TMO" mpirun.mpich -n 2 "$T/app-native" "$T/ref" >/dev/null 2>"$T/ref.err"
check "native reference run" [ -s "$T/ref/out.1" ]

timeout 20 "$B/bin/dmtcp_mpi_coordinator" --daemon --port 0 --port-file "$T/port" \
	--ckptdir "$T/ck" --timeout 30 || { echo "FAIL: restart_preinit: no coordinator"; exit 1; }
export DMTCP_MPI_COORD_PORT="$(cat "$T/port")"
cmd() { timeout 120 "$B/bin/dmtcp_mpi_command" "$@"; }
COORD_PID=$(cmd --status | sed -n 's/^pid=//p')

timeout "$TMO" mpirun.mpich -n 2 "$B/bin/dmtcp_mpi" "$T/app" "$T/run" \
	>"$T/run.stdout" 2>"$T/run.stderr" &
job=$!
n=1200
while { [ ! -f "$T/run/before.0" ] || [ ! -f "$T/run/before.1" ] ||
	! cmd --status | grep -qx 'ranks=2/2 connected'; } && [ $n -gt 0 ]; do
	sleep 0.1; n=$((n - 1))
done
ck=$(cmd --checkpoint 2>"$T/cmd.err")
touch "$T/run/done"
wait $job
rc=$?
check "the checkpointed job ended normally (exit $rc)" [ $rc -eq 0 ]
check "... with the files of the native run" same_files
check "MPICH job checkpointed before MPI_Init" [ -n "$ck" -a -f "$ck/rank1.img" ]
[ -n "$ck" ] || { sed 's/^/    | /' "$T/cmd.err" "$T/run.stderr" | head -n 10; exit "$NFAIL"; }

for mpi in openmpi mpich; do
	rm -f "$T/run/out.0" "$T/run/out.1"
	timeout "$TMO" "mpirun.$mpi" -n 2 "$B/bin/dmtcp_mpi_restart" "$ck" \
		>"$T/$mpi.stdout" 2>"$T/$mpi.stderr" </dev/null
	rc=$?
	check "restart under $mpi ends normally (exit $rc)" [ $rc -eq 0 ]
	check "... files identical to the native run's" same_files
	if [ -s "$T/$mpi.stderr" ]; then
		check "restart ($mpi) printed nothing on stderr" false
		sed 's/^/    | /' "$T/$mpi.stderr" | head -n 10
	fi
done
echo "restart_preinit: $NFAIL failed"
exit "$NFAIL"
