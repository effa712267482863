#!/bin/bash
# job_ckpt.sh - the checkpoint of a whole MPI job: how long it takes next to
# the slowest rank's own image write, restart under the same MPI and under
# the other one, and what the consistency bookkeeping costs while running.
#
#   bash bench/job_ckpt.sh [BUILD_DIR]      (make ckpt-job-bench)
#
# Environment: JOB_BENCH_RANKS (default "2 4"), JOB_BENCH_MIB (per rank,
# default 256), JOB_BENCH_REPS (checkpoints per rank count, default 3),
# JOB_BENCH_KREPS (kernel runs per mode, default 7), JOB_BENCH_ITERS
# (kernel iterations, default 200000), JOB_BENCH_OUT (results file, default
# BUILD_DIR/bench/job_ckpt.txt).
#
# 1. bench/job_app.c on N ranks under MPICH holds MIB MiB of data per rank.
#    Job checkpoint = wall time of `dmtcp_mpi_command --checkpoint` (every
#    phase, the images, the manifest); slowest rank = the largest engine
#    time the ranks report (DMTCP_MPI_CKPT_VERBOSE: ck_checkpoint from
#    start to the renamed image).  Restart = from starting
#    `mpirun.X -n N dmtcp_mpi_restart` to the first Allreduce the restored
#    job completes (job_app writes the time), under MPICH (same) and Open
#    MPI (other, --bind-to none like MPICH), in alternating order, then
#    under Open MPI with its default binding; the page cache is warm.
#    Native = a native job of each MPI that starts, does one Allreduce and
#    ends: the MPI's own start-up, part of any restart.  "net other/same"
#    compares the restarts with those subtracted.
# 2. bench/kernels.c (an Allreduce+Bcast loop and a ping-pong loop, 2
#    ranks, MPICH) with the bookkeeping on and off
#    (DMTCP_MPI_NO_CKPT_BOOKKEEPING, which exists for this benchmark only),
#    runs interleaved on, off, on, off...; the ratio of the medians.
# 3. the same job checkpointed under Open MPI and restarted under both, so
#    that each launcher restarts an image of its own MPI and one of the
#    other: "launcher held fixed" compares those two, with the MPIs' own
#    start-up costs the same on both sides.
# Medians throughout; the machine's load is printed, since on a shared
# machine single runs mean little.  Lines `ratio KEY VALUE` at the end are
# what bench/plot_job.py draws.
set -u

ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
B=${1:-build}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
RANKS=${JOB_BENCH_RANKS:-2 4}
MIB=${JOB_BENCH_MIB:-256}
REPS=${JOB_BENCH_REPS:-3}
KREPS=${JOB_BENCH_KREPS:-7}
ITERS=${JOB_BENCH_ITERS:-200000}
OUT=${JOB_BENCH_OUT:-$B/bench/job_ckpt.txt}
LIMIT=600

BENCH_NAME=job_ckpt
. "$ROOT/bench/job_env.sh"

now_ns() { date +%s%N; }
# Arithmetic in awk: bc is not among the packages scripts/deps.sh installs.
secs() { awk -v n="$1" 'BEGIN { printf "%.3f\n", n / 1e9 }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
	else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.4f\n", a / b }'; }
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f\n", a - b }'; }

mkdir -p "$(dirname "$OUT")" || exit 1
for p in job_app kernels; do
	"$B/bin/dmtcp_mpicc" -O2 -o "$T/$p" "$ROOT/bench/$p.c" || die "cannot build $p"
done
for m in mpich openmpi; do
	"mpicc.$m" -O2 -o "$T/kernels-$m" "$ROOT/bench/kernels.c" || die "cannot build kernels-$m"
done
timeout 20 "$B/bin/dmtcp_mpi_coordinator" --daemon --port 0 --port-file "$T/port" \
	--ckptdir "$T/ck" --timeout 300 || die "cannot start a coordinator"
export DMTCP_MPI_COORD_PORT="$(cat "$T/port")"
cmd() { timeout "$LIMIT" "$B/bin/dmtcp_mpi_command" "$@"; }
COORD_PID=$(cmd --status | sed -n 's/^pid=//p')

# wait_for SECONDS TEST...: poll every 20 ms until TEST succeeds.
wait_for() {
	local n=$(($1 * 50))
	shift
	until "$@"; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.02
	done
}
all_ready() { [ "$(ls "$D"/ready.? "$D"/ready.?? 2>/dev/null | wc -l)" -eq "$N" ]; }
# alive_after T: the job wrote a time after T (kept in ALIVE).
alive_after() { ALIVE=$(cat "$D/alive" 2>/dev/null); [ -n "$ALIVE" ] && [ "$ALIVE" -gt "$1" ]; }

# restart_s MPI CKPT [MPIRUN OPTIONS]: seconds until the restored job
# works; the job ends.
restart_s() {
	local t0 rc m=$1 ck=$2
	shift 2
	rm -f "$D/stop" "$D/alive"
	t0=$(now_ns)
	timeout "$LIMIT" "mpirun.$m" "$@" -n "$N" "$B/bin/dmtcp_mpi_restart" "$ck" \
		>"$D.$m.out" 2>"$D.$m.err" </dev/null &
	local job=$!
	wait_for "$LIMIT" alive_after "$t0" || { kill "$job"; die "restart under $m never worked"; }
	local t1=$ALIVE
	touch "$D/stop"
	wait "$job"
	rc=$?
	[ "$rc" -eq 0 ] || die "restart under $m exited $rc (data wrong?): $(tail -n 3 "$D.$m.err")"
	secs $((t1 - t0))
}

# take_checkpoint MPI [MPIRUN OPTIONS]: job_app on N ranks under MPI,
# checkpointed once, then ended; sets CK (the checkpoint), JOB_S (the
# command's seconds) and SLOWEST (the largest engine time of a rank).
take_checkpoint() {
	local t0 t1 m=$1
	shift
	D=$T/run.$N
	rm -rf "$D"
	mkdir -p "$D"
	DMTCP_MPI_CKPT_VERBOSE=1 timeout "$LIMIT" "mpirun.$m" "$@" -n "$N" "$B/bin/dmtcp_mpi" \
		"$T/job_app" "$D" "$MIB" >"$D.out" 2>"$D.err" </dev/null &
	local job=$!
	wait_for "$LIMIT" all_ready || die "the job did not fill its memory: $(tail -n 3 "$D.err")"
	wait_for 60 sh -c "'$B/bin/dmtcp_mpi_command' --status | grep -qx 'ranks=$N/$N connected'" ||
		die "the job's ranks did not register"
	t0=$(now_ns)
	CK=$(cmd --checkpoint) || die "checkpoint failed"
	t1=$(now_ns)
	SLOWEST=$(sed -n 's/.*checkpoint .*: \([0-9.]*\) s (threads paused.*/\1/p' "$D.err" |
		sort -n | tail -n 1)
	[ "$(grep -c 'threads paused' "$D.err")" -eq "$N" ] ||
		die "not every rank reported its engine time"
	touch "$D/stop"
	wait "$job" || die "the checkpointed job under $m failed"
	JOB_S=$(secs $((t1 - t0)))
}

# one_checkpoint REP: a job checkpointed under MPICH and restarted both
# ways; appends "job slowest same other image_MB other_bound" to $T/ck.$N.
# Open MPI runs with --bind-to none, MPICH's default (as in bench/run.sh);
# other_bound is Open MPI's default binding (each rank to one core when
# there are at most 2 ranks), which confines the restore's decompressing
# threads to that core.
one_checkpoint() {
	local same other bound
	take_checkpoint mpich
	if [ $(($1 % 2)) -eq 1 ]; then
		same=$(restart_s mpich "$CK") || exit 1
		other=$(restart_s openmpi "$CK" --bind-to none) || exit 1
	else
		other=$(restart_s openmpi "$CK" --bind-to none) || exit 1
		same=$(restart_s mpich "$CK") || exit 1
	fi
	bound=$(restart_s openmpi "$CK") || exit 1
	echo "$JOB_S $SLOWEST $same $other $(du -sm "$CK" | cut -f1) $bound" \
		"$(startup_s mpich) $(startup_s openmpi)" >>"$T/ck.$N"
	printf '  %d ranks, run %d: job %s s, slowest rank %s s, restart same %s s, other %s s' \
		"$N" "$1" "$JOB_S" "$SLOWEST" "$same" "$other"
	printf ' (Open MPI default binding %s s)\n' "$bound"
	rm -rf "$CK"
}

# one_reverse REP: the same under Open MPI; appends "same other" to
# $T/rv.$N: restarts of the Open MPI image under Open MPI and under MPICH.
# With ck.$N this holds each launcher fixed: an image from the other MPI
# restarted by mpirun.X against one from X itself, so the MPIs' own
# start-up costs (Open MPI's mpirun and MPI_Init take longer) cancel out.
one_reverse() {
	local same other
	take_checkpoint openmpi --bind-to none
	if [ $(($1 % 2)) -eq 1 ]; then
		same=$(restart_s openmpi "$CK" --bind-to none) || exit 1
		other=$(restart_s mpich "$CK") || exit 1
	else
		other=$(restart_s mpich "$CK") || exit 1
		same=$(restart_s openmpi "$CK" --bind-to none) || exit 1
	fi
	echo "$same $other" >>"$T/rv.$N"
	printf '  %d ranks, run %d, checkpointed under Open MPI: restart same %s s, other %s s\n' \
		"$N" "$1" "$same" "$other"
	rm -rf "$CK"
}

# startup_s MPI: seconds of a native job that only starts, does one
# Allreduce and ends: what the MPI itself adds to any restart.
startup_s() {
	local t0 t1
	t0=$(now_ns)
	timeout "$LIMIT" "mpirun.$1" --bind-to none -n "$N" "$T/kernels-$1" coll 1 >/dev/null 2>&1 ||
		die "a native $1 job failed"
	t1=$(now_ns)
	secs $((t1 - t0))
}

# kernel_s KIND MODE: one kernel run's seconds; MODE on or off.
kernel_s() {
	local o=$T/kernel.out
	if [ "$2" = off ]; then
		DMTCP_MPI_NO_CKPT_BOOKKEEPING=1 DMTCP_MPI_NO_CLIENT=1 timeout "$LIMIT" \
			mpirun.mpich -n 2 "$B/bin/dmtcp_mpi" "$T/kernels" "$1" "$ITERS" >"$o" 2>&1
	else
		DMTCP_MPI_NO_CLIENT=1 timeout "$LIMIT" \
			mpirun.mpich -n 2 "$B/bin/dmtcp_mpi" "$T/kernels" "$1" "$ITERS" >"$o" 2>&1
	fi || die "kernel $1 ($2) failed: $(tail -n 3 "$o")"
	sed -n 's/^seconds=\([0-9.]*\) .*/\1/p' "$o"
}

{
echo "dmtcp_mpi job checkpoint benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores," \
	"load $(cut -d' ' -f1-3 /proc/loadavg), $MIB MiB per rank, $REPS checkpoints per rank count"
for N in $RANKS; do
	for rep in $(seq 1 "$REPS"); do
		one_checkpoint "$rep" || exit 1
		one_reverse "$rep" || exit 1
	done
done
echo "bookkeeping: $KREPS runs each way, interleaved, $ITERS iterations, 2 ranks, MPICH"
for kind in coll p2p; do
	: >"$T/k.$kind.on"
	: >"$T/k.$kind.off"
	for rep in $(seq 1 "$KREPS"); do
		kernel_s "$kind" on >>"$T/k.$kind.on" || exit 1
		kernel_s "$kind" off >>"$T/k.$kind.off" || exit 1
	done
	echo "  $kind: on $(tr '\n' ' ' <"$T/k.$kind.on")| off $(tr '\n' ' ' <"$T/k.$kind.off")"
done
echo
printf '%-6s %9s %9s %9s %10s %10s %11s %9s %10s %12s %14s\n' ranks "job s" "slowest s" \
	"job/slow" "restart s" "(other) s" "other/same" "image MB" "(bound) s" "native s" \
	"net other/same"
for N in $RANKS; do
	job=$(cut -d' ' -f1 "$T/ck.$N" | median)
	slow=$(cut -d' ' -f2 "$T/ck.$N" | median)
	same=$(cut -d' ' -f3 "$T/ck.$N" | median)
	other=$(cut -d' ' -f4 "$T/ck.$N" | median)
	mb=$(cut -d' ' -f5 "$T/ck.$N" | median)
	bound=$(cut -d' ' -f6 "$T/ck.$N" | median)
	nsame=$(cut -d' ' -f7 "$T/ck.$N" | median)
	nother=$(cut -d' ' -f8 "$T/ck.$N" | median)
	net=$(ratio "$(minus "$other" "$nother")" "$(minus "$same" "$nsame")")
	printf '%-6s %9s %9s %9s %10s %10s %11s %9s %10s %12s %14s\n' "$N" "$job" "$slow" \
		"$(ratio "$job" "$slow")" "$same" "$other" "$(ratio "$other" "$same")" "$mb" "$bound" \
		"$nsame/$nother" "$net"
	echo "ratio restart_net_other_over_same_$N $net" >>"$T/ratios"
	echo "ratio job_over_slowest_$N $(ratio "$job" "$slow")" >>"$T/ratios"
	echo "ratio restart_other_over_same_$N $(ratio "$other" "$same")" >>"$T/ratios"
done
echo "restart with the launcher held fixed: an image from the other MPI / one from its own"
printf '%-6s %14s %14s %9s %14s %14s %9s\n' ranks "mpich own s" "(openmpi's) s" ratio \
	"openmpi own s" "(mpich's) s" ratio
for N in $RANKS; do
	m_own=$(cut -d' ' -f3 "$T/ck.$N" | median)
	o_x=$(cut -d' ' -f4 "$T/ck.$N" | median)
	o_own=$(cut -d' ' -f1 "$T/rv.$N" | median)
	m_x=$(cut -d' ' -f2 "$T/rv.$N" | median)
	printf '%-6s %14s %14s %9s %14s %14s %9s\n' "$N" "$m_own" "$m_x" "$(ratio "$m_x" "$m_own")" \
		"$o_own" "$o_x" "$(ratio "$o_x" "$o_own")"
	echo "ratio restart_cross_under_mpich_$N $(ratio "$m_x" "$m_own")" >>"$T/ratios"
	echo "ratio restart_cross_under_openmpi_$N $(ratio "$o_x" "$o_own")" >>"$T/ratios"
done
for kind in coll p2p; do
	on=$(median <"$T/k.$kind.on")
	off=$(median <"$T/k.$kind.off")
	echo "bookkeeping $kind: median on $on s, off $off s, on/off $(ratio "$on" "$off")"
	echo "ratio bookkeeping_$kind $(ratio "$on" "$off")" >>"$T/ratios"
done
cat "$T/ratios"
} | tee "$OUT"
