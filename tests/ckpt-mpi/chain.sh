#!/bin/sh
# chain.sh - five generations of checkpoint, kill and restart, alternating
# MPICH and Open MPI, end with the output of an uninterrupted run.
#
#   sh tests/ckpt-mpi/chain.sh [BUILD_DIR]
#   (CHAIN_SEED replays a run; CKMPI_KEEP=1 keeps the scratch directory)
#
# The 2-rank stress job (stress.c: thousands of messages in flight) starts
# under MPICH and is checkpointed at a random step, then killed; that
# checkpoint is restarted under Open MPI, checkpointed further on, killed,
# restarted under MPICH, and so on: five checkpoints, each written by the
# MPI the previous one was restarted under (the manifests say which).  The
# last restart runs to the end, and every stream must be what a native
# run received.  Each check prints PASS or FAIL; the exit status is the
# number of FAILs.
set -u
NAME=chain
. "$(dirname -- "$0")/lib.sh"
lib_setup "${1:-${B:-build}}" 60

SEED=${CHAIN_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
STEPS=150
PAUSE=20
GENS=5
echo "$NAME: seed $SEED (CHAIN_SEED=$SEED replays it)"
native_ref 2 "$STEPS" "$PAUSE"


# generation G MPI AT CMD...: run CMD under mpirun.MPI until every rank
# began step AT, checkpoint, kill.  Prints the checkpoint directory.
generation() {
	g=$1 mpi=$2 at=$3; shift 3
	timeout 300 "mpirun.$mpi" -n 2 "$@" >"$T/gen$g.stdout" 2>"$T/gen$g.stderr" &
	job=$!
	wait_registered 2 60
	wait_step "$T/run" "$at" 120
	echo "$NAME: generation $g ($mpi) checkpointed at step $(step_of "$T/run")" >&2
	cmd --checkpoint 2>>"$T/cmd.err"
	cmd --kill >/dev/null 2>&1
	wait $job 2>/dev/null
}

mkdir -p "$T/run"
seg=$(((STEPS - 20) / GENS))
mpi=mpich
ck=
g=0
while [ $g -lt $GENS ]; do
	at=$(SEED=$((SEED + g)) random_steps 1 $((10 + g * seg)) $((10 + (g + 1) * seg)))
	if [ $g -eq 0 ]; then
		ck=$(generation $g $mpi "$at" "$B/bin/dmtcp_mpi" "$T/stress" "$T/run" "$STEPS" "$PAUSE")
	else
		ck=$(generation $g $mpi "$at" "$B/bin/dmtcp_mpi_restart" "$ck")
	fi
	check "generation $g under $mpi checkpointed" [ -n "$ck" -a -f "$ck/rank1.img" ]
	[ -n "$ck" ] || { sed 's/^/    | /' "$T/cmd.err" "$T/gen$g.stderr" | head -20; exit "$NFAIL"; }
	check "... its manifest says mpi=$mpi" grep -qx "mpi=$mpi" "$ck/manifest"
	mpi=$(other_mpi $mpi)
	g=$((g + 1))
done
check "no generation finished the job" [ ! -f "$T/run/out.0" ]

timeout 300 "mpirun.$mpi" -n 2 "$B/bin/dmtcp_mpi_restart" "$ck" >"$T/last.stdout" 2>"$T/last.stderr"
rc=$?
check "restart of generation $GENS under $mpi ends normally (exit $rc)" [ $rc -eq 0 ]
check "... every stream identical to the uninterrupted native run" same_as_ref "$T/run" 2
if ! same_as_ref "$T/run" 2; then
	show_diff "$T/run" 2
	grep -h '^stress (rank' "$T"/gen*.stderr "$T/last.stderr" | head -5 | sed 's/^/    /'
fi
if grep -q '^dmtcp_mpi: error' "$T/last.stderr"; then
	fail "the last restart printed errors"
	grep '^dmtcp_mpi: error' "$T/last.stderr" | head -5 | sed 's/^/    | /'
fi
check "no process left behind" no_leftovers

echo "$NAME: $NFAIL failed"
exit "$NFAIL"
