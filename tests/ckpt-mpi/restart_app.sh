#!/bin/sh
# restart_app.sh - one 2-rank application across a checkpoint and
# restarts under both MPIs (restart_topo.sh, restart_nbc.sh, ...).
#
#   sh tests/ckpt-mpi/restart_app.sh NAME STEPS [BUILD_DIR]
#
# tests/ckpt-mpi/restart_NAME.c (arguments: DIR STEPS; it appends what
# each rank saw to DIR/out.<rank>; what the apps share is in
# restart_app.h) runs on 2 ranks through dmtcp_mpi
# under MPICH, is checkpointed a quarter of the way (dmtcp_mpi_command
# --checkpoint), runs a little further and is killed.  The checkpoint is
# then restarted under Open MPI and under MPICH; each must end normally
# and leave the per-rank files of a native run that was never
# interrupted.  Each check prints PASS or FAIL; the exit status is the
# number of FAILs.  DMTCP_MPI_TEST_TIMEOUT bounds each run (300 s).
# With RESTART_APP_GO=1 the app picks the moment instead: the checkpoint
# is asked for once it creates DIR/started, and DIR/go is created once
# the coordinator waits in its TARGETS phase (restart_nbc.c).
# RESTART_APP_MPI=openmpi checkpoints under Open MPI instead of MPICH;
# RESTART_APP_SEEN=1: the app must have created DIR/seen by then (it saw
# the moment it aims the checkpoint at: restart_icc.c).
# RESTART_APP_CKPT_MIN_S=S: that checkpoint must end at least S seconds
# after DIR/go (a fault point made it wait: restart_iccmt.sh).
# RESTART_APP_QUIET=1: the checkpointed run may print no dmtcp_mpi error
# but the kill's (restart_freepersist.sh; the restarted runs never may).
# With RESTART_APP_AGAIN=1 each restarted run is checkpointed again: once
# the app creates DIR/again, the checkpoint must succeed, and DIR/again-go
# is created after it (restart_gidroot.c).
set -u

[ $# -ge 2 ] || { echo "usage: $0 NAME STEPS [BUILD_DIR]" >&2; exit 2; }
NAME=restart_$1
STEPS=$2
B=${3:-${B:-build}}
TMO=300
. "$(dirname -- "$0")/restart_env.sh"

# took_at_least S T0: the checkpoint ended at least S seconds after T0
# (date +%s.%N) (RESTART_APP_CKPT_MIN_S).
took_at_least() {
	secs=$(awk -v t0="$2" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.2f", t1 - t0 }')
	check "the checkpoint ended at least $1 s after DIR/go ($secs s)" \
		awk -v s="$secs" -v min="$1" 'BEGIN { exit !(s >= min) }'
}

lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
# wait_lines FILE N SECONDS
wait_lines() {
	n=$(($3 * 10))
	while [ "$(lines "$1")" -lt "$2" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
}

native_ref "$STEPS"
check "native reference run" [ "$(lines "$T/ref/out.1")" -eq "$STEPS" ]

start_coord 30

CK_MPI=${RESTART_APP_MPI:-mpich}
timeout "$TMO" "mpirun.$CK_MPI" -n 2 "$B/bin/dmtcp_mpi" "$T/app" "$T/run" "$STEPS" \
	>"$T/run.stdout" 2>"$T/run.stderr" &
job=$!
if [ -n "${RESTART_APP_GO:-}" ]; then
	# The app picks the moment (restart_nbc.c): once it says it is there
	# (run/started), checkpoint, and let it go on (run/go) only when the
	# coordinator waits in TARGETS.
	wait_file "$T/run/started" 120
	cmd --checkpoint >"$T/ck.path" 2>"$T/cmd.err" &
	ckjob=$!
	n=600
	while ! cmd --status 2>/dev/null | grep -qx 'phase=targets' && [ $n -gt 0 ]; do
		sleep 0.1; n=$((n - 1))
	done
	check "the checkpoint waited in TARGETS for the late rank" [ $n -gt 0 ]
	t_go=$(date +%s.%N)
	touch "$T/run/go"
	wait $ckjob
	ck=$(cat "$T/ck.path")
	if [ -z "$ck" ]; then
		# A checkpoint that failed before its image runs no resume hook
		# (ckpt/ckpt.h): the app would wait RA_WAIT_MS for one.
		fail "$CK_MPI job checkpointed mid-run"
		sed 's/^/    | /' "$T/cmd.err"
		cmd --kill >/dev/null 2>&1
		wait $job 2>/dev/null
		exit "$NFAIL"
	fi
	[ -n "${RESTART_APP_CKPT_MIN_S:-}" ] && took_at_least "$RESTART_APP_CKPT_MIN_S" "$t_go"
else
	wait_lines "$T/run/out.1" $((STEPS / 4)) 120
	ck=$(cmd --checkpoint 2>"$T/cmd.err")
fi
wait_lines "$T/run/out.1" $((STEPS / 4 + 20)) 60
cmd --kill >/dev/null 2>&1
wait $job 2>/dev/null
check "$CK_MPI job checkpointed mid-run" [ -n "$ck" -a -f "$ck/rank1.img" ]
check "the run went on after the checkpoint" [ "$(lines "$T/run/out.1")" -ge $((STEPS / 4 + 20)) ]
check "the killed run had not finished" [ "$(lines "$T/run/out.1")" -lt "$STEPS" ]
[ -n "${RESTART_APP_SEEN:-}" ] &&
	check "the app saw the moment it aimed the checkpoint at" [ -f "$T/run/seen" ]
if [ -n "${RESTART_APP_QUIET:-}" ]; then
	# Apart from the lines the kill that ends it makes.
	grep '^dmtcp_mpi: error' "$T/run.stderr" |
		grep -v 'killed by signal 15\|ended without MPI_Finalize' >"$T/run.errors"
	check "the checkpointed run printed no errors" [ ! -s "$T/run.errors" ]
	sed 's/^/    | /' "$T/run.errors" | head -10
fi
[ -n "$ck" ] || { cat "$T/cmd.err" "$T/run.stderr"; exit "$NFAIL"; }

# again MPI: the restarted run's second checkpoint (RESTART_APP_AGAIN).
again() {
	wait_file "$T/run/again" 120
	ck2=$(cmd --checkpoint 2>>"$T/cmd.err")
	touch "$T/run/again-go"
	check "the run restarted under $1 checkpointed again" [ -n "$ck2" ]
}

for mpi in openmpi mpich; do
	rm -f "$T/run/again" "$T/run/again-go"
	timeout "$TMO" "mpirun.$mpi" -n 2 "$B/bin/dmtcp_mpi_restart" "$ck" \
		>"$T/$mpi.stdout" 2>"$T/$mpi.stderr" &
	rjob=$!
	[ -n "${RESTART_APP_AGAIN:-}" ] && again "$mpi"
	wait $rjob
	rc=$?
	check "restart under $mpi ends normally (exit $rc)" [ $rc -eq 0 ]
	check "... output identical to the uninterrupted native run" same_as_ref "$T/run" 2
	if grep -q '^dmtcp_mpi: error' "$T/$mpi.stderr"; then
		check "restart ($mpi) printed no errors" false
		sed 's/^/    | /' "$T/$mpi.stderr" | head -10
	fi
done
echo "$NAME: $NFAIL failed"
exit "$NFAIL"
