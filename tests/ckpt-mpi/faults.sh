#!/bin/sh
# faults.sh - faults around a checkpoint of a real 2-rank job, and bad
# restart input.
#
#   sh tests/ckpt-mpi/faults.sh [BUILD_DIR]   (CKMPI_KEEP=1 keeps files)
#
# The job is the stress application (stress.c) through dmtcp_mpi, with
# thousands of messages in flight; the coordinator's phase timeout is 4 s,
# set through DMTCP_MPI_COORD_TIMEOUT.  Each case first takes a good
# checkpoint, then:
#   stopped  rank 1's application is stopped (SIGSTOP) during a
#            checkpoint: it fails after the timeout, latest still names
#            the good one, no directory is left; once continued the job
#            goes on, a later checkpoint succeeds (it did not before the
#            proxy's counters ran on across a failed checkpoint: messages
#            in flight at the failure unbalanced every later drain) and
#            its restart under Open MPI ends as a native run does;
#   killed   rank 1's application is killed during a checkpoint: the
#            checkpoint fails, latest is unchanged, the whole job ends
#            with an error well within the timeout, nothing is left;
#   coord    the coordinator is killed during a checkpoint: the command
#            fails, latest is unchanged, the job runs to its normal end;
#            the half-written directory is no checkpoint to restart;
# and restarts of the good checkpoint with 3 and 1 ranks, with a rank's
# image missing and with one corrupted, each end at once with one error
# line naming what is wrong (the rank and the file).  Each check prints
# PASS or FAIL; the exit status is the number of FAILs.
set -u
NAME=faults
. "$(dirname -- "$0")/lib.sh"
export DMTCP_MPI_COORD_TIMEOUT=4
lib_setup "${1:-${B:-build}}"

STEPS=400
PAUSE=20
native_ref 2 "$STEPS" "$PAUSE"

# app_pid RANK: the pid of that rank's application process.
app_pid() {
	for p in $(pgrep -f "^$T/stress "); do
		if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "DMTCP_MPI_RANK=$1"; then
			echo "$p"
			return
		fi
	done
}

# start_job DIR: the job under MPICH, registered and past step 8.
start_job() {
	rm -rf "$1"
	mkdir -p "$1"
	timeout 300 mpirun.mpich -n 2 "$B/bin/dmtcp_mpi" "$T/stress" "$1" "$STEPS" \
		"$PAUSE" >"$1.stdout" 2>"$1.stderr" &
	JOB=$!
	wait_registered 2 60
	wait_step "$1" 8 120
}

latest() { readlink -f "$T/ck/latest" 2>/dev/null; }
no_tmp_dirs() { [ -z "$(ls -d "$T"/ck/*.tmp 2>/dev/null)" ]; }

# good_checkpoint WHAT: a checkpoint that must succeed; sets GOOD.
good_checkpoint() {
	GOOD=$(cmd --checkpoint 2>>"$T/cmd.err")
	check "$1: checkpoint succeeds" [ -n "$GOOD" -a "$(latest)" = "$(readlink -f "${GOOD:-/x}")" ]
}

# ---- a stopped rank: the checkpoint fails, the job goes on ----
start_job "$T/stopped"
good_checkpoint "stopped"
good=$GOOD
p1=$(app_pid 1)
kill -STOP "$p1"
t0=$(date +%s)
cmd --checkpoint >/dev/null 2>"$T/stopped.cmd"
rc=$?
check "stopped: the checkpoint fails (exit $rc) within the timeout" \
	[ $rc -ne 0 -a $(($(date +%s) - t0)) -lt 30 ]
check "... and says rank 1 did not answer" grep -q 'rank 1 .*did not answer' "$T/stopped.cmd"
check "... latest still names the good checkpoint" [ "$(latest)" = "$(readlink -f "$good")" ]
check "... no half-written directory is left" no_tmp_dirs
kill -CONT "$p1"
wait_step "$T/stopped" $(($(step_of "$T/stopped") + 10)) 120
good_checkpoint "stopped: after SIGCONT, a later"
later=$GOOD
cmd --kill >/dev/null 2>&1
wait "$JOB" 2>/dev/null
if [ -n "$later" ]; then
	timeout 300 mpirun.openmpi -n 2 "$B/bin/dmtcp_mpi_restart" "$later" \
		>"$T/stopped-restart.stdout" 2>"$T/stopped-restart.stderr"
	rc=$?
	check "... its restart under Open MPI ends normally (exit $rc)" [ $rc -eq 0 ]
	check "... with the output of the native run" same_as_ref "$T/stopped" 2
fi

# ---- a rank killed during a checkpoint: the job ends ----
start_job "$T/killed"
good_checkpoint "killed"
good=$GOOD
p1=$(app_pid 1)
kill -STOP "$p1"
cmd --checkpoint >/dev/null 2>"$T/killed.cmd" &
ck=$!
sleep 1
t0=$(date +%s)
kill -KILL "$p1"
wait "$JOB"
rc=$?
check "killed: the job ends with an error (exit $rc) within 30 s" \
	[ $rc -ne 0 -a $rc -ne 124 -a $(($(date +%s) - t0)) -lt 30 ]
wait "$ck"
check "... the checkpoint command fails" [ $? -ne 0 ]
check "... latest still names the good checkpoint" [ "$(latest)" = "$(readlink -f "$good")" ]
check "... no half-written directory is left" no_tmp_dirs
check "... no process of the job is left" no_leftovers

# ---- the coordinator killed during a checkpoint: the job goes on ----
start_job "$T/coord"
good_checkpoint "coord"
good=$GOOD
p1=$(app_pid 1)
kill -STOP "$p1"
cmd --checkpoint >/dev/null 2>"$T/coord.cmd" &
ck=$!
sleep 1
kill -KILL "$COORD_PID"
COORD_PID=
kill -CONT "$p1"
wait "$ck"
check "coord: the checkpoint command fails" [ $? -ne 0 ]
wait "$JOB"
rc=$?
check "... the job runs to its end (exit $rc)" [ $rc -eq 0 ]
check "... with the output of the native run" same_as_ref "$T/coord" 2
check "... latest still names the good checkpoint" [ "$(latest)" = "$(readlink -f "$good")" ]
half=$(ls -d "$T"/ck/*.tmp 2>/dev/null | head -1)
if [ -n "$half" ]; then
	timeout 60 mpirun.mpich -n 2 "$B/bin/dmtcp_mpi_restart" "$half" >/dev/null 2>"$T/half.err"
	check "... its half-written directory cannot be restarted" [ $? -ne 0 ]
	check "... and the error names it" grep -q "cannot restart ($half" "$T/half.err"
fi
start_coord

# ---- bad restart input: one line, nothing started ----
# bad_restart WHAT MPI NP CKPT PATTERN: fails fast, one error matching.
bad_restart() {
	t0=$(date +%s)
	timeout 60 "mpirun.$2" -n "$3" "$B/bin/dmtcp_mpi_restart" "$4" \
		>"$T/bad.stdout" 2>"$T/bad.stderr"
	rc=$?
	check "$1: refused (exit $rc) within 20 s" \
		[ $rc -ne 0 -a $rc -ne 124 -a $(($(date +%s) - t0)) -lt 20 ]
	check "... the error says: $5" grep -q "^dmtcp_mpi: error: .*$5" "$T/bad.stderr"
	grep '^dmtcp_mpi: error' "$T/bad.stderr" | head -2 | sed 's/^/    | /'
	check "... the application never ran" [ ! -s "$T/bad.stdout" ] 
	check "... no process is left" no_leftovers
}

bad_restart "3 ranks for a 2-rank checkpoint" openmpi 3 "$good" \
	"cannot restart with 3 ranks .*the checkpoint has 2"
bad_restart "1 rank for a 2-rank checkpoint" mpich 1 "$good" \
	"cannot restart with 1 rank .*the checkpoint has 2"
cp -r "$good" "$T/missing"
rm "$T/missing/rank1.img"
bad_restart "rank 1's image missing" mpich 2 "$T/missing" \
	"rank 1 ($T/missing/rank1.img)"
cp -r "$good" "$T/corrupt"
size=$(wc -c <"$T/corrupt/rank1.img")
printf 'dmtcp_mpi faults.sh was here' |
	dd of="$T/corrupt/rank1.img" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
check "rank 1's image corrupted: the copy differs from the image" \
	sh -c "! cmp -s '$good/rank1.img' '$T/corrupt/rank1.img'"
bad_restart "rank 1's image corrupted" openmpi 2 "$T/corrupt" \
	"corrupt checkpoint image of rank 1 ($T/corrupt/rank1.img)"

echo "$NAME: $NFAIL failed"
exit "$NFAIL"
