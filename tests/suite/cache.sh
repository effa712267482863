#!/bin/bash
# cache.sh - the native cache and --resume of scripts/mpich-suite.sh.
#
#   B=build bash tests/suite/cache.sh
#
# Runs two small entries of MPICH's suite (basic/self on 1 rank,
# basic/sendrecv on 2) several times, with a cache and a run directory of
# its own (DMTCP_MPI_SUITE_NATIVE_CACHE, DMTCP_MPI_SUITE_RUN_DIR) so that
# the real cache and reports in $B/mpich-suite stay as they were.  Checks
# that a second run takes the native passes from the cache and does not
# run them; that another timeout, another program or --no-native-cache
# runs them again; that a native fail is not kept; that the cache is
# private; that --resume keeps the entries a cut-short run finished; and
# that a run --only narrowed keeps its state apart from a whole run's.
# Prints one PASS or FAIL line per check; exits with the failure count.
# Needs the suite fetched and configured (make mpich-suite-check does it;
# otherwise the first run does it, which takes minutes).
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-build}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
T=$(mktemp -d "${TMPDIR:-/tmp}/suite-cache.XXXXXX")
export DMTCP_MPI_SUITE_NATIVE_CACHE=$T/cache DMTCP_MPI_SUITE_RUN_DIR=$T/run
RUNLOGS=$B/mpich-suite/logs/run/basic
NFAIL=0
SELF=$B/mpich-suite/build-mpich/basic/self

restore_self() {
	[ -f "$T/self.orig" ] && cat "$T/self.orig" > "$SELF"
	rm -f "$T/self.orig"
}
trap 'restore_self; rm -rf "$T"' EXIT

pass() { echo "PASS: cache: $1"; }
fail() { echo "FAIL: cache: $1"; NFAIL=$((NFAIL + 1)); }
# verdict NAME: PASS when the command just before succeeded.
verdict() {
	# shellcheck disable=SC2181
	if [ $? = 0 ]; then pass "$1"; else fail "$1"; fi
}

# suite [ARGS...]: the two entries, bounded; the report in $T/out.
suite() {
	timeout -k 5 300 bash "$ROOT/scripts/mpich-suite.sh" --only 'basic/se*' -v "$@" \
	    > "$T/out" 2> "$T/err"
}

# from_cache MPI N: the report counts N native passes from the cache.
from_cache() { grep -q "^$1: .*($2 native passes and [0-9]*s of it from the cache)" "$T/out"; }
ran_natively() { ! grep -q '^not run: a native pass' "$RUNLOGS/$1-native.log"; }
taken_from_cache() { grep -q '^not run: a native pass' "$RUNLOGS/$1-native.log"; }
kept() { grep -vc '^#' "$T/cache/$1.v1"; }
all_pass() { tail -n 1 "$T/out" | grep -qx "$1 passed, 0 failed, 0 skipped"; }
mode_of() { stat -c %a "$1"; }

# A run --only narrows, in a build tree of its own where the suite is not
# built (the script makes its run directory, then stops): it must leave
# the whole run's directory, resume state included, as it was.
FAKE=$T/fake-build
mkdir -p "$FAKE/mpich-suite/full-mpich-openmpi"
echo mark > "$FAKE/mpich-suite/full-mpich-openmpi/progress.log"
env -u DMTCP_MPI_SUITE_RUN_DIR B="$FAKE" timeout -k 5 60 \
    bash "$ROOT/scripts/mpich-suite.sh" --only 'basic/se*' > /dev/null 2>&1
grep -qx mark "$FAKE/mpich-suite/full-mpich-openmpi/progress.log" &&
	[ -d "$FAKE/mpich-suite/full-mpich-openmpi-only_basic_se_-$(printf 'only basic/se*' | cksum | cut -d ' ' -f 1)" ]
verdict "an --only run has a run directory of its own"

suite
all_pass 4
verdict "a cold run passes"
from_cache mpich 0 && from_cache openmpi 0
verdict "a cold run takes nothing from the cache"
ran_natively self.1.mpich && ran_natively sendrecv.2.openmpi
verdict "a cold run runs natively"
[ "$(kept mpich)" = 2 ] && [ "$(kept openmpi)" = 2 ]
verdict "each native pass is kept, one line each"
[ "$(mode_of "$T/cache")" = 700 ] && [ "$(mode_of "$T/cache/mpich.v1")" = 600 ]
verdict "the cache is private (0700, 0600)"

suite
all_pass 4
verdict "a warm run passes"
from_cache mpich 2 && from_cache openmpi 2
verdict "a warm run takes every native pass from the cache"
taken_from_cache self.1.mpich && taken_from_cache sendrecv.2.openmpi
verdict "a warm run does not run natively"
[ "$(grep -c "native pass [0-9.]*s (cached)" "$T/err")" = 4 ]
verdict "-v marks the cached entries"
! grep -q "^not run" "$RUNLOGS/self.1.mpich-shim.log"
verdict "a warm run still runs dmtcp_mpi"
[ "$(kept mpich)" = 2 ] && [ "$(kept openmpi)" = 2 ]
verdict "a warm run adds no cache line"

DMTCP_MPI_SUITE_TIMEOUT=61 suite --mpi mpich
all_pass 2 && from_cache mpich 0 && ran_natively sendrecv.2.mpich
verdict "another timeout runs natively again"

cp -p "$SELF" "$T/self.orig"
printf '\n' >> "$SELF"
suite --mpi mpich
all_pass 2 && from_cache mpich 1 && ran_natively self.1.mpich &&
	taken_from_cache sendrecv.2.mpich
verdict "another program runs natively again, the unchanged one does not"

printf '#!/bin/sh\nexit 3\n' > "$SELF"
n=$(kept mpich)
suite --mpi mpich --only basic/self
grep -q "^NATIVE-FAIL mpich basic/self 1: exit 3" "$T/out" &&
	[ "$(kept mpich)" = "$n" ]
verdict "a native fail is reported and not kept"
restore_self

suite --mpi mpich --no-native-cache
all_pass 2 && grep -q "^mpich: .*(native cache off)" "$T/out" &&
	ran_natively self.1.mpich && [ "$(kept mpich)" = "$n" ]
verdict "--no-native-cache runs natively and leaves the cache alone"

# A run cut short after its first entry: the results of the second are
# gone, and the first entry's log carries a mark a rerun would overwrite.
suite --mpi mpich
sed -i '$d' "$T/run/results"
echo mark >> "$RUNLOGS/self.1.mpich-shim.log"
suite --mpi mpich --resume
all_pass 2 && grep -qx mark "$RUNLOGS/self.1.mpich-shim.log" &&
	grep -q "resuming: 1 of the entries to run are done" "$T/err" &&
	[ "$(wc -l < "$T/run/results")" = 2 ]
verdict "--resume keeps the finished entry and runs the rest"
DMTCP_MPI_SUITE_TIMEOUT=61 suite --mpi mpich --resume
all_pass 2 && ! grep -qx mark "$RUNLOGS/self.1.mpich-shim.log" &&
	grep -q "nothing to resume" "$T/err"
verdict "--resume with another setting runs every entry"

exit $NFAIL
