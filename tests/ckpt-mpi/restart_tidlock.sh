#!/bin/sh
# restart_tidlock.sh - the application's recursive and error-checking
# glibc mutexes and a write-locked rwlock, held by its threads at a
# checkpoint, after one restart and after a restart of a restarted job.
#
#   sh tests/ckpt-mpi/restart_tidlock.sh [BUILD_DIR]
#
# restart_tidlock.c says what is held and how it is checked.  Such a
# mutex knows its owner by kernel thread id, which a restart changes;
# ckpt/mutexown.c gives a restored thread back the locks it held under
# its old tids.  Without it each owner's timed lock ran out, the
# condition wait said EPERM and the rwlock stayed write-locked.  For each MPI: a job checkpointed (1) and killed;
# (1) restarted under the other MPI, checkpointed again (2) and killed;
# then (1) restarted under the other MPI and (2) under the first run to
# the end, and must print what a native run prints.  About 60 s.
set -u

NAME=restart_tidlock
B=${1:-${B:-build}}
TMO=90
. "$(dirname -- "$0")/restart_env.sh"

NLINES=10
timeout "$TMO" mpirun.mpich -n 2 "$T/app-native" "$T/ref" 2>"$T/ref.err" | sort >"$T/ref.out"
check "native reference run" [ "$(grep -c ': ok$' "$T/ref.out")" -eq $NLINES ]

start_coord 30

# checkpoint_kill WHAT JOB_PID: checkpoint the running job, kill it; the
# checkpoint directory is printed.
checkpoint_kill() {
	ck=$(cmd --checkpoint 2>>"$T/cmd.err")
	cmd --kill >/dev/null 2>&1
	wait "$2" 2>/dev/null
	check "$1 checkpointed" [ -n "$ck" ]
	echo "$ck" >"$T/last_ck"
}

# finish MPI CK WHAT: restart CK under MPI to the end; judge its lines.
finish() {
	out=$T/finish.$1.$(basename "$2")
	timeout "$TMO" "mpirun.$1" -n 2 "$B/bin/dmtcp_mpi_restart" "$2" >"$out.out" 2>"$out.err"
	rc=$?
	check "$3 (exit $rc; 124: hung)" [ $rc -eq 0 ]
	check "... every owner takes and releases its lock again" \
		[ "$(sort "$out.out")" = "$(cat "$T/ref.out")" ]
	grep -v ': ok$' "$out.out" | sed 's/^/    | /'
	if grep -q '^dmtcp_mpi: error' "$out.err"; then
		check "... prints no errors" false
		sed 's/^/    | /' "$out.err" | head -10
	fi
}

for mpi in mpich openmpi; do
	to=$(other_mpi "$mpi")
	run=$T/run.$mpi
	mkdir -p "$run"
	timeout "$TMO" "mpirun.$mpi" -n 2 "$B/bin/dmtcp_mpi" "$T/app" "$run" \
		>"$T/$mpi.out" 2>"$T/$mpi.err" &
	job=$!
	wait_file "$run/started" 60
	checkpoint_kill "$mpi: the job, its threads holding their locks," $job
	ck1=$(cat "$T/last_ck")
	[ -n "$ck1" ] || continue

	rm -f "$run/again"
	timeout "$TMO" "mpirun.$to" -n 2 "$B/bin/dmtcp_mpi_restart" "$ck1" \
		>"$T/again.$mpi.out" 2>"$T/again.$mpi.err" &
	job=$!
	# The restart hook says "again" before the client is back.
	wait_file "$run/again" 60 && wait_registered 2 60
	checkpoint_kill "... restarted under $to, still holding them," $job
	ck2=$(cat "$T/last_ck")

	touch "$run/check"
	finish "$to" "$ck1" "$mpi checkpoint restarted under $to"
	[ -n "$ck2" ] && finish "$mpi" "$ck2" "... its restart's checkpoint restarted under $mpi"
done
echo "$NAME: $NFAIL failed"
exit "$NFAIL"
