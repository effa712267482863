#!/bin/bash
# restart_level.sh - what a restarted job pays for its proxy's MPI being
# initialised at MPI_THREAD_MULTIPLE (proxy/env.c px_init_early): the
# 8-byte ping-pong and null MPI_Iprobe latencies of bench/level_app.c, 2
# ranks, in a restarted job against fresh jobs, under each MPI.
#
#   bash bench/restart_level.sh [BUILD_DIR]
#
# Arms, run interleaved in each of $LEVEL_BENCH_REPS repetitions
# (default 5) so that the machine's load hits all alike:
#   single     a fresh job, the app at MPI_THREAD_SINGLE (its proxy then
#              initialises the real MPI at SINGLE)
#   funneled   the same at FUNNELED (the proxy at SINGLE too)
#   multiple   a fresh job at MULTIPLE (the proxy at MULTIPLE)
#   restart    the single job, checkpointed once per MPI before the
#              repetitions, restarted from that image
# LEVEL_BENCH_ARMS picks some of them (the order is kept); with
# LEVEL_BENCH_ALT_PROXY_DIR, a directory holding other proxy-mpich and
# proxy-openmpi builds, the arm restart-alt restarts the same image with
# those (doc/performance.md: built to initialise at SINGLE).
# Each run prints the medians of its batches; the table gives, per MPI
# and arm, the median over the repetitions and the ratio of medians to
# single; the raw values follow.
# Processes run under SCHED_FIFO as in bench/run.sh when chrt allows it.
set -u

ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
B=${1:-build}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
REPS=${LEVEL_BENCH_REPS:-5}
LIMIT=300
ARMS=${LEVEL_BENCH_ARMS:-single funneled multiple restart}
# A directory holding other proxy-mpich and proxy-openmpi builds adds the
# arm "restart-alt": the same restart with those proxies.
ALT=${LEVEL_BENCH_ALT_PROXY_DIR:-}
[ -n "$ALT" ] && ARMS="$ARMS restart-alt"

BENCH_NAME=restart_level
. "$ROOT/bench/job_env.sh"

POLICY=()
chrt -f 1 true 2>/dev/null && POLICY=(chrt -f 1)

mkdir -m 700 "$T/tmp" || exit 1
"$B/bin/dmtcp_mpicc" -O2 -o "$T/level_app" "$ROOT/bench/level_app.c" || die "cannot build level_app"
timeout 20 "$B/bin/dmtcp_mpi_coordinator" --daemon --port 0 --port-file "$T/port" \
	--ckptdir "$T/ck" --timeout 120 || die "cannot start a coordinator"
export DMTCP_MPI_COORD_PORT="$(cat "$T/port")"
cmd() { timeout "$LIMIT" "$B/bin/dmtcp_mpi_command" "$@"; }
COORD_PID=$(cmd --status | sed -n 's/^pid=//p')

opts() { [ "$1" = openmpi ] && echo --bind-to none; }

# checkpoint MPI: a single job of MPI checkpointed while it waits for
# go, then killed; prints the checkpoint's path.
checkpoint() {
	local d=$T/run-$1 n=0 ck
	rm -rf "$d" && mkdir -p "$d" || exit 1
	timeout "$LIMIT" "mpirun.$1" $(opts "$1") -n 2 "$B/bin/dmtcp_mpi" "$T/level_app" "$d" single \
		>"$d.ck.out" 2>"$d.ck.err" </dev/null &
	local job=$!
	until [ -f "$d/ready.0" ] && [ -f "$d/ready.1" ]; do
		n=$((n + 1))
		[ $n -lt 6000 ] || die "the $1 job never got ready"
		sleep 0.02
	done
	ck=$(cmd --checkpoint) || die "checkpoint under $1 failed"
	cmd --kill >/dev/null 2>&1
	wait "$job" 2>/dev/null
	echo "$ck"
}

# run MPI ARM REP: one job; its values into T/raw as "MPI ARM REP KEY VALUE".
run() {
	local mpi=$1 arm=$2 rep=$3 d=$T/run-$1 out rc
	if [ "$arm" = restart ]; then
		out=$(timeout "$LIMIT" "mpirun.$mpi" $(opts "$mpi") -n 2 "${POLICY[@]}" \
			"$B/bin/dmtcp_mpi_restart" "${CK[$mpi]}" 2>"$T/err" </dev/null)
	elif [ "$arm" = restart-alt ]; then
		out=$(DMTCP_MPI_PROXY=$ALT/proxy-$mpi timeout "$LIMIT" "mpirun.$mpi" $(opts "$mpi") \
			-n 2 "${POLICY[@]}" "$B/bin/dmtcp_mpi_restart" "${CK[$mpi]}" 2>"$T/err" </dev/null)
	else
		d=$T/fresh-$mpi
		rm -rf "$d" && mkdir -p "$d" && touch "$d/go" || exit 1
		out=$(timeout "$LIMIT" "mpirun.$mpi" $(opts "$mpi") -n 2 "${POLICY[@]}" \
			"$B/bin/dmtcp_mpi" "$T/level_app" "$d" "$arm" 2>"$T/err" </dev/null)
	fi
	rc=$?
	[ $rc -eq 0 ] || die "$mpi $arm run $rep failed (exit $rc): $(tail -n 3 "$T/err")"
	printf '%s\n' "$out" | awk -v p="$mpi $arm $rep" 'NF == 2 { print p, $0 }' >>"$T/raw"
}

declare -A CK
for mpi in mpich openmpi; do
	CK[$mpi]=$(checkpoint "$mpi") || exit 1
	touch "$T/run-$mpi/go"
done
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for rep in $(seq 1 "$REPS"); do
	echo "restart_level: repetition $rep of $REPS" >&2
	for mpi in mpich openmpi; do
		for arm in $ARMS; do
			run "$mpi" "$arm" "$rep"
		done
	done
done

echo "restart_level, $(date -u '+%Y-%m-%d %H:%M UTC'), $REPS interleaved repetitions," \
	"scheduling: ${POLICY[*]:-other}, load average before: $LOAD0, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "medians over the repetitions, us (ratio to single); level = MPI_Query_thread in the app"
awk -v arms="$ARMS" '
	$4 == "level" { lv[$1 " " $2] = $5; next }
	{ v[$1 " " $2 " " $4, ++n[$1 " " $2 " " $4]] = $5 }
	function med(k,   m, i, j, t, a) {
		m = n[k]
		for (i = 1; i <= m; i++) a[i] = v[k, i]
		for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
		return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
	}
	END {
		na = split(arms, A, " ")
		printf "%-8s %-11s %-10s %-18s %-18s\n", "mpi", "arm", "level", "pingpong_8", "iprobe"
		split("mpich openmpi", M, " ")
		for (mi = 1; mi <= 2; mi++) for (ai = 1; ai <= na; ai++) {
			m = M[mi]; a = A[ai]
			pp = med(m " " a " pingpong_8"); ip = med(m " " a " iprobe")
			pp0 = med(m " single pingpong_8"); ip0 = med(m " single iprobe")
			printf "%-8s %-11s %-10s %7.3f (%.3f)    %7.3f (%.3f)\n", m, a, lv[m " " a],
				pp, pp / pp0, ip, ip / ip0
		}
	}' "$T/raw"
echo "raw:"
sort "$T/raw" | awk '$4 != "level"' | sed 's/^/  /'
