#!/bin/bash
# run.sh - `make bench`: dmtcp_mpi against the real MPI, in one run.
#
#   B=build bash bench/run.sh        (the Makefile builds the programs first)
#
# Runs bench/mpibench.c built natively (mpibench-<mpi>) and through
# dmtcp_mpi (mpibench-ours) under each installed MPI, INTERLEAVED: for each
# of $DMTCP_MPI_BENCH_REPS repetitions (default 5) and each benchmark, the
# native run, then ours, so a change in machine load hits both alike.  The
# chain floor (bench/chain_floor.c) and the channel's round trip alone
# (bench/chan_pingpong.c) run once per repetition too.  Each
# value is the median over the repetitions of each run's own median;
# a ratio is the median over the repetitions of ours/native within each
# (bench/table.awk says why).
#
# The table goes to stdout and to $B/bench/results.txt; every raw sample
# to $B/bench/raw.txt ("mpi impl rep key value"); DMTCP_MPI_BENCH_OUT names
# another directory for both.  Targets are checked here only (never in
# tests): the "target" column says met or missed.  DMTCP_MPI_BENCH_SMOKE
# runs every loop once (bench/timing.h; bench/smoke.sh): a table whose
# numbers mean nothing, every row filled.
#
# Open MPI runs with --bind-to none, MPICH's default, in both builds: the
# dmtcp_mpi launcher places the app and its proxy itself.
#
# Scheduling ($DMTCP_MPI_BENCH_SCHED): "fifo" (the default when chrt may
# use it, i.e. as root) runs every benchmark process under SCHED_FIFO
# priority 1, so ordinary (SCHED_OTHER) load on a shared machine cannot
# take the CPUs in the middle of a measurement; the kernel still leaves
# that load 5% of each CPU, so a batch may be hit, which the medians
# absorb.  A yield then hands the CPU to the other benchmark process on
# it, exactly as on an idle machine.  "other" runs at the normal policy.
# Only the ranks (launcher, proxy, app) run under FIFO; mpirun, its
# helpers and `timeout` keep the normal policy and so their 5%, enough to
# end a stuck run.  FIFO is safe here only because no run puts two ranks
# on one CPU: an MPI that busy-polls without yielding would starve a rank
# sharing its CPU forever.
set -u

B=${B:-build}
REPS=${DMTCP_MPI_BENCH_REPS:-5}
TIMEOUT=${DMTCP_MPI_BENCH_TIMEOUT:-120}
KILL_AFTER=5 # seconds between timeout's TERM and its KILL
DIR=$B/bench
OUT=${DMTCP_MPI_BENCH_OUT:-$DIR}
RAW=$OUT/raw.txt
RES=$OUT/results.txt
MPIS=${MPIS:-mpich openmpi}
# mpibench modes to run; a subset (DMTCP_MPI_BENCH_SET="exchange") for a
# quicker look at some rows, the others then print "-".
BENCHES=${DMTCP_MPI_BENCH_SET:-null p2p compute exchange}
COMPUTE_STEPS=200 # x ~10 ms: ~2 s of compute per run
ROUNDS=20000      # of chain_floor and chan_pingpong
[ "${DMTCP_MPI_BENCH_SMOKE:-0}" != 0 ] && ROUNDS=100 # their least

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1

for f in chain_floor chan_pingpong mpibench-ours; do
	[ -x "$DIR/$f" ] || { echo "dmtcp_mpi: error: $DIR/$f is missing: run make bench" >&2; exit 1; }
done
LAUNCHER=$(cd "$B/bin" && pwd)/dmtcp_mpi
SCHED=${DMTCP_MPI_BENCH_SCHED:-}
if [ -z "$SCHED" ]; then
	SCHED=other
	chrt -f 1 true 2>/dev/null && SCHED=fifo
fi
case $SCHED in
fifo) POLICY=(chrt -f 1) ;;
other) POLICY=() ;;
*) echo "dmtcp_mpi: error: bad DMTCP_MPI_BENCH_SCHED ($SCHED): want fifo or other" >&2; exit 64 ;;
esac
: >"$RAW"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# run MPI IMPL REP NRANKS ARGS...: one benchmark run, its lines into RAW.
run() {
	local mpi=$1 impl=$2 rep=$3 n=$4 out rc
	shift 4
	local prog=$DIR/mpibench-$mpi launch=()
	[ "$impl" = ours ] && prog=$DIR/mpibench-ours launch=("$LAUNCHER")
	local opts=()
	[ "$mpi" = openmpi ] && opts=(--bind-to none)
	out=$(timeout -k "$KILL_AFTER" "$TIMEOUT" "mpirun.$mpi" -n "$n" "${opts[@]}" "${POLICY[@]}" "${launch[@]}" "$prog" "$@")
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "dmtcp_mpi: error: bench run failed ($mpi $impl: mpibench $*): exit $rc" >&2
		return 1
	fi
	printf '%s\n' "$out" | awk -v p="$mpi $impl $rep" 'NF == 2 { print p, $0 }' >>"$RAW"
}

# The compute kernel does the same work in every run: size it once here.
WORK=$(timeout -k "$KILL_AFTER" "$TIMEOUT" mpirun.mpich -n 1 "${POLICY[@]}" "$DIR/mpibench-mpich" calibrate) || {
	echo "dmtcp_mpi: error: bench calibration failed (mpibench-mpich calibrate)" >&2
	exit 1
}

failed=0
for rep in $(seq 1 "$REPS"); do
	echo "bench: repetition $rep of $REPS" >&2
	timeout -k "$KILL_AFTER" "$TIMEOUT" "${POLICY[@]}" "$DIR/chain_floor" "$ROUNDS" | awk -v p="floor floor $rep" '{ print p, $0 }' >>"$RAW" ||
		failed=1
	# The channel's own round trip, app and proxy on two CPUs: the floor
	# of the 1-rank null call.
	timeout -k "$KILL_AFTER" "$TIMEOUT" "${POLICY[@]}" "$DIR/chan_pingpong" "$ROUNDS" |
		awk -v p="chan chan $rep" '$2 == "cpus" { for (i = 1; i < NF; i++)
			if ($i == "median") print p, "chan_rt", $(i + 1) / 1000 }' >>"$RAW" ||
		failed=1
	for mpi in $MPIS; do
		for impl in native ours; do
			for bench in $BENCHES; do
				case $bench in
				null) run "$mpi" "$impl" "$rep" 1 null ;;
				compute) run "$mpi" "$impl" "$rep" 2 compute "$COMPUTE_STEPS" "$WORK" ;;
				*) run "$mpi" "$impl" "$rep" 2 "$bench" ;;
				esac || failed=1
			done
		done
	done
done

{
	echo "dmtcp_mpi bench, $(date -u '+%Y-%m-%d %H:%M UTC'), $REPS interleaved repetitions, scheduling: $SCHED"
	echo "host: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, Linux $(uname -r), load average before: $LOAD0, after: $(cut -d' ' -f1-3 /proc/loadavg)"
	awk -v mpis="$MPIS" -f bench/table.awk "$RAW"
} | tee "$RES"
exit $failed
