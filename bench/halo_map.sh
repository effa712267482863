#!/bin/bash
# halo_map.sh - `make bench-halo-map`: bench/halo_map.c under each MPI,
# native only: the halo exchange on a malloc'ed, a MAP_SHARED and a
# huge-page grid, interleaved in one run (doc/performance.md).
#
#   bash bench/halo_map.sh [BUILD_DIR] [n] [rounds]
#
# Prints "MPI kind exch/s ratio" lines; exits non-zero if a run failed.
# Scheduling as bench/run.sh's (which says why): SCHED_FIFO priority 1
# for the ranks when chrt may use it, unless DMTCP_MPI_BENCH_SCHED=other.
set -u

B=${1:-build}
N=${2:-2048}
ROUNDS=${3:-15}
MPIS=${MPIS:-mpich openmpi}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1

POLICY=()
[ "${DMTCP_MPI_BENCH_SCHED:-fifo}" = fifo ] && chrt -f 1 true 2>/dev/null && POLICY=(chrt -f 1)

failed=0
for mpi in $MPIS; do
	prog=$B/bench/halo_map-$mpi
	[ -x "$prog" ] || { echo "dmtcp_mpi: error: $prog is missing: run make bench-halo-map" >&2; exit 1; }
	opts=()
	[ "$mpi" = openmpi ] && opts=(--bind-to none)
	out=$(timeout -k 5 120 "mpirun.$mpi" -n 2 "${opts[@]}" "${POLICY[@]}" "$prog" "$N" "$ROUNDS") || {
		echo "dmtcp_mpi: error: halo_map failed under $mpi (exit $?)" >&2
		failed=1
		continue
	}
	printf '%s\n' "$out" | sed "s/^/$mpi /"
done
exit $failed
