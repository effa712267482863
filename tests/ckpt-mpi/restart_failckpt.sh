#!/bin/sh
# restart_failckpt.sh - checkpoints that fail while rank 1's synchronous
# send (restart_issend.c's shapes: Issend of 4 bytes and of 1 MiB, Ssend,
# Ssend_init and Start, an Issend behind one a receive matched, and a
# standard Isend seen by Testsome) has no receive posted at rank 0, and
# no checkpoint after them: each job must end as a native run does, every
# send completing only after rank 0 posted its receive.  Two faults,
# under both MPIs:
#   park-fail    (shim/ckpt.c) every rank parks, then reports it could
#                not: the checkpoint fails after PARK, before any DRAIN.
#                PARK had turned the send into a wait for an
#                acknowledgement and sent its receiver the info, which
#                only a DRAIN receives: without shim_ssend_undo and
#                px_ssend_resume the sender waited for ever (this script
#                then fails on the timeout).
#   ckpt-enospc  (ckpt/write.c) every image write fails: the checkpoint
#                fails after DRAIN, which has delivered every info; the
#                acknowledgement protocol finishes at RESUME.
#
#   sh tests/ckpt-mpi/restart_failckpt.sh [BUILD_DIR]
#
# restart_failckpt.c is restart_issend.c built to wait for DIR/over.K,
# which this script creates once the command has returned, instead of a
# resume hook.  About 30 s.
set -u

NAME=restart_failckpt
B=${1:-${B:-build}}
TMO=${DMTCP_MPI_TEST_TIMEOUT:-90}
. "$(dirname -- "$0")/restart_env.sh"

NSHAPES=6

timeout "$TMO" mpirun.mpich -n 2 "$T/app-native" "$T/ref" >"$T/ref.out" 2>"$T/ref.err"
check "native reference run" [ "$(grep -c ': ok$' "$T/ref.out")" -eq $((2 * NSHAPES)) ]
sort "$T/ref.out" >"$T/ref.sorted"

start_coord 20

for fault in park-fail ckpt-enospc; do
	for mpi in mpich openmpi; do
		run=$T/run.$fault.$mpi
		mkdir -p "$run"
		DMTCP_MPI_FAULT=$fault timeout "$TMO" "mpirun.$mpi" -n 2 "$B/bin/dmtcp_mpi" \
			"$T/app" "$run" >"$run.out" 2>"$run.err" &
		job=$!
		k=0
		failed=0
		while [ $k -lt $NSHAPES ]; do
			wait_file "$run/started.$k" 60 || break
			cmd --checkpoint >/dev/null 2>>"$run.cmd" || failed=$((failed + 1))
			touch "$run/over.$k"
			k=$((k + 1))
		done
		check "$fault, $mpi: all $NSHAPES checkpoints fail ($failed did)" [ $failed -eq $NSHAPES ]
		wait $job
		rc=$?
		# A job the timeout ended may leave ranks behind, registered with
		# the coordinator: the next job's checkpoints would wait for them.
		for p in $(pgrep -f -- "$run"); do kill -KILL "$p" 2>/dev/null; done
		check "... the job ends normally (exit $rc)" [ $rc -eq 0 ]
		check "... its output is the native run's" [ "$(sort "$run.out")" = "$(cat "$T/ref.sorted")" ]
		grep -v ': ok$' "$run.out" | sed 's/^/    | /' | head -10
	done
done
echo "$NAME: $NFAIL failed"
exit "$NFAIL"
