#!/bin/sh
# restart_issend.sh - checkpoints while rank 1's synchronous send
# (Issend of 4 bytes and of 1 MiB, Ssend, Ssend_init and Start, and an
# Issend behind one a receive matched) has no receive posted at rank 0,
# under both MPIs, each job going on after its checkpoints and each
# checkpoint restarted once; the send must complete only after rank 0
# posts its receive, 100 ms after the checkpoint.  A last step does the
# same with a standard Isend that rank 1 watches with MPI_Testsome, which
# must report it after a restart too.
#
#   sh tests/ckpt-mpi/restart_issend.sh [BUILD_DIR]
#
# restart_issend.c says how each moment is made.  DRAIN takes the
# message into rank 0's drain queue, and the real send completes then:
# without shim/ssend.c every shape but the matched Issend printed
# "completed before its receive was posted", in the jobs and in their
# restarts.  The MPICH job runs with DMTCP_MPI_FAULT=ssend-unseen
# (proxy/ssend.c): PARK then also takes the Issend a receive matched
# before the checkpoint, as when its completion has not reached the
# sender yet, and rank 0 must acknowledge it at once (it would wait for
# a receive that never comes); with DMTCP_MPI_VERBOSE=1 its shim says
# so, which proves the fault fired (shim_ssend_settle), and it must never
# say it swept for infos a failed checkpoint left (none failed: shim/ckpt.c
# infos_astray).  Without shim_req_sends_done the restarts
# of the last step printed "Testsome never reported it" (the new proxy
# has no such request; Testsome skips it).  Restarts go to the other MPI
# for even steps, the same one for odd steps, and print what an
# uninterrupted native run printed from that step on.  About 20 s.
set -u

NAME=restart_issend
B=${1:-${B:-build}}
TMO=120
. "$(dirname -- "$0")/restart_env.sh"

NSHAPES=6

timeout "$TMO" mpirun.mpich -n 2 "$T/app-native" "$T/ref" >"$T/ref.out" 2>"$T/ref.err"
check "native reference run" [ "$(grep -c ': ok$' "$T/ref.out")" -eq $((2 * NSHAPES)) ]

start_coord 20

# from_step K FILE: the lines of steps K and later, sorted (the two
# ranks print in either order).
from_step() {
	awk -v k="$1" '$1 == "step" && $2 >= k' "$2" | sort
}

for mpi in mpich openmpi; do
	run=$T/run.$mpi
	mkdir -p "$run"
	fault= verbose=
	[ "$mpi" = mpich ] && fault=ssend-unseen verbose=1
	DMTCP_MPI_FAULT=$fault DMTCP_MPI_VERBOSE=$verbose timeout "$TMO" "mpirun.$mpi" -n 2 \
		"$B/bin/dmtcp_mpi" "$T/app" "$run" >"$T/$mpi.out" 2>"$T/$mpi.err" &
	job=$!
	k=0
	while [ $k -lt $NSHAPES ]; do
		wait_file "$run/started.$k" 60
		ck=$(cmd --checkpoint 2>>"$T/cmd.err")
		check "$mpi: checkpoint in step $k" [ -n "$ck" ]
		echo "$ck" >"$T/ck.$mpi.$k"
		k=$((k + 1))
	done
	wait $job
	rc=$?
	check "$mpi: the checkpointed job ends normally (exit $rc)" [ $rc -eq 0 ]
	check "... its output is the native run's" [ "$(from_step 0 "$T/$mpi.out")" = "$(from_step 0 "$T/ref.out")" ]
	grep -v ': ok$' "$T/$mpi.out" | sed 's/^/    | /' | head -10
	[ -n "$fault" ] && check "... rank 0 acknowledged a send PARK took though received (ssend-unseen)" \
		grep -q '^dmtcp_mpi: rank 0: a synchronous send of rank 1 was received before the checkpoint' \
		"$T/$mpi.err"
	[ -n "$verbose" ] && check "... and no rank swept for infos (no checkpoint failed)" \
		sh -c "! grep -q 'sweeps for infos' '$T/$mpi.err'"
done

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
			grep -v ': ok$' "$out.out" | sed 's/^/    | /' | head -10
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
