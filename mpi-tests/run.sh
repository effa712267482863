#!/bin/sh
# run.sh - build and run the self-checking MPI programs in mpi-tests/,
# natively under each installed MPI and through dmtcp_mpi, and compare.
#
#   sh mpi-tests/run.sh [--mpi mpich|openmpi|both] [--native-only] [--only NAME]
#
# A native run passes when it exits 0 and its last line is `PASS <name>`.
# A shim run (the program built once with dmtcp_mpicc, launched as
# `mpirun.<mpi> -n R dmtcp_mpi ./prog`) passes when it also prints exactly
# what the native run of the same MPI printed: dmtcp_mpi must be invisible.
# Programs marked `/* expect: fatal FUNC */` must instead end non-zero
# within the timeout; under dmtcp_mpi their stderr must also hold a line
# `dmtcp_mpi: error: ...` naming FUNC.  The rank count comes from the
# program's `/* ranks: N */` line (default 2).  With both MPIs, the two
# native outputs of each program must also be identical.
#
# Environment: B (build dir, default build), DMTCP_MPI_TEST_TIMEOUT
# (seconds per mpirun, default 120), MT_CFLAGS (compiler flags).
# The last line is `N passed, N failed`; the exit status is 1 if any failed.

B=${B:-build}
TIMEOUT=${DMTCP_MPI_TEST_TIMEOUT:-120}
# gcc 12 takes MPICH's MPI_STATUS(ES)_IGNORE, the pointer constant 1, for
# a zero-sized array and warns wrongly about every call that is given it.
CFLAGS=${MT_CFLAGS:--std=gnu11 -Wall -Wextra -Werror -Wno-stringop-overflow -O2 -g}
SRC=$(cd "$(dirname "$0")" && pwd)
MPIS="mpich openmpi"
NATIVE_ONLY=0
ONLY=""

usage() {
	echo "usage: $0 [--mpi mpich|openmpi|both] [--native-only] [--only NAME]" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--mpi)
		[ $# -ge 2 ] || usage
		case $2 in
		mpich|openmpi) MPIS=$2 ;;
		both) MPIS="mpich openmpi" ;;
		*) usage ;;
		esac
		shift 2 ;;
	--native-only) NATIVE_ONLY=1; shift ;;
	--only) [ $# -ge 2 ] || usage; ONLY=$2; shift 2 ;;
	*) usage ;;
	esac
done

# Open MPI refuses root and more ranks than cores unless told otherwise.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1

PASSED=0
FAILED=0
OUT=$B/mpi-tests/out
mkdir -p "$OUT" || exit 1
B=$(cd "$B" && pwd)
OUT=$B/mpi-tests/out

pass() { PASSED=$((PASSED + 1)); echo "PASS $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $*"; }

tests() {
	for f in "$SRC"/*.c; do
		n=$(basename "$f" .c)
		[ -z "$ONLY" ] || [ "$n" = "$ONLY" ] && echo "$n"
	done
}

ranks_of() {
	r=$(sed -n 's|^/\* ranks: \([0-9][0-9]*\) \*/$|\1|p' "$SRC/$1.c" | head -n 1)
	echo "${r:-2}"
}

# The MPI function a fatal test must name, or nothing for normal tests.
fatal_of() {
	sed -n 's|^/\* expect: fatal \([A-Za-z_]*\) \*/$|\1|p' "$SRC/$1.c" | head -n 1
}

# build CC DIR: compile every test into DIR; a failed compile is a failed test.
build() {
	cc=$1 dir=$2 tag=$3
	mkdir -p "$dir" || return 1
	for n in $(tests); do
		# shellcheck disable=SC2086
		if ! $cc $CFLAGS -I"$SRC" -o "$dir/$n" "$SRC/$n.c" >"$OUT/$tag-$n.build" 2>&1; then
			fail "$tag build $n"
			head -n 20 "$OUT/$tag-$n.build"
			rm -f "$dir/$n"
		fi
	done
}

# run_one MPI MODE NAME CMD...: run under timeout, judge, print a verdict line.
run_one() {
	mpi=$1 mode=$2 n=$3
	shift 3
	base=$OUT/$mpi-$mode-$n
	timeout -k 10 "$TIMEOUT" "$@" >"$base.out" 2>"$base.err" </dev/null
	rc=$?
	fatal=$(fatal_of "$n")
	# MPICH's mpiexec drops everything the ranks wrote to stderr in about
	# 1 of 30 aborted jobs, natively too (its own "Abort(...)" line
	# included; measured 2 of 60 with coll_fatal): one more run then.
	if [ -n "$fatal" ] && [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] &&
	   [ "$mpi" = mpich ] && ! [ -s "$base.err" ]; then
		timeout -k 10 "$TIMEOUT" "$@" >"$base.out" 2>"$base.err" </dev/null
		rc=$?
	fi
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		fail "$mpi $mode $n: timed out after ${TIMEOUT}s"
		tail -n 5 "$base.err"
		return
	fi
	if [ -n "$fatal" ]; then
		judge_fatal "$mpi" "$mode" "$n" "$rc" "$fatal" "$base"
		return
	fi
	last=$(tail -n 1 "$base.out")
	if [ "$rc" -ne 0 ] || [ "$last" != "PASS $n" ]; then
		fail "$mpi $mode $n: exit $rc, last line: ${last:-<none>}"
		tail -n 10 "$base.err"
		return
	fi
	if [ "$mode" = shim ]; then
		if ! [ -f "$OUT/$mpi-native-$n.out" ]; then
			fail "$mpi shim $n: no native output to compare with"
			return
		fi
		if ! cmp -s "$OUT/$mpi-native-$n.out" "$base.out"; then
			fail "$mpi shim $n: output differs from native"
			diff "$OUT/$mpi-native-$n.out" "$base.out" | head -n 20
			return
		fi
	fi
	pass "$mpi $mode $n"
}

judge_fatal() {
	mpi=$1 mode=$2 n=$3 rc=$4 fn=$5 base=$6
	if [ "$rc" -eq 0 ]; then
		fail "$mpi $mode $n: exited 0 after a fatal MPI error"
		return
	fi
	if [ "$mode" = shim ] && ! grep -q "^dmtcp_mpi: error:.*$fn" "$base.err"; then
		fail "$mpi $mode $n: no 'dmtcp_mpi: error:' line naming $fn on stderr"
		tail -n 5 "$base.err"
		return
	fi
	pass "$mpi $mode $n"
}

# Why the shim runs cannot happen for this MPI, or nothing if they can.
shim_missing() {
	for f in "$B/bin/dmtcp_mpicc" "$B/bin/dmtcp_mpi" "$B/libexec/dmtcp_mpi/proxy-$1"; do
		[ -x "$f" ] || { echo "$f missing"; return; }
	done
}

if [ -z "$(tests)" ]; then
	echo "run.sh: no test named '$ONLY' in $SRC" >&2
	exit 2
fi

# Outputs of an earlier run must never stand in for a run that failed now.
for n in $(tests); do
	rm -f "$OUT"/*-"$n".*
done

SHIM_BUILT=0
for mpi in $MPIS; do
	if ! command -v "mpicc.$mpi" >/dev/null || ! command -v "mpirun.$mpi" >/dev/null; then
		fail "$mpi: mpicc.$mpi or mpirun.$mpi not installed"
		continue
	fi
	dir=$B/mpi-tests/native-$mpi
	build "mpicc.$mpi" "$dir" "$mpi-native"
	for n in $(tests); do
		[ -x "$dir/$n" ] || continue
		run_one "$mpi" native "$n" mpirun."$mpi" -n "$(ranks_of "$n")" "$dir/$n"
	done

	[ "$NATIVE_ONLY" -eq 1 ] && continue
	why=$(shim_missing "$mpi")
	if [ -n "$why" ]; then
		echo "SKIP $mpi shim: $why"
		continue
	fi
	dir=$B/mpi-tests/shim
	if [ "$SHIM_BUILT" -eq 0 ]; then
		build "$B/bin/dmtcp_mpicc" "$dir" shim
		SHIM_BUILT=1
	fi
	for n in $(tests); do
		[ -x "$dir/$n" ] || continue
		run_one "$mpi" shim "$n" mpirun."$mpi" -n "$(ranks_of "$n")" "$B/bin/dmtcp_mpi" "$dir/$n"
	done
done

# The programs print only what the standard fixes, so both MPIs must agree;
# otherwise a shim run could never match the native run of the other MPI.
same_native() {
	for n in $(tests); do
		[ -z "$(fatal_of "$n")" ] || continue
		a=$OUT/mpich-native-$n.out b=$OUT/openmpi-native-$n.out
		# A failed native run is already counted; compare only passing ones.
		[ "$(tail -n 1 "$a" 2>/dev/null)" = "PASS $n" ] || continue
		[ "$(tail -n 1 "$b" 2>/dev/null)" = "PASS $n" ] || continue
		if cmp -s "$a" "$b"; then
			pass "mpich=openmpi native $n"
		else
			fail "mpich=openmpi native $n: outputs differ"
			diff "$a" "$b" | head -n 20
		fi
	done
}
[ "$MPIS" = "mpich openmpi" ] && same_native

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
