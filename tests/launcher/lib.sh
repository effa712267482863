# lib.sh - shared by the launcher tests (sourced, not run).
#
# Sets ROOT (source tree), BLD (build dir, $B or "build"), DM (the launcher),
# MARK (a word unique to this test run), T (a scratch directory named after
# MARK, removed on exit) and builds $T/chanpeek.  Every fake process runs
# from $T (scripts there, $T/sleep for sleeping), so its command line
# carries MARK and leftovers show up in pgrep -f "$MARK".  Each check prints one
# PASS or FAIL line; the script's exit status is the number of failures.

ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/../.." && pwd)
BLD=${B:-build}
case $BLD in /*) ;; *) BLD=$ROOT/$BLD ;; esac
DM=$BLD/bin/dmtcp_mpi
MARK=dmtest$$x$(date +%s)
T=$(mktemp -d "${TMPDIR:-/tmp}/$MARK.XXXXXX")
NFAIL=0
TNAME=$(basename "$0" .sh)

cleanup() {
	for p in $(pgrep -f "$MARK"); do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

pass() { echo "PASS: $TNAME: $1"; }
fail() { echo "FAIL: $TNAME: $1"; NFAIL=$((NFAIL + 1)); }

# check NAME CONDITION-COMMAND...: PASS if the command succeeds.
check() {
	name=$1; shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}

if [ ! -x "$DM" ]; then
	echo "FAIL: $TNAME: launcher not built ($DM); run make B=... $DM"
	exit 1
fi

${CC:-cc} -std=gnu11 -O1 -I"$ROOT" -o "$T/chanpeek" \
	"$ROOT/tests/launcher/chanpeek.c" || {
	echo "FAIL: $TNAME: cannot build chanpeek"; exit 1; }
PEEK=$T/chanpeek
cp "$(command -v sleep)" "$T/sleep"

# run_dm OUTFILE ARGS...: run the launcher (bounded), stderr to OUTFILE,
# stdout to OUTFILE.out; sets RC and ELAPSED (whole seconds).
run_dm() {
	out=$1; shift
	t0=$(date +%s)
	timeout -k 5 60 "$DM" "$@" >"$out.out" 2>"$out"
	RC=$?
	ELAPSED=$(( $(date +%s) - t0 ))
}

# start_dm ERRFILE ARGS...: like run_dm, in the background; TPID is the
# timeout process, the launcher is its child.  finish_dm waits for it.
start_dm() {
	out=$1; shift
	t0=$(date +%s)
	timeout -k 5 60 "$DM" "$@" >"$out.out" 2>"$out" &
	TPID=$!
}
finish_dm() {
	wait $TPID 2>/dev/null
	RC=$?
	ELAPSED=$(( $(date +%s) - t0 ))
}

# one_line FILE: the file has exactly one line and it is a dmtcp_mpi error.
one_line() {
	[ "$(wc -l <"$1")" -eq 1 ] && grep -q '^dmtcp_mpi: error: ' "$1"
}

# no_leftovers: no process carrying this run's marker is alive (given 5 s:
# a process may still be exiting when mpirun returns).
no_leftovers() {
	for _ in $(seq 50); do
		pgrep -f "$MARK" >/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# wait_file FILE: wait (at most 10 s) until FILE is not empty.
wait_file() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}

# cpus PID: the Cpus_allowed_list of a process.
cpus() {
	sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$1/status"
}

# fake NAME BODY: write an executable sh script $T/NAME; in BODY, $PEEK is
# chanpeek, $OUT the scratch directory and $SLEEP a marked sleep.
fake() {
	printf '#!/bin/sh\nPEEK=%s\nOUT=%s\nSLEEP=%s\n%s\n' "$PEEK" "$T" \
		"$T/sleep" "$2" >"$T/$1"
	chmod +x "$T/$1"
}
