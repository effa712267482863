#!/bin/sh
# restart_drainfail.sh - a checkpoint that fails during DRAIN, after a
# rank drained messages, leaves the job running as if it had not been
# tried.  restart_drainfail.c is checkpointed four times, under both
# MPIs and two faults (shim/ckpt.c):
#   drain-fail       the first DRAIN round of a process that took
#                    messages reports a failure after taking them;
#   drain-fail-late  the same, and rank 1 starts its DRAIN 0.3 s late,
#                    so the info of its Issend reaches rank 0 after rank 0
#                    failed the checkpoint (as from a rank that stopped
#                    answering during DRAIN).
# The checkpoints: with nothing in flight (must succeed), with receives
# pending and messages in flight both ways (must fail in DRAIN), once
# both ranks have posted every receive of that step (must succeed: with
# drain-fail-late rank 1 waits for its Issend's acknowledgement until
# then), and with messages in flight again (must succeed).  The failure
# must leave the previous checkpoint as it was (`latest`, manifest and
# images byte for byte, no .tmp left); the job must end as a native run
# does (every message once, in order, intact; the Issend complete only
# after its receive was posted); the first, the third and the fourth
# checkpoints must restart (under the other MPI, the same, the other)
# and print the native run's lines from their step on.  Without the
# infos' sweep (shim/ckpt.c sweep_infos) rank 1 waited for ever under
# drain-fail-late: every later checkpoint failed in TARGETS (rank 0 in a
# Barrier rank 1 could reach only once its Issend completed).  The
# sweeps run from the failed checkpoint's RESUME until a DRAIN ends
# (shim/ckpt.c infos_astray): with DMTCP_MPI_VERBOSE=1 the ranks must
# say they swept, and the last checkpoint, after a good one, must not.
#
#   sh tests/ckpt-mpi/restart_drainfail.sh [BUILD_DIR]
#
# DRAINFAIL_FAULTS (default "drain-fail drain-fail-late") picks the
# faults.  About 35 s.
set -u

NAME=restart_drainfail
B=${1:-${B:-build}}
TMO=120
. "$(dirname -- "$0")/restart_env.sh"

NSTEPS=3

timeout "$TMO" mpirun.mpich -n 2 "$T/app-native" "$T/ref" >"$T/ref.out" 2>"$T/ref.err"
check "native reference run" [ "$(grep -c ': ok$' "$T/ref.out")" -eq $((2 * NSTEPS)) ]

start_coord 20

# from_step K FILE: the lines of steps K and later, sorted.
from_step() {
	awk -v k="$1" '$1 == "step" && $2 >= k' "$2" | sort
}

# sums CKPT: the checksum of every file of checkpoint CKPT.
sums() {
	(cd "$1" && sha256sum ./*)
}

# restart CKPT MPI STEP ID: restart CKPT under MPI; it must print the
# native run's lines from STEP on.
restart() {
	out=$T/restart.$4
	timeout "$TMO" "mpirun.$2" -n 2 "$B/bin/dmtcp_mpi_restart" "$1" >"$out.out" 2>"$out.err"
	rc=$?
	check "... restarted under $2 (exit $rc)" [ $rc -eq 0 ]
	check "... prints the native run's lines from step $3 on" \
		[ "$(from_step "$3" "$out.out")" = "$(from_step "$3" "$T/ref.out")" ]
	grep -v ': ok$' "$out.out" | sed 's/^/    | /' | head -10
	if grep -q '^dmtcp_mpi: error' "$out.err"; then
		check "... prints no errors" false
		sed 's/^/    | /' "$out.err" | head -10
	fi
}

# checkpoint NAME: ask for one; its directory is in T/ck.NAME (empty if
# it failed), the command's errors in T/cmd.NAME.
checkpoint() {
	cmd --checkpoint >"$T/ck.$1" 2>"$T/cmd.$1"
}
ck_of() { cat "$T/ck.$1" 2>/dev/null; }

for fault in ${DRAINFAIL_FAULTS:-drain-fail drain-fail-late}; do
for mpi in mpich openmpi; do
	id=$fault.$mpi
	run=$T/run.$id
	mkdir -p "$run"
	DMTCP_MPI_VERBOSE=1 DMTCP_MPI_FAULT=$fault timeout "$TMO" "mpirun.$mpi" -n 2 \
		"$B/bin/dmtcp_mpi" "$T/app" "$run" >"$run.out" 2>"$run.err" &
	job=$!
	while :; do
		wait_file "$run/ready.0.0" 60 && wait_file "$run/ready.0.1" 10 || break
		checkpoint "$id.0"
		check "$id: the checkpoint with nothing in flight succeeds" [ -n "$(ck_of "$id.0")" ]
		[ -n "$(ck_of "$id.0")" ] && sums "$(ck_of "$id.0")" >"$T/sums.$id"
		touch "$run/over.0"

		wait_file "$run/ready.1.0" 60 && wait_file "$run/ready.1.1" 10 || break
		checkpoint "$id.1"
		check "$id: the checkpoint with messages in flight fails in DRAIN" \
			sh -c "[ -z '$(ck_of "$id.1")' ] && grep -q 'could not drain' '$T/cmd.$id.1'"
		first=$(ck_of "$id.0")
		check "... latest still names the first checkpoint" \
			[ "$(readlink -f "$T/ck/latest")" = "$(readlink -f "$first")" ]
		check "... whose files are unchanged" [ "$(sums "$first")" = "$(cat "$T/sums.$id")" ]
		check "... and no partial checkpoint is left" \
			[ -z "$(find "$T/ck" -maxdepth 1 -name '*.tmp')" ]
		touch "$run/over.1"

		wait_file "$run/waited.1.0" 60 || break
		sleep 0.3 # rank 0 into its Barrier
		checkpoint "$id.r"
		check "$id: a checkpoint once the receives are posted succeeds" [ -n "$(ck_of "$id.r")" ]
		wait_file "$run/took.1.0" 30 && wait_file "$run/took.1.1" 10
		check "... and rank 1's Issend completes" [ -f "$run/took.1.1" ]
		touch "$run/rescued"

		wait_file "$run/ready.2.0" 60 && wait_file "$run/ready.2.1" 10 || break
		swept=$(grep -c 'sweeps for infos' "$run.err")
		checkpoint "$id.2"
		check "$id: the next checkpoint, messages in flight again, succeeds" \
			[ -n "$(ck_of "$id.2")" ]
		check "... the ranks swept for infos after the failure ($swept times)" [ "$swept" -gt 0 ]
		check "... and not in this checkpoint, after a good one" \
			[ "$(grep -c 'sweeps for infos' "$run.err")" -eq "$swept" ]
		touch "$run/over.2"
		break
	done
	wait $job
	rc=$?
	for p in $(pgrep -f -- "$run"); do kill -KILL "$p" 2>/dev/null; done
	check "$id: the job ends normally (exit $rc)" [ $rc -eq 0 ]
	check "... its output is the native run's" [ "$(from_step 0 "$run.out")" = "$(from_step 0 "$T/ref.out")" ]
	# drain-fail-late fired: rank 0 took rank 1's info after the failure.
	[ "$fault" = drain-fail-late ] &&
		check "... rank 0 took an info the failed checkpoint left in flight" \
			grep -q 'rank 0: took [0-9]* synchronous sends. infos' "$run.err"
	grep -v ': ok$' "$run.out" | sed 's/^/    | /' | head -10
	grep '^dmtcp_mpi: error' "$run.err" | grep -v 'could not drain' | sed 's/^/    | /' | head -5

	other=$(other_mpi "$mpi")
	for k in 0 r 2; do
		ck=$(ck_of "$id.$k")
		[ -n "$ck" ] || continue
		case $k in 0) to=$other s=0 ;; r) to=$mpi s=1 ;; 2) to=$other s=2 ;; esac
		echo "$id: checkpoint $k"
		restart "$ck" "$to" "$s" "$id.$k"
	done
done
done
echo "$NAME: $NFAIL failed"
exit "$NFAIL"
