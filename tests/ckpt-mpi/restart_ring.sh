#!/bin/sh
# restart_ring.sh - a real MPI job checkpointed, killed and restarted,
# under the other MPI and under the same one, and a chain of restarts.
#
#   sh tests/ckpt-mpi/restart_ring.sh [BUILD_DIR]
#   (RESTART_RING_STEPS: steps of the job, default 400; RESTART_RING_KEEP=1
#   keeps the scratch directory for a look after a failure)
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

ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/../.." && pwd)
B=${1:-${B:-build}}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
T=$(mktemp -d "${TMPDIR:-/tmp}/dmtcp_mpi-restart.XXXXXX") || exit 1
STEPS=${RESTART_RING_STEPS:-400}
NFAIL=0

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
export DMTCP_MPI_TMPDIR=$T/tmp
unset DMTCP_MPI_PROXY DMTCP_MPI_NO_CLIENT DMTCP_MPI_CKPTDIR \
	DMTCP_MPI_COORD_HOST DMTCP_MPI_SECRET DMTCP_MPI_INTERVAL

pass() { echo "PASS: restart_ring: $1"; }
fail() { echo "FAIL: restart_ring: $1"; NFAIL=$((NFAIL + 1)); }
check() {
	what=$1; shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

for f in dmtcp_mpi dmtcp_mpi_restart dmtcp_mpi_coordinator dmtcp_mpi_command dmtcp_mpicc; do
	if [ ! -x "$B/bin/$f" ]; then
		echo "FAIL: restart_ring: not built: $B/bin/$f"
		exit 1
	fi
done
if ! command -v mpirun.mpich >/dev/null || ! command -v mpirun.openmpi >/dev/null; then
	echo "SKIP: restart_ring: needs mpirun.mpich and mpirun.openmpi"
	exit 0
fi

COORD_PID=
cleanup() {
	[ -n "$COORD_PID" ] && kill -TERM "$COORD_PID" 2>/dev/null
	for p in $(pgrep -f "$T/"); do kill -KILL "$p" 2>/dev/null; done
	if [ -n "${RESTART_RING_KEEP:-}" ]; then
		echo "restart_ring: files kept in $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$B/bin/dmtcp_mpicc" -O1 -I"$ROOT" -o "$T/ring" "$ROOT/tests/ckpt-mpi/restart_ring.c" ||
	{ fail "cannot build restart_ring with dmtcp_mpicc"; exit 1; }
mpicc.mpich -O1 -I"$ROOT" -o "$T/ring-native" "$ROOT/tests/ckpt-mpi/restart_ring.c" ||
	{ fail "cannot build restart_ring with mpicc.mpich"; exit 1; }

timeout 20 "$B/bin/dmtcp_mpi_coordinator" --daemon --port 0 \
	--port-file "$T/port" --ckptdir "$T/ck" --timeout 30 ||
	{ fail "cannot start a coordinator"; exit 1; }
PORT=$(cat "$T/port")
export DMTCP_MPI_COORD_PORT=$PORT
cmd() { timeout 120 "$B/bin/dmtcp_mpi_command" "$@"; }
COORD_PID=$(cmd --status | sed -n 's/^pid=//p')

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
# wait_registered SECONDS: until both ranks are registered.
wait_registered() {
	n=$(($1 * 10))
	while ! cmd --status 2>/dev/null | grep -qx 'ranks=2/2 connected' &&
	      [ $n -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
}
same_as_ref() { cmp -s "$T/ref/out.0" "$1/out.0" && cmp -s "$T/ref/out.1" "$1/out.1"; }
show_diff() {
	same_as_ref "$1" && return
	for r in 0 1; do
		diff "$T/ref/out.$r" "$1/out.$r" | head -5 | sed "s/^/    rank $r | /"
	done
}

# The reference: native MPICH, never interrupted.
mkdir -p "$T/ref" "$T/run"
timeout 300 mpirun.mpich -n 2 "$T/ring-native" "$T/ref" "$STEPS" >/dev/null 2>"$T/ref.err"
check "native reference run" [ $? -eq 0 -a "$(lines "$T/ref/out.1")" -eq "$STEPS" ]

# checkpoint_midway MPIRUN DIR AT WHAT...: start WHAT under MPIRUN
# writing into DIR, checkpoint it once rank 1 has done AT steps, let it
# run a little further, kill it.  Prints the checkpoint directory.
checkpoint_midway() {
	mpirun=$1 dir=$2 at=$3; shift 3
	timeout 300 "$mpirun" -n 2 "$@" >"$dir.stdout" 2>"$dir.stderr" &
	job=$!
	# A restored rank has cut its file back once it is registered.
	wait_registered 120
	wait_lines "$dir/out.1" "$at" 120
	cmd --checkpoint 2>>"$T/cmd.err"
	wait_lines "$dir/out.1" $((at + 20)) 60
	cmd --kill >/dev/null 2>&1
	wait $job 2>/dev/null
}

ck1=$(checkpoint_midway mpirun.mpich "$T/run" $((STEPS / 4)) \
	"$B/bin/dmtcp_mpi" "$T/ring" "$T/run" "$STEPS")
check "MPICH job checkpointed mid-run" [ -n "$ck1" -a -f "$ck1/rank1.img" ]
check "manifest: 2 ranks of mpich" sh -c "grep -qx nranks=2 '$ck1/manifest' && grep -qx mpi=mpich '$ck1/manifest'"
check "the killed run had not finished" [ "$(lines "$T/run/out.1")" -lt "$STEPS" ]
[ -n "$ck1" ] || { cat "$T/cmd.err" "$T/run.stderr"; exit "$NFAIL"; }

# restart_to_end MPIRUN CKPT NAME: restart and wait for the end.
restart_to_end() {
	timeout 300 "$1" -n 2 "$B/bin/dmtcp_mpi_restart" "$2" >"$T/$3.stdout" 2>"$T/$3.stderr"
}
restart_to_end mpirun.openmpi "$ck1" openmpi; rc=$?
check "restart under Open MPI ends normally (exit $rc)" [ $rc -eq 0 ]
check "... both ranks finished" [ "$(grep -c 'of 2 done' "$T/openmpi.stdout")" -eq 2 ]
check "... output identical to the uninterrupted native run" same_as_ref "$T/run"
show_diff "$T/run"

restart_to_end mpirun.mpich "$ck1" mpich; rc=$?
check "restart of the same checkpoint under MPICH ends normally (exit $rc)" [ $rc -eq 0 ]
check "... output identical again" same_as_ref "$T/run"
show_diff "$T/run"

# A chain: the Open MPI restart is checkpointed in its turn.
ck2=$(checkpoint_midway mpirun.openmpi "$T/run" $((STEPS / 2)) \
	"$B/bin/dmtcp_mpi_restart" "$ck1")
check "the restarted job checkpointed again" [ -n "$ck2" -a "$ck2" != "$ck1" -a -f "$ck2/rank0.img" ]
check "manifest of the second: mpi=openmpi" grep -qx mpi=openmpi "$ck2/manifest"
restart_to_end mpirun.mpich "$ck2" chain; rc=$?
check "second-generation restart under MPICH ends normally (exit $rc)" [ $rc -eq 0 ]
check "... output identical to the uninterrupted native run" same_as_ref "$T/run"
show_diff "$T/run"
for f in openmpi mpich chain; do
	if grep -q '^dmtcp_mpi: error' "$T/$f.stderr"; then
		fail "restart ($f) printed errors"
		sed 's/^/    | /' "$T/$f.stderr" | head -10
	fi
done

echo "restart_ring: $NFAIL failed"
exit "$NFAIL"
