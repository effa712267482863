#!/bin/sh
# restart_ring.sh - a real MPI job checkpointed, killed and restarted,
# under the other MPI and under the same one, and a chain of restarts.
#
#   sh tests/ckpt-mpi/restart_ring.sh [BUILD_DIR]
#   (RESTART_RING_STEPS: steps of the job, default 400; RESTART_RING_KEEP=1
#   keeps the scratch directory for a look after a failure;
#   DMTCP_MPI_TEST_TIMEOUT bounds each run, default 300 s)
#
# restart_ring.c runs on 2 ranks through dmtcp_mpi under MPICH; it is
# checkpointed in the middle (dmtcp_mpi_command --checkpoint, while ranks
# wait in Recv/Wait with messages in flight), runs on a little, and is
# killed.  Then
#   mpirun.openmpi -n 2 dmtcp_mpi_restart CKPT    (the other MPI)
#   mpirun.mpich   -n 2 dmtcp_mpi_restart CKPT    (the same one)
# must each end normally with the per-rank files equal to those of a
# native run that was never interrupted.  Last, a chain: the Open MPI
# restart is checkpointed again, killed, and restarted under MPICH.
# Each check prints PASS or FAIL; the exit status is the number of FAILs.
set -u

NAME=restart_ring
B=${1:-${B:-build}}
TMO=300
CKMPI_KEEP=${RESTART_RING_KEEP:-${CKMPI_KEEP:-}}
. "$(dirname -- "$0")/restart_env.sh"
STEPS=${RESTART_RING_STEPS:-400}
start_coord 30

lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
# wait_lines FILE N SECONDS: until FILE has at least N lines.
wait_lines() {
	n=$(($3 * 10))
	while [ "$(lines "$1")" -lt "$2" ] && [ $n -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	[ "$(lines "$1")" -ge "$2" ]
}

# The reference: native MPICH, never interrupted.
native_ref "$STEPS"
check "native reference run" [ $? -eq 0 -a "$(lines "$T/ref/out.1")" -eq "$STEPS" ]

# checkpoint_midway MPIRUN DIR AT WHAT...: start WHAT under MPIRUN
# writing into DIR, checkpoint it once rank 1 has done AT steps, let it
# run a little further, kill it.  Prints the checkpoint directory.
checkpoint_midway() {
	mpirun=$1 dir=$2 at=$3; shift 3
	timeout "$TMO" "$mpirun" -n 2 "$@" >"$dir.stdout" 2>"$dir.stderr" &
	job=$!
	# A restored rank has cut its file back once it is registered.
	wait_registered 2 120
	wait_lines "$dir/out.1" "$at" 120
	cmd --checkpoint 2>>"$T/cmd.err"
	wait_lines "$dir/out.1" $((at + 20)) 60
	cmd --kill >/dev/null 2>&1
	wait $job 2>/dev/null
}

ck1=$(checkpoint_midway mpirun.mpich "$T/run" $((STEPS / 4)) \
	"$B/bin/dmtcp_mpi" "$T/app" "$T/run" "$STEPS")
check "MPICH job checkpointed mid-run" [ -n "$ck1" -a -f "$ck1/rank1.img" ]
check "manifest: 2 ranks of mpich" sh -c "grep -qx nranks=2 '$ck1/manifest' && grep -qx mpi=mpich '$ck1/manifest'"
check "the killed run had not finished" [ "$(lines "$T/run/out.1")" -lt "$STEPS" ]
[ -n "$ck1" ] || { cat "$T/cmd.err" "$T/run.stderr"; exit "$NFAIL"; }

# restart_to_end MPIRUN CKPT NAME: restart and wait for the end.
restart_to_end() {
	timeout "$TMO" "$1" -n 2 "$B/bin/dmtcp_mpi_restart" "$2" >"$T/$3.stdout" 2>"$T/$3.stderr"
}
restart_to_end mpirun.openmpi "$ck1" openmpi; rc=$?
check "restart under Open MPI ends normally (exit $rc)" [ $rc -eq 0 ]
check "... both ranks finished" [ "$(grep -c 'of 2 done' "$T/openmpi.stdout")" -eq 2 ]
check "... output identical to the uninterrupted native run" same_as_ref "$T/run" 2
show_diff "$T/run" 2

restart_to_end mpirun.mpich "$ck1" mpich; rc=$?
check "restart of the same checkpoint under MPICH ends normally (exit $rc)" [ $rc -eq 0 ]
check "... output identical again" same_as_ref "$T/run" 2
show_diff "$T/run" 2

# A chain: the Open MPI restart is checkpointed in its turn.
ck2=$(checkpoint_midway mpirun.openmpi "$T/run" $((STEPS / 2)) \
	"$B/bin/dmtcp_mpi_restart" "$ck1")
check "the restarted job checkpointed again" [ -n "$ck2" -a "$ck2" != "$ck1" -a -f "$ck2/rank0.img" ]
check "manifest of the second: mpi=openmpi" grep -qx mpi=openmpi "$ck2/manifest"
restart_to_end mpirun.mpich "$ck2" chain; rc=$?
check "second-generation restart under MPICH ends normally (exit $rc)" [ $rc -eq 0 ]
check "... output identical to the uninterrupted native run" same_as_ref "$T/run" 2
show_diff "$T/run" 2
for f in openmpi mpich chain; do
	if grep -q '^dmtcp_mpi: error' "$T/$f.stderr"; then
		fail "restart ($f) printed errors"
		sed 's/^/    | /' "$T/$f.stderr" | head -10
	fi
done

echo "$NAME: $NFAIL failed"
exit "$NFAIL"
