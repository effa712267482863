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

NAME=restart_preinit
B=${1:-${B:-build}}
TMO=90
. "$(dirname -- "$0")/restart_env.sh"

native_ref
check "native reference run" [ -s "$T/ref/out.1" ]

start_coord 30

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
check "... with the files of the native run" same_as_ref "$T/run" 2
check "MPICH job checkpointed before MPI_Init" [ -n "$ck" -a -f "$ck/rank1.img" ]
[ -n "$ck" ] || { sed 's/^/    | /' "$T/cmd.err" "$T/run.stderr" | head -n 10; exit "$NFAIL"; }

for mpi in openmpi mpich; do
	rm -f "$T/run/out.0" "$T/run/out.1"
	timeout "$TMO" "mpirun.$mpi" -n 2 "$B/bin/dmtcp_mpi_restart" "$ck" \
		>"$T/$mpi.stdout" 2>"$T/$mpi.stderr" </dev/null
	rc=$?
	check "restart under $mpi ends normally (exit $rc)" [ $rc -eq 0 ]
	check "... files identical to the native run's" same_as_ref "$T/run" 2
	if [ -s "$T/$mpi.stderr" ]; then
		check "restart ($mpi) printed nothing on stderr" false
		sed 's/^/    | /' "$T/$mpi.stderr" | head -n 10
	fi
done
echo "$NAME: $NFAIL failed"
exit "$NFAIL"
