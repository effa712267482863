#!/bin/sh
# restart_fork.sh - checkpoints of ranks that fork in a loop, with a large
# malloc'ed block live, under both MPIs; the last restarted under the
# other MPI.
#
#   sh tests/ckpt-mpi/restart_fork.sh [BUILD_DIR]
#
# restart_fork.c says how the moment is made.  A stop signal that came
# during fork()'s clone was taken with glibc's malloc locks held, and the
# shim's copy of its heap blocks (malloc, other threads stopped) waited
# for them for ever: the rank never answered WRITE and the checkpoint
# failed after the coordinator's phase timeout: 8 of 8 jobs,
# at their 1st to 6th checkpoint, before ckpt/alloc.c kept stops out of
# fork (ckpt_all's chain mode found it in mpi-tests/p2p_heap's fork).
# Per MPI: one job, NCK checkpoints while both ranks fork; then the job
# is let go and must end "forked: ok", and the last checkpoint restarted
# under the other MPI must too.  About 10 s.
set -u

NAME=restart_fork
B=${1:-${B:-build}}
TMO=120
. "$(dirname -- "$0")/restart_env.sh"

NCK=10
start_coord 20

for mpi in mpich openmpi; do
	run=$T/run.$mpi
	mkdir -p "$run"
	timeout "$TMO" "mpirun.$mpi" -n 2 "$B/bin/dmtcp_mpi" "$T/app" "$run" \
		>"$T/$mpi.out" 2>"$T/$mpi.err" &
	job=$!
	wait_file "$run/forking.0" 60 && wait_file "$run/forking.1" 60
	k=0 ck=
	while [ $k -lt $NCK ]; do
		ck=$(cmd --checkpoint 2>>"$T/cmd.err")
		check "$mpi: checkpoint $k while the ranks fork" [ -n "$ck" ]
		k=$((k + 1))
		[ -n "$ck" ] || break
	done
	: >"$run/stop"
	[ -n "$ck" ] || cmd --kill >/dev/null 2>&1 # a rank is stuck for ever
	wait $job
	rc=$?
	check "$mpi: the job ends normally (exit $rc)" [ $rc -eq 0 ]
	check "... and prints forked: ok" [ "$(cat "$T/$mpi.out")" = "forked: ok" ]
	[ -n "$ck" ] || continue
	to=$(other_mpi "$mpi")
	timeout "$TMO" "mpirun.$to" -n 2 "$B/bin/dmtcp_mpi_restart" "$ck" \
		>"$T/rs.$mpi.out" 2>"$T/rs.$mpi.err"
	rc=$?
	check "$mpi's last checkpoint restarted under $to (exit $rc)" [ $rc -eq 0 ]
	check "... prints forked: ok" [ "$(cat "$T/rs.$mpi.out")" = "forked: ok" ]
done
echo "$NAME: $NFAIL failed"
exit "$NFAIL"
