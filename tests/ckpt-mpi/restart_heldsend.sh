#!/bin/sh
# restart_heldsend.sh - checkpoints with rank 1 inside a blocking call
# whose 1 MiB send rank 0 has not received (MPI_Sendrecv between
# MPI_Alloc_mem blocks and between malloc'ed buffers, Sendrecv_replace,
# Send, Ssend), under both MPIs, each restarted and its data checked.
#
#   sh tests/ckpt-mpi/restart_heldsend.sh [BUILD_DIR]
#
# restart_heldsend.c says how each moment is made.  The jobs run with
# DMTCP_MPI_FAULT=drain-late (proxy/ckpt.c): every proxy's first DRAIN
# finds nothing, so rank 0's first round always ends without the message
# and only a later round can take it.  That is the failure CI met at
# random (mpi-tests/p2p_allocmem, the message arriving just after the
# receiver's first DRAIN): with the send held in rank 1's call slot its
# first round never ended, and each checkpoint failed after the
# coordinator's phase timeout (20 s here).  Each checkpoint must have
# taken at least two DRAIN rounds (the coordinator's log says how many),
# which proves the fault fired: without it the first round takes the
# message and each checkpoint takes one.  One job under MPICH and one
# under Open MPI, one checkpoint per shape; each checkpoint is restarted
# once, under the other MPI for even steps and the same one for odd
# steps, and must print what an uninterrupted native run printed from
# that step on.  About 10 s (8-9 s at load 10).
set -u

NAME=restart_heldsend
B=${1:-${B:-build}}
TMO=120
. "$(dirname -- "$0")/restart_env.sh"

NSHAPES=5

timeout "$TMO" mpirun.mpich -n 2 "$T/app-native" "$T/ref" >"$T/ref.out" 2>"$T/ref.err"
check "native reference run" [ "$(grep -c ': ok$' "$T/ref.out")" -eq $((2 * NSHAPES)) ]

start_coord 20
export DMTCP_MPI_FAULT=drain-late

# from_step K FILE: the lines of steps K and later, sorted (the two
# ranks print in either order).
from_step() {
	awk -v k="$1" '$1 == "step" && $2 >= k' "$2" | sort
}


for mpi in mpich openmpi; do
	run=$T/run.$mpi
	mkdir -p "$run"
	timeout "$TMO" "mpirun.$mpi" -n 2 "$B/bin/dmtcp_mpi" "$T/app" "$run" \
		>"$T/$mpi.out" 2>"$T/$mpi.err" &
	job=$!
	k=0
	while [ $k -lt $NSHAPES ]; do
		wait_file "$run/started.$k" 60
		ck=$(cmd --checkpoint 2>>"$T/cmd.err")
		check "$mpi: checkpoint in step $k" [ -n "$ck" ]
		n=$(drain_rounds "$ck")
		check "... its first DRAIN round missed the message (drain-late): ${n:-no} rounds in all" \
			[ "${n:-0}" -ge 2 ]
		echo "$ck" >"$T/ck.$mpi.$k"
		k=$((k + 1))
	done
	wait $job
	rc=$?
	check "$mpi: the checkpointed job ends normally (exit $rc)" [ $rc -eq 0 ]
	check "... its output is the native run's" [ "$(from_step 0 "$T/$mpi.out")" = "$(from_step 0 "$T/ref.out")" ]
done
unset DMTCP_MPI_FAULT

for mpi in mpich openmpi; do
	k=0
	while [ $k -lt $NSHAPES ]; do
		ck=$(cat "$T/ck.$mpi.$k")
		to=$mpi
		[ $((k % 2)) -eq 0 ] && to=$(other_mpi "$mpi")
		if [ -n "$ck" ]; then
			out=$T/restart.$mpi.$k
			timeout "$TMO" "mpirun.$to" -n 2 "$B/bin/dmtcp_mpi_restart" "$ck" \
				>"$out.out" 2>"$out.err"
			rc=$?
			check "step $k's checkpoint ($mpi) restarted under $to (exit $rc)" [ $rc -eq 0 ]
			check "... prints the native run's lines from step $k on" \
				[ "$(from_step "$k" "$out.out")" = "$(from_step "$k" "$T/ref.out")" ]
			if grep -q '^dmtcp_mpi: error' "$out.err"; then
				check "... prints no errors" false
				sed 's/^/    | /' "$out.err" | head -10
			fi
		fi
		k=$((k + 1))
	done
done
echo "$NAME: $NFAIL failed"
exit "$NFAIL"
