#!/bin/sh
# run.sh - the Slurm batch template (scripts/slurm/dmtcp_mpi.sbatch) on a
# real single-node Slurm started for the test.
#
#   sh tests/slurm/run.sh [BUILD_DIR]
#   (SLURM_CHECK_KEEP=1 keeps the scratch directory for a look afterwards)
#
# As root: installs slurm-wlm and munge if missing, starts munged,
# slurmctld and slurmd from a private configuration in a scratch directory
# (tests/slurm/cluster.sh; every daemon is stopped at exit), then submits
# the template with sbatch twice, each time running tests/ft/ft_app.c on
# 2 ranks:
#   kill:  ranks started by srun --mpi=pmi2 under MPICH, checkpointed
#          every 3 s; one application process is killed with SIGKILL once
#          a checkpoint is complete; dmtcp_mpi_run must restart the job
#          from it inside the allocation.
#   limit: ranks started by mpirun.openmpi with a 2-minute time limit,
#          shorter than the job; the template must checkpoint before the
#          limit, requeue the job, and the requeued job must resume from
#          that checkpoint.
# Each job must end COMPLETED with exit code 0 and per-rank output files
# equal to those of a native MPICH run that was never interrupted.
# Without root it prints SKIP (nothing can be installed or started).  Each
# check prints PASS or FAIL; the exit status is the number of FAILs.
set -u

ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/../.." && pwd)
B=${1:-${B:-build}}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
NFAIL=0

pass() { echo "PASS: slurm: $1"; }
fail() { echo "FAIL: slurm: $1"; NFAIL=$((NFAIL + 1)); }
skip() { echo "SKIP: slurm: $1"; exit 0; }
note() { echo "slurm: $*"; }

# ---------------------------------------------------------------- environment
PKGS="slurm-wlm munge"
have_slurm() {
	for c in slurmctld slurmd sbatch scontrol squeue munged munge unmunge; do
		command -v "$c" >/dev/null || [ -x "/usr/sbin/$c" ] || return 1
	done
}
if [ "$(id -u)" -ne 0 ]; then
	have_slurm || note "needs the Debian packages: apt-get install $PKGS"
	skip "needs root to start munged, slurmctld and slurmd"
fi
if ! have_slurm; then
	DMTCP_MPI_EXTRA_PKGS=$PKGS sh "$ROOT/scripts/deps.sh" ||
		skip "cannot install $PKGS with apt-get (no package source?)"
	have_slurm || { fail "$PKGS installed but its commands are missing"; exit 1; }
fi
runuser -u munge -- true 2>/dev/null ||
	skip "cannot run a process as the munge user (runuser failed: no setuid here?)"
for f in dmtcp_mpi dmtcp_mpi_command dmtcp_mpicc; do
	[ -x "$B/bin/$f" ] || { fail "not built: $B/bin/$f"; exit 1; }
done
for f in scripts/dmtcp_mpi_run scripts/slurm/dmtcp_mpi.sbatch tests/ft/ft_app.c; do
	[ -f "$ROOT/$f" ] || { fail "missing: $ROOT/$f"; exit 1; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/dmtcp_mpi-slurm.XXXXXX") || exit 1
# munged runs as munge and must reach its directory inside.
chmod 0755 "$T"
. "$ROOT/tests/slurm/cluster.sh"

cleanup() {
	for j in $(squeue -h -o %i 2>/dev/null); do scancel "$j" 2>/dev/null; done
	sc_stop
	for p in $(pgrep -f "$T/"); do kill -KILL "$p" 2>/dev/null; done
	if [ -n "${SLURM_CHECK_KEEP:-}" ]; then
		note "files kept in $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export DMTCP_MPI_TMPDIR=$T/tmp
unset DMTCP_MPI_PROXY DMTCP_MPI_NO_CLIENT DMTCP_MPI_CKPTDIR DMTCP_MPI_INTERVAL \
	DMTCP_MPI_COORD_HOST DMTCP_MPI_COORD_PORT DMTCP_MPI_SECRET

"$B/bin/dmtcp_mpicc" -O1 -o "$T/ft_app" "$ROOT/tests/ft/ft_app.c" ||
	{ fail "cannot build ft_app with dmtcp_mpicc"; exit 1; }
mpicc.mpich -O1 -o "$T/ft_app-native" "$ROOT/tests/ft/ft_app.c" ||
	{ fail "cannot build ft_app with mpicc.mpich"; exit 1; }

# reference STEPS: the files of a native MPICH run of STEPS steps, never
# interrupted, in $T/ref.STEPS (the output does not depend on the pause
# between steps).
reference() {
	[ -f "$T/ref.$1/out.1" ] && return 0
	mkdir -p "$T/ref.$1"
	timeout 120 mpirun.mpich -n 2 "$T/ft_app-native" "$T/ref.$1" "$1" 0 0 \
		>/dev/null 2>"$T/ref.err" && [ "$(wc -l <"$T/ref.$1/out.1")" -eq "$1" ]
}

sc_start "$T/slurm" || {
	tail -n 5 "$T"/slurm/*.log "$T"/slurm/*.out "$T"/slurm/munge/*.log 2>/dev/null
	fail "cannot start a single-node Slurm"
	exit 1
}
pass "single-node Slurm up (munged, slurmctld, slurmd)"

# ---------------------------------------------------------------- helpers
lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }

# wait_file_grep FILE PATTERN SECONDS: until FILE has a line matching PATTERN.
wait_file_grep() {
	n=$(($3 * 2))
	until grep -q -- "$2" "$1" 2>/dev/null; do
		[ $n -gt 0 ] || return 1
		sleep 0.5
		n=$((n - 1))
	done
}

job_field() { scontrol -o show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# wait_job ID SECONDS: until the job has ended (it is kept for MinJobAge).
wait_job() {
	n=$(($2 / 2))
	while [ $n -gt 0 ]; do
		case $(job_field "$1" JobState) in
		PENDING | RUNNING | REQUEUED | CONFIGURING | COMPLETING | REQUEUE_HOLD | REQUEUE_FED | RESIZING | SUSPENDED | "") ;;
		*) return 0 ;;
		esac
		sleep 2
		n=$((n - 1))
	done
	return 1
}

# submit NAME STEPS PAUSE_MS SBATCH_OPTIONS...: the template on ft_app
# (STEPS steps of PAUSE_MS) writing into $T/NAME; the batch log is
# $T/NAME.log, checkpoints in $T/NAME.ck.  Prints the job id.
submit() {
	name=$1 steps=$2 pause=$3
	shift 3
	mkdir -p "$T/$name"
	DMTCP_MPI_RUN=$ROOT/scripts/dmtcp_mpi_run DMTCP_MPI_CKPTDIR=$T/$name.ck \
		sbatch --parsable -J "$name" -n 2 -D "$T" -o "$T/$name.log" "$@" \
		"$ROOT/scripts/slurm/dmtcp_mpi.sbatch" "$T/ft_app" "$T/$name" "$steps" "$pause" 0
}

# check_outcome NAME ID STEPS: the job completed with status 0 and its
# output equals the reference.
check_outcome() {
	ref=$T/ref.$3
	state=$(job_field "$2" JobState) code=$(job_field "$2" ExitCode)
	if [ "$state" = COMPLETED ] && [ "$code" = 0:0 ]; then
		pass "$1: job $2 COMPLETED with exit code 0"
	else
		fail "$1: job $2 ended $state with exit code $code (log: $T/$1.log)"
		tail -n 15 "$T/$1.log" | sed "s/^/    $1.log | /"
	fi
	if ! reference "$3"; then
		fail "$1: native reference run of $3 steps"
	elif cmp -s "$ref/out.0" "$T/$1/out.0" && cmp -s "$ref/out.1" "$T/$1/out.1"; then
		pass "$1: output identical to an uninterrupted native run"
	else
		fail "$1: output differs from an uninterrupted native run"
		for r in 0 1; do
			diff "$ref/out.$r" "$T/$1/out.$r" | head -5 | sed "s/^/    rank $r | /"
		done
	fi
}

# ---------------------------------------------------------------- kill a rank
# 240 steps of 100 ms: about 25 s of work.
export DMTCP_MPI_INTERVAL=3 DMTCP_MPI_SLURM_MPI=mpich \
	DMTCP_MPI_SLURM_LAUNCHER="srun --mpi=pmi2"
JOB=$(submit kill 240 100 --time=10) || { fail "kill: sbatch refused the template"; exit 1; }
note "kill: job $JOB submitted"
if wait_file_grep "$T/kill.ck/run.log" "checkpoint [0-9]* done" 120; then
	victims=$(pgrep -f "^$T/ft_app $T/kill ")
	if [ "$(echo "$victims" | wc -l)" -eq 2 ]; then
		pick=$(($(od -An -N1 -tu1 /dev/urandom) % 2 + 1))
		victim=$(echo "$victims" | sed -n "${pick}p")
		kill -KILL "$victim"
		note "kill: killed application process $victim of 2 after $(lines "$T/kill/out.0") steps"
	else
		fail "kill: expected 2 application processes, found: ${victims:-none}"
	fi
else
	fail "kill: no complete checkpoint within 120 s"
fi
wait_job "$JOB" 180 || fail "kill: job $JOB still not ended after 180 s"
check_outcome kill "$JOB" 240
if grep -q "failure detected" "$T/kill.ck/run.log" &&
   grep -q "restarted from $T/kill.ck/ckpt_" "$T/kill.ck/run.log"; then
	pass "kill: dmtcp_mpi_run restarted the job from a checkpoint inside the allocation"
else
	fail "kill: run.log shows no restart from a checkpoint"
	sed 's/^/    run.log | /' "$T/kill.ck/run.log"
fi

# ---------------------------------------------------------------- time limit
# 320 steps of 250 ms: 80 s of work, with a 2-minute limit and a
# checkpoint 40 s before it.  Slurm looks at time limits every 30 s or
# so, and sends the signal between 70 and 40 s before the limit: after
# 50 to 80 s, before the job is done.  The requeued job waits about
# 20 s (cred_expire, scheduling) and ends within its second run; on a
# loaded machine a slow second run is checkpointed and requeued again, so
# the wait allows a third.
export DMTCP_MPI_INTERVAL=0 DMTCP_MPI_SLURM_MPI=openmpi DMTCP_MPI_SLURM_LAUNCHER=mpirun \
	DMTCP_MPI_SLURM_MARGIN=40
JOB=$(submit limit 320 250 --time=2 --signal=B:USR1@40) ||
	{ fail "limit: sbatch refused the template"; exit 1; }
note "limit: job $JOB submitted"
wait_job "$JOB" 480 || fail "limit: job $JOB still not ended after 480 s"
check_outcome limit "$JOB" 320
restarts=$(job_field "$JOB" Restarts)
if [ "${restarts:-0}" -ge 1 ] && grep -q "requeueing job $JOB" "$T/limit.log" &&
   grep -q "resuming from $T/limit.ck/ckpt_" "$T/limit.ck/run.log"; then
	pass "limit: checkpointed before the time limit, requeued ($restarts time(s)) and resumed"
else
	fail "limit: no checkpoint-requeue-resume cycle (Restarts=$restarts)"
	sed 's/^/    limit.log | /' "$T/limit.log"
fi

exit $NFAIL
