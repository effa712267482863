#!/bin/sh
# run.sh - run every launcher test (each bounded by a timeout) and count
# the PASS/FAIL lines.  Usage: B=build-dir sh tests/launcher/run.sh [test...]
# A test script that dies or times out counts as one more failure.
dir=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
passed=0 failed=0
if [ $# -eq 0 ]; then
	set -- opts nompi reap bind mpirun wrappers e2e restart unsupported
fi
for t in "$@"; do
	log=$(mktemp)
	timeout -k 5 300 sh "$dir/$t.sh" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(grep -c '^PASS' "$log")
	f=$(grep -c '^FAIL' "$log")
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: $t: script ended with status $rc"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f))
	rm -f "$log"
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
