#!/bin/sh
# exit_once.sh - nothing runs between a --checkpoint-and-exit image and
# the end of the job.
#
#   sh tests/ckpt-mpi/exit_once.sh [BUILD_DIR]
#
# exit_once.c (a non-MPI thread printing a numbered tick every ms) runs on
# 2 ranks under MPICH and is ended by dmtcp_mpi_command
# --checkpoint-and-exit a third of the way; the checkpoint is restarted
# under MPICH.  The two outputs together must hold every tick of every
# rank exactly once: a tick printed twice was printed by the ending job
# after its image was written (the engine must keep the threads stopped
# from WRITE until KILL); a missing one was lost.  The kill comes after
# the slowest rank's write and the manifest's fsync, many ticks later
# than the first rank's write, so without the hold this fails every time.
# Exit status: the number of FAILs.  About 15 s.
set -u

NAME=exit_once
. "$(dirname -- "$0")/lib.sh"
TICKS=3000

lib_setup "${1:-build}" 30
"$B/bin/dmtcp_mpicc" -O1 -o "$T/app" "$ROOT/tests/ckpt-mpi/exit_once.c" ||
	{ fail "cannot build exit_once.c"; exit 1; }

# (the job's output file may not exist yet)
ticks_of() { if [ -f "$1" ]; then grep -c '^rank 1 tick' "$1"; else echo 0; fi; }

timeout 120 mpirun.mpich -n 2 "$B/bin/dmtcp_mpi" "$T/app" "$TICKS" \
	>"$T/run.out" 2>"$T/run.err" &
job=$!
n=1200
while [ "$(ticks_of "$T/run.out")" -lt $((TICKS / 3)) ] && [ $n -gt 0 ]; do
	sleep 0.1
	n=$((n - 1))
done
ck=$(cmd --checkpoint-and-exit 2>"$T/cmd.err")
wait $job 2>/dev/null
check "checkpoint-and-exit returned a checkpoint" [ -n "$ck" -a -f "$ck/manifest" ]
check "... and the job ended before its last tick" \
	[ "$(ticks_of "$T/run.out")" -lt "$TICKS" ]
[ -n "$ck" ] || { sed 's/^/    | /' "$T/cmd.err" "$T/run.err" | head -10; exit "$NFAIL"; }

timeout 120 mpirun.mpich -n 2 "$B/bin/dmtcp_mpi_restart" "$ck" \
	>"$T/restart.out" 2>"$T/restart.err"
rc=$?
check "restart ends normally (exit $rc)" [ $rc -eq 0 ]

# Every (rank, tick) once, none missing, none twice.
grep -h '^rank [01] tick ' "$T/run.out" "$T/restart.out" | sort >"$T/all"
awk -v n="$TICKS" 'BEGIN { for (r = 0; r < 2; r++) for (i = 0; i < n; i++)
	print "rank " r " tick " i }' | sort >"$T/want"
dups=$(uniq -d "$T/all" | wc -l)
check "no tick printed twice ($dups were)" [ "$dups" -eq 0 ]
check "no tick missing" sh -c "sort -u '$T/all' | cmp -s - '$T/want'"
[ "$dups" -eq 0 ] || uniq -d "$T/all" | head -3 | sed 's/^/    twice: /'
no_leftovers || fail "processes left behind"
echo "$NAME: $NFAIL failed"
exit "$NFAIL"
