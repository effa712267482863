#!/bin/sh
# restart_final.sh - a checkpoint after MPI_Finalize (restart_final.c):
# both ranks are past it, outside MPI, when the checkpoint is taken under
# MPICH; the job must then end normally, and the checkpoint restart under
# Open MPI and under MPICH, each ending normally, printing no error and
# leaving the per-rank files of a native run.  Before the fix the
# checkpoint failed in PARK (the finalized proxies had exited and
# nothing answered), and the restart of such an image would have left
# its new proxies in MPI_Init: the ranks ended before MPI was started.
# The last line sums a large malloc'ed array filled before MPI_Finalize,
# which lives in the channel arena (shim/heap.c): the image must keep it.
# Each check prints PASS or FAIL; the exit status is the number of
# FAILs.  DMTCP_MPI_TEST_TIMEOUT bounds each run (90 s).  About 10 s.
#
#   sh tests/ckpt-mpi/restart_final.sh [BUILD_DIR]
set -u

NAME=restart_final
B=${1:-${B:-build}}
TMO=90
. "$(dirname -- "$0")/restart_env.sh"

native_ref
check "native reference run" [ "$(tail -n 1 "$T/ref/out.1" 2>/dev/null | cut -d, -f1)" = end ]

start_coord 30

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
check "MPICH job checkpointed after MPI_Finalize" [ -n "$ck" -a -f "$ck/rank1.img" ]
[ -n "$ck" ] || { sed 's/^/    | /' "$T/cmd.err" "$T/run.stderr" | head -n 10; exit "$NFAIL"; }

for mpi in openmpi mpich; do
	# The restart must write the last line again itself.
	sed -i '/^end/d' "$T/run/out.0" "$T/run/out.1"
	timeout "$TMO" "mpirun.$mpi" -n 2 "$B/bin/dmtcp_mpi_restart" "$ck" \
		>"$T/$mpi.stdout" 2>"$T/$mpi.stderr" </dev/null
	rc=$?
	check "restart under $mpi ends normally (exit $rc)" [ $rc -eq 0 ]
	check "... output identical to the native run" same_as_ref "$T/run" 2
	if [ -s "$T/$mpi.stderr" ]; then
		check "restart ($mpi) printed nothing on stderr" false
		sed 's/^/    | /' "$T/$mpi.stderr" | head -n 10
	fi
done
echo "$NAME: $NFAIL failed"
exit "$NFAIL"
