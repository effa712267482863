# lib.sh - what stress.sh, chain.sh and faults.sh share: a scratch
# directory, a private coordinator, the stress application built twice
# (through dmtcp_mpi and natively), waiting for a job's progress, PASS/FAIL
# accounting and a cleanup that leaves no process behind.  The restart
# scripts use it through restart_env.sh.
#
# The including script sets NAME (its name in messages) and calls
# lib_setup BUILD_DIR [COORD_TIMEOUT_S] before anything else.

ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/../.." && pwd)
NFAIL=0
COORD_PID=

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
unset DMTCP_MPI_PROXY DMTCP_MPI_NO_CLIENT DMTCP_MPI_CKPTDIR \
	DMTCP_MPI_COORD_HOST DMTCP_MPI_SECRET DMTCP_MPI_INTERVAL

pass() { echo "PASS: $NAME: $1"; }
fail() { echo "FAIL: $NAME: $1"; NFAIL=$((NFAIL + 1)); }
check() {
	what=$1; shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

lib_cleanup() {
	[ -n "$COORD_PID" ] && kill -KILL "$COORD_PID" 2>/dev/null
	for p in $(pgrep -f "$T/"); do kill -KILL "$p" 2>/dev/null; done
	if [ -n "${CKMPI_KEEP:-}" ]; then
		echo "$NAME: files kept in $T"
	else
		rm -rf "$T"
	fi
}

# start_coord [TIMEOUT_S]: a coordinator of our own on a free port
# (without TIMEOUT_S, its phase timeout comes from the environment).
start_coord() {
	rm -f "$T/port"
	timeout 20 "$B/bin/dmtcp_mpi_coordinator" --daemon --port 0 \
		--port-file "$T/port" --ckptdir "$T/ck" ${1:+--timeout "$1"} ||
		{ fail "cannot start a coordinator"; exit 1; }
	DMTCP_MPI_COORD_PORT=$(cat "$T/port")
	export DMTCP_MPI_COORD_PORT
	COORD_PID=$(cmd --status | sed -n 's/^pid=//p')
}

cmd() { timeout 120 "$B/bin/dmtcp_mpi_command" "$@"; }

# drain_rounds CKPT: how many DRAIN rounds checkpoint CKPT (the path
# --checkpoint printed) took, from the line the coordinator logs when it
# is written; empty if there is none.
drain_rounds() {
	awk -v ck="$1" 'index($0, " written: " ck " (") {
		sub(/.* written: .* \([0-9]+ ranks?, /, ""); print $1 }' \
		"$(cmd --status | sed -n 's/^log=//p')"
}

# other_mpi MPI: the MPI a restart moves to (mpich <-> openmpi).
other_mpi() { [ "$1" = mpich ] && echo openmpi || echo mpich; }

# wait_file PATH SECONDS: until PATH exists; false if it never did.
wait_file() {
	n=$(($2 * 10))
	while [ ! -f "$1" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	[ -f "$1" ]
}

# lib_start BUILD_DIR: B (absolute) and the scratch directory T, removed
# at exit with every process still running from it; the script ends if a
# program it runs is not built (FAIL) or an MPI is missing (SKIP).
lib_start() {
	B=${1:-build}
	case $B in /*) ;; *) B=$ROOT/$B ;; esac
	T=$(mktemp -d "${TMPDIR:-/tmp}/dmtcp_mpi-$NAME.XXXXXX") || exit 1
	export DMTCP_MPI_TMPDIR=$T/tmp
	trap lib_cleanup EXIT
	trap 'exit 1' INT TERM HUP PIPE
	for f in dmtcp_mpi dmtcp_mpi_restart dmtcp_mpi_coordinator dmtcp_mpi_command dmtcp_mpicc; do
		if [ ! -x "$B/bin/$f" ]; then
			echo "FAIL: $NAME: not built: $B/bin/$f"
			exit 1
		fi
	done
	if ! command -v mpirun.mpich >/dev/null || ! command -v mpirun.openmpi >/dev/null; then
		echo "SKIP: $NAME: needs mpirun.mpich and mpirun.openmpi"
		exit 0
	fi
}

lib_setup() {
	lib_start "$1"
	"$B/bin/dmtcp_mpicc" -O1 -o "$T/stress" "$ROOT/tests/ckpt-mpi/stress.c" ||
		{ fail "cannot build stress with dmtcp_mpicc"; exit 1; }
	mpicc.mpich -O1 -o "$T/stress-native" "$ROOT/tests/ckpt-mpi/stress.c" 2>/dev/null ||
		{ fail "cannot build stress with mpicc.mpich"; exit 1; }
	start_coord "${2:-}"
}

# step_of DIR: the lowest step any rank of the job writing DIR has begun.
step_of() {
	low=
	for f in "$1"/step.*; do
		[ -f "$f" ] || { echo -1; return; }
		s=$(sed 's/^0*//; s/^$/0/' "$f" 2>/dev/null)
		case $s in ''|*[!0-9]*) s=-1 ;; esac
		if [ -z "$low" ] || [ "$s" -lt "$low" ]; then low=$s; fi
	done
	echo "${low:--1}"
}

# wait_step DIR STEP SECONDS: until every rank has begun STEP.
wait_step() {
	n=$(($3 * 10))
	while [ "$(step_of "$1")" -lt "$2" ] && [ $n -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	[ "$(step_of "$1")" -ge "$2" ]
}

# wait_registered N SECONDS [JOB]: until N ranks are registered, or JOB
# (a pid) has ended; true when they are.
wait_registered() {
	n=$(($2 * 10))
	while ! cmd --status 2>/dev/null | grep -qx "ranks=$1/$1 connected" &&
	      [ $n -gt 0 ]; do
		[ -z "${3:-}" ] || kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
		n=$((n - 1))
	done
	[ $n -gt 0 ]
}

# native_ref NP STEPS PAUSE: the uninterrupted native run into $T/ref.
native_ref() {
	rm -rf "$T/ref"
	mkdir -p "$T/ref"
	timeout 120 mpirun.mpich -n "$1" "$T/stress-native" "$T/ref" "$2" "$3" \
		>"$T/ref.stdout" 2>"$T/ref.stderr"
	check "native reference run ($1 ranks)" [ $? -eq 0 -a -s "$T/ref/out.0" ]
	check "... every message arrived intact and in order" sh -c \
		"! grep -q ' [1-9][0-9]* \(bad\|out of order\)' '$T'/ref/out.*"
}

# same_as_ref DIR NP: the job writing DIR wrote what the reference did.
same_as_ref() {
	r=0
	while [ $r -lt "$2" ]; do
		cmp -s "$T/ref/out.$r" "$1/out.$r" || return 1
		r=$((r + 1))
	done
}

show_diff() {
	r=0
	while [ $r -lt "$2" ]; do
		diff "$T/ref/out.$r" "$1/out.$r" 2>&1 | head -5 | sed "s/^/    rank $r | /"
		r=$((r + 1))
	done
}

# random_steps N LOW HIGH: N distinct sorted steps in [LOW, HIGH),
# from $SEED (printed by the caller so a failure can be replayed).
random_steps() {
	awk -v n="$1" -v lo="$2" -v hi="$3" -v seed="$SEED" 'BEGIN {
		srand(seed); k = 0
		while (k < n) { s = lo + int(rand() * (hi - lo)); if (!(s in got)) { got[s] = 1; k++ } }
		for (s in got) print s }' | sort -n
}

# no_leftovers: no process of this script's jobs is still running (the
# coordinator aside).  A process may still be exiting when mpirun returns
# (a loaded machine runs its exit late), so give stragglers 5 s; a leftover
# stays for ever.
no_leftovers() {
	for _ in $(seq 50); do
		[ -z "$(pgrep -f "$T/" | grep -vx "${COORD_PID:-x}")" ] && return 0
		sleep 0.1
	done
	return 1
}
