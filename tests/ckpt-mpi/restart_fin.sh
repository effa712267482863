#!/bin/sh
# restart_fin.sh - a checkpoint while one rank is inside MPI_Finalize and
# the other still computes, taken under each MPI and restarted under the
# other.
#
#   sh tests/ckpt-mpi/restart_fin.sh [BUILD_DIR]
#
# restart_fin.c: rank 0 calls MPI_Finalize (and creates DIR/started just
# before) while rank 1 waits, outside MPI, for DIR/go.  Two seconds later
# the checkpoint is asked for; it must wait in TARGETS (rank 0 waits in
# the Barrier that begins MPI_Finalize, shim/env.c, and rank 1 is behind
# by it), and DIR/go is created then: rank 1 computes on and calls
# MPI_Finalize itself.  The checkpoint must succeed, with both ranks held
# before the real MPI_Finalize; the job must end normally with the files
# of a native run that was never interrupted, and so must a restart of
# the checkpoint under the other MPI.  Before the Barrier every such
# checkpoint failed: rank 0's proxy, inside the real MPI_Finalize, never
# answered PARK.  Each check prints PASS or FAIL; the
# exit status is the number of FAILs.  DMTCP_MPI_TEST_TIMEOUT bounds each
# run (300 s).  About 40 s.
set -u

NAME=restart_fin
STEPS=200
B=${1:-${B:-build}}
TMO=300
. "$(dirname -- "$0")/restart_env.sh"

show_errors() { grep -h '^dmtcp_mpi: error' "$@" | head -5 | sed 's/^/    | /'; }

native_ref "$STEPS"
check "native reference run" grep -q "rank 1 finalized: 0" "$T/ref/out.1"

start_coord 30
in_targets() { cmd --status 2>/dev/null | grep -qx 'phase=targets'; }

# one CK_MPI RESTART_MPI: checkpoint under one, restart under the other.
one() {
	run=$T/run-$1
	mkdir -p "$run"
	timeout "$TMO" "mpirun.$1" -n 2 "$B/bin/dmtcp_mpi" "$T/app" "$run" "$STEPS" \
		>"$T/$1.stdout" 2>"$T/$1.stderr" &
	job=$!
	wait_file "$run/started" 120
	sleep 2 # rank 0 into MPI_Finalize meanwhile
	cmd --checkpoint >"$T/ck.path" 2>"$T/cmd.err" &
	ckjob=$!
	n=300
	while cmd --status 2>/dev/null | grep -Eqx 'phase=(idle|intent)' && [ $n -gt 0 ]; do
		sleep 0.1; n=$((n - 1))
	done
	check "$1: the checkpoint waits in TARGETS for rank 1 to reach MPI_Finalize" in_targets
	touch "$run/go"
	wait $ckjob
	ck=$(cat "$T/ck.path")
	wait $job
	rc=$?
	check "$1: checkpoint with rank 0 in MPI_Finalize" [ -n "$ck" -a -f "$ck/rank1.img" ]
	check "$1: the job ends normally (exit $rc)" [ $rc -eq 0 ]
	check "$1: ... output identical to the uninterrupted native run" same_as_ref "$run" 2
	show_errors "$T/$1.stderr" "$T/cmd.err"
	[ -n "$ck" ] || return
	timeout "$TMO" "mpirun.$2" -n 2 "$B/bin/dmtcp_mpi_restart" "$ck" \
		>"$T/$2.stdout" 2>"$T/$2.stderr"
	rc=$?
	check "$1 checkpoint restarted under $2 ends normally (exit $rc)" [ $rc -eq 0 ]
	check "... output identical to the uninterrupted native run" same_as_ref "$run" 2
	show_errors "$T/$2.stderr"
}

one mpich openmpi
one openmpi mpich
echo "$NAME: $NFAIL failed"
exit "$NFAIL"
