#!/bin/sh
# stress.sh - checkpoints of a job with thousands of messages in flight,
# restarted under the other MPI: nothing lost, duplicated or reordered.
#
#   sh tests/ckpt-mpi/stress.sh [BUILD_DIR]
#   (STRESS_SEED replays a run; STRESS_STEPS, default 150; STRESS_NP3=0
#   skips the 3-rank run; CKMPI_KEEP=1 keeps the scratch directory)
#
# stress.c (see its header) keeps five batches of eager and rendezvous
# messages in flight on four communicators, with wildcard receives,
# Irecvs posted long before and Isends not yet matched.  Run on 2 ranks
# under MPICH through dmtcp_mpi, it is checkpointed at three random
# steps (the seed is printed), then killed; the last checkpoint is
# restarted under Open MPI and the first under MPICH, each to the end,
# and the per-stream counts and hashes of everything received must equal
# those of an uninterrupted native run.  Then the same on 3 ranks with one
# checkpoint, restarted under Open MPI.  Each check prints PASS or FAIL;
# the exit status is the number of FAILs.
set -u
NAME=stress
. "$(dirname -- "$0")/lib.sh"
lib_setup "${1:-${B:-build}}" 60

SEED=${STRESS_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
STEPS=${STRESS_STEPS:-150}
PAUSE=20
LAG=5
echo "$NAME: seed $SEED (STRESS_SEED=$SEED replays it)"

# run_with_checkpoints NP MPIRUN DIR STEP... : start the job under MPIRUN,
# checkpoint it once every rank began each STEP, then kill it.  Writes
# the checkpoint directories, one a line, to DIR.ckpts.
run_with_checkpoints() {
	np=$1 mpirun=$2 dir=$3; shift 3
	rm -rf "$dir"
	mkdir -p "$dir"
	: >"$dir.ckpts"
	timeout 300 "$mpirun" -n "$np" "$B/bin/dmtcp_mpi" "$T/stress" "$dir" \
		"$STEPS" "$PAUSE" >"$dir.stdout" 2>"$dir.stderr" &
	job=$!
	wait_registered "$np" 60
	for at in "$@"; do
		wait_step "$dir" "$at" 120
		echo "$NAME: checkpoint at step $(step_of "$dir") (asked $at)"
		cmd --checkpoint >>"$dir.ckpts" 2>>"$T/cmd.err"
	done
	wait_step "$dir" $((at + 3)) 60
	cmd --kill >/dev/null 2>&1
	wait $job 2>/dev/null
}

# restart_to_end NP MPIRUN CKPT DIR NAME: restart and wait for the end.
restart_to_end() {
	timeout 300 "$2" -n "$1" "$B/bin/dmtcp_mpi_restart" "$3" \
		>"$T/$5.stdout" 2>"$T/$5.stderr"
	rc=$?
	check "$5: restart ends normally (exit $rc)" [ $rc -eq 0 ]
	check "... all $1 ranks finished" [ "$(grep -c "of $1 done" "$T/$5.stdout")" -eq "$1" ]
	check "... every stream identical to the uninterrupted native run" same_as_ref "$4" "$1"
	if ! same_as_ref "$4" "$1"; then
		show_diff "$4" "$1"
		grep -h '^stress (rank' "$4.stderr" "$T/$5.stderr" | head -5 | sed 's/^/    /'
	fi
	if grep -q '^dmtcp_mpi: error' "$T/$5.stderr"; then
		fail "$5: restart printed errors"
		sed 's/^/    | /' "$T/$5.stderr" | head -10
	fi
}

native_ref 2 "$STEPS" "$PAUSE"
set -- $(random_steps 3 $((LAG + 2)) $((STEPS * 3 / 4)))
run_with_checkpoints 2 mpirun.mpich "$T/run" "$@"
first=$(sed -n 1p "$T/run.ckpts")
last=$(sed -n '$p' "$T/run.ckpts")
check "three checkpoints of the MPICH job" [ "$(grep -c . "$T/run.ckpts")" -eq 3 ]
check "... latest is the last of them" [ "$(readlink -f "$T/ck/latest")" = "$(readlink -f "${last:-/none}")" ]
check "... the killed job had not finished" [ ! -f "$T/run/out.0" ]
[ -n "$last" ] || { cat "$T/cmd.err" "$T/run.stderr" | head -20; exit "$NFAIL"; }
restart_to_end 2 mpirun.openmpi "$last" "$T/run" last-openmpi
rm -f "$T"/run/out.*
restart_to_end 2 mpirun.mpich "$first" "$T/run" first-mpich

if [ "${STRESS_NP3:-1}" != 0 ]; then
	native_ref 3 "$STEPS" "$PAUSE"
	set -- $(random_steps 1 $((LAG + 2)) $((STEPS / 2)))
	run_with_checkpoints 3 mpirun.mpich "$T/run3" "$@"
	ck=$(sed -n 1p "$T/run3.ckpts")
	check "3 ranks: checkpointed" [ -n "$ck" -a -f "$ck/rank2.img" ]
	[ -n "$ck" ] && restart_to_end 3 mpirun.openmpi "$ck" "$T/run3" np3-openmpi
fi
check "no process left behind" no_leftovers

echo "$NAME: $NFAIL failed"
exit "$NFAIL"
