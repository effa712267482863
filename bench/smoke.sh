#!/bin/bash
# smoke.sh - `make bench-smoke`: every benchmark once, at its least, under
# both MPIs, so that `make check` sees a benchmark or a helper of theirs
# (bench/timing.h, bench/job_env.sh) break; nothing is measured.
#
#   bash bench/smoke.sh [BUILD_DIR]     (the Makefile builds the programs first)
#
# DMTCP_MPI_BENCH_SMOKE=1 makes each loop of mpibench and level_app run
# once (bench/timing.h).  Checks, each printed PASS or FAIL:
#   bench/run.sh (mpibench natively and through dmtcp_mpi, the chain
#     floor, the channel round trip; one repetition) exits 0 and its
#     table has a value in every column of every row: a row whose
#     benchmark printed nothing shows "-" (bench/table.awk);
#   bench/job_ckpt.sh (2 ranks of 1 MiB, one checkpoint under each MPI,
#     kernels of 100 iterations) exits 0 and prints each of its ratios;
#   bench/restart_level.sh (one repetition of each arm) exits 0 and
#     prints a latency for each MPI and arm;
#   bench/halo_map.sh (one exchange per grid) exits 0 and prints a rate
#     for each MPI and grid.
# The exit status is the number of FAILs.  About 20 s on 2 busy cores.
set -u

ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
B=${1:-build}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
export DMTCP_MPI_BENCH_SMOKE=1
NFAIL=0

OUT=$(mktemp -d "${TMPDIR:-/tmp}/dmtcp_mpi-bench-smoke.XXXXXX") || exit 1
trap 'rm -rf "$OUT"' EXIT
trap 'exit 1' INT TERM

check() {
	local what=$1
	shift
	if "$@"; then
		echo "PASS: bench-smoke: $what"
	else
		echo "FAIL: bench-smoke: $what"
		NFAIL=$((NFAIL + 1))
	fi
}

# runs NAME LOG CMD...: CMD exits 0; else the end of LOG is shown.
runs() {
	local name=$1 log=$2
	shift 2
	"$@" >"$log" 2>&1 && return 0
	echo "$name failed (exit $?):" >&2
	tail -n 15 "$log" | sed 's/^/    | /' >&2
	return 1
}

# The table's rows: from its header line to the blank line after them.
table_filled() {
	awk '/^benchmark/ { on = 1; next } on && NF == 0 { exit }
	     on { rows++; for (i = 1; i <= NF; i++) if ($i == "-") { print "empty: " $0; bad = 1 } }
	     END { exit bad || rows < 20 }' "$OUT/results.txt" >&2
}

# ratios FILE NAME...: a line "ratio NAME <number>" for each NAME.
ratios() {
	local f=$1 k
	shift
	for k in "$@"; do
		grep -Eq "^ratio $k -?[0-9]*\.?[0-9]+$" "$f" || { echo "no ratio $k" >&2; return 1; }
	done
}

# level_rows FILE: "MPI ARM LEVEL US (RATIO) ..." for each MPI and arm.
level_rows() {
	local m a
	for m in mpich openmpi; do
		for a in single funneled multiple restart; do
			grep -Eq "^$m +$a +[a-z]+ +[0-9.]+ \(" "$1" ||
				{ echo "no row $m $a" >&2; return 1; }
		done
	done
}

check "make bench's run (bench/run.sh) ends normally" \
	runs run.sh "$OUT/run.log" env B="$B" DMTCP_MPI_BENCH_REPS=1 DMTCP_MPI_BENCH_SCHED=other \
	DMTCP_MPI_BENCH_OUT="$OUT" bash "$ROOT/bench/run.sh"
check "... every row of its table has every value" table_filled

check "the job checkpoint benchmark (bench/job_ckpt.sh) ends normally" \
	runs job_ckpt.sh "$OUT/job.log" env JOB_BENCH_RANKS=2 JOB_BENCH_MIB=1 JOB_BENCH_REPS=1 \
	JOB_BENCH_KREPS=1 JOB_BENCH_ITERS=100 JOB_BENCH_OUT="$OUT/job_ckpt.txt" \
	bash "$ROOT/bench/job_ckpt.sh" "$B"
check "... it prints each ratio" ratios "$OUT/job_ckpt.txt" restart_net_other_over_same_2 \
	job_over_slowest_2 restart_other_over_same_2 restart_cross_under_mpich_2 \
	restart_cross_under_openmpi_2 bookkeeping_coll bookkeeping_p2p

check "the restarted job's latency benchmark (bench/restart_level.sh) ends normally" \
	runs restart_level.sh "$OUT/level.txt" env LEVEL_BENCH_REPS=1 \
	bash "$ROOT/bench/restart_level.sh" "$B"
check "... it prints a row for each MPI and arm" level_rows "$OUT/level.txt"

# map_rows FILE: "MPI KIND RATE exch/s RATIOx heap" for each MPI and grid.
map_rows() {
	local m k
	for m in mpich openmpi; do
		for k in heap shared thp; do
			grep -Eq "^$m +$k +[0-9]+ exch/s +[0-9.]+x heap$" "$1" ||
				{ echo "no row $m $k" >&2; return 1; }
		done
	done
}

check "the halo mapping benchmark (bench/halo_map.sh) ends normally" \
	runs halo_map.sh "$OUT/halo_map.txt" env DMTCP_MPI_BENCH_SCHED=other \
	bash "$ROOT/bench/halo_map.sh" "$B"
check "... it prints a row for each MPI and grid" map_rows "$OUT/halo_map.txt"

echo "bench-smoke: $NFAIL failed"
exit "$NFAIL"
