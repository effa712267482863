#!/bin/sh
# run-unit-tests.sh - run cmocka unit test binaries and total their cases.
#
#   sh scripts/run-unit-tests.sh build/tests/test_chan build/tests/test_arena
#
# Each binary runs under a timeout (DMTCP_MPI_UNIT_TIMEOUT seconds, default
# 60).  Cases are counted from cmocka's own summary lines, "[  PASSED  ] N
# test(s)." and "[  FAILED  ] N test(s)"; a binary that crashes, times out
# or ends without a summary counts as one failed case, since its real
# count is unknown.  A failing binary's output is shown in full.  The last
# line is exactly "N passed, N failed"; the exit status is 1 if anything
# failed.
set -u

limit=${DMTCP_MPI_UNIT_TIMEOUT:-60}
# cmocka's default text output is what the summary lines are parsed from.
CMOCKA_MESSAGE_OUTPUT=stdout
export CMOCKA_MESSAGE_OUTPUT

out=$(mktemp "${TMPDIR:-/tmp}/dmtcp_mpi-unit.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT INT TERM

# First number after a cmocka summary tag, or nothing.
summary() {
	grep -o "\[  $1  \] [0-9][0-9]* test(s)" "$out" | head -n 1 |
		sed 's/^[^]]*] \([0-9]*\).*/\1/'
}

total_pass=0
total_fail=0
for bin in "$@"; do
	name=$(basename "$bin")
	timeout -k 5 "$limit" "$bin" >"$out" 2>&1
	rc=$?
	pass=$(summary PASSED)
	fail=$(summary FAILED)
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		verdict="TIMED OUT after ${limit}s"
	elif [ -z "$pass" ] && [ -z "$fail" ]; then
		verdict="CRASHED (exit $rc, no cmocka summary)"
	elif [ "$rc" -ne 0 ] && [ "${fail:-0}" -eq 0 ]; then
		verdict="CRASHED (exit $rc after its summary)"
	else
		verdict=""
	fi
	pass=${pass:-0}
	fail=${fail:-0}
	if [ -n "$verdict" ]; then
		fail=$((fail + 1))
	fi
	if [ "$fail" -ne 0 ]; then
		cat "$out"
		printf '%s: %d passed, %d failed %s\n' "$name" "$pass" "$fail" "$verdict"
	else
		printf '%s: %d passed\n' "$name" "$pass"
	fi
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
done

printf '%d passed, %d failed\n' "$total_pass" "$total_fail"
[ "$total_fail" -eq 0 ]
