# job_env.sh - sourced by the benchmarks that run whole jobs with their own
# coordinator (bench/job_ckpt.sh, bench/restart_level.sh), after they set
# BENCH_NAME: both MPIs usable as root with more ranks than cores, none of
# the caller's dmtcp_mpi settings leaking in, and a private directory $T
# that takes every process started under it along when the script ends.

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
unset DMTCP_MPI_PROXY DMTCP_MPI_NO_CLIENT DMTCP_MPI_CKPTDIR DMTCP_MPI_COORD_HOST \
	DMTCP_MPI_SECRET DMTCP_MPI_INTERVAL DMTCP_MPI_NO_CKPT_BOOKKEEPING

T=$(mktemp -d "${TMPDIR:-/tmp}/dmtcp_mpi-$BENCH_NAME-bench.XXXXXX") || exit 1
export DMTCP_MPI_TMPDIR=$T/tmp
COORD_PID=
cleanup() {
	[ -n "$COORD_PID" ] && kill -TERM "$COORD_PID" 2>/dev/null
	for p in $(pgrep -f "$T/"); do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

die() { echo "$BENCH_NAME: $*" >&2; exit 1; }
