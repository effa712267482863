#!/bin/bash
# run.sh - fault tests of scripts/dmtcp_mpi_run (make ft-check).
#
#   bash tests/ft/run.sh [BUILD_DIR]
#   (FT_CASES: which cases to run, default "kill coord disk input";
#   FT_KEEP=1 keeps the scratch directory for a look after a failure)
#
# ft_app.c runs on 2 ranks; its per-rank files from a native MPICH run
# that was never interrupted are the reference.  Cases:
#   kill   under MPICH, then under Open MPI with restarts alternating the
#          MPI: three times at random moments a random process of a rank
#          (application or proxy) is killed with SIGKILL; the run must end
#          with the reference files and the application's exit status,
#          after exactly three logged failures and restarts.
#   coord  the coordinator is killed after the first checkpoint: the job
#          goes on without checkpoints; then a rank is killed: the run
#          restarts from that checkpoint with a new coordinator and ends
#          with the reference files.
#   disk   the checkpoint directory is a tmpfs, filled after the first
#          checkpoint: the next ones fail and are logged, a rank is killed,
#          the run restarts from the first and ends with the reference.
#   input  bad command lines, unusable checkpoint directories, a latest
#          that names an incomplete checkpoint (nothing may be deleted),
#          a directory in use, giving up after --max-restarts, resuming
#          from a good latest, SIGUSR1 and SIGTERM to the script.
# Each check prints PASS or FAIL; the exit status is the number of FAILs.
# shellcheck disable=SC2317  # the cases are called as case_$c
set -u

ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
B=${1:-${B:-build}}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
RUN=$ROOT/scripts/dmtcp_mpi_run
CASES=${FT_CASES:-kill coord disk input}
STEPS=500
PAUSE_MS=20
APP_STATUS=3
NFAIL=0

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
export DMTCP_MPI_BINDIR=$B/bin
unset DMTCP_MPI_NO_CLIENT DMTCP_MPI_CKPTDIR DMTCP_MPI_COORD_HOST \
	DMTCP_MPI_COORD_PORT DMTCP_MPI_SECRET DMTCP_MPI_INTERVAL

pass() { echo "PASS: ft: $1"; }
fail() { echo "FAIL: ft: $1"; NFAIL=$((NFAIL + 1)); }
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

for f in dmtcp_mpi dmtcp_mpi_restart dmtcp_mpi_coordinator dmtcp_mpi_command dmtcp_mpicc; do
	if [ ! -x "$B/bin/$f" ]; then
		echo "FAIL: ft: not built: $B/bin/$f"
		exit 1
	fi
done
if ! command -v mpirun.mpich >/dev/null || ! command -v mpirun.openmpi >/dev/null; then
	echo "SKIP: ft: needs mpirun.mpich and mpirun.openmpi"
	exit 0
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/dmtcp_mpi-ft.XXXXXX") || exit 1
export DMTCP_MPI_TMPDIR=$T/tmp
MOUNTS=()
cleanup() {
	local p m
	for p in $(pgrep -f "$T/"); do kill -KILL "$p" 2>/dev/null; done
	for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
	if [ -n "${FT_KEEP:-}" ]; then
		echo "ft: files kept in $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$B/bin/dmtcp_mpicc" -O1 -o "$T/ft_app" "$ROOT/tests/ft/ft_app.c" ||
	{ fail "cannot build ft_app with dmtcp_mpicc"; exit 1; }
mpicc.mpich -O1 -o "$T/ft_app-native" "$ROOT/tests/ft/ft_app.c" ||
	{ fail "cannot build ft_app with mpicc.mpich"; exit 1; }

lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

mkdir -p "$T/ref"
timeout 120 mpirun.mpich -n 2 "$T/ft_app-native" "$T/ref" "$STEPS" 0 "$APP_STATUS" >/dev/null 2>"$T/ref.err"
rc=$?
check "native reference run (exit $rc)" [ $rc -eq "$APP_STATUS" ] && [ "$(lines "$T/ref/out.1")" -eq "$STEPS" ]

same_as_ref() { cmp -s "$T/ref/out.0" "$1/out.0" && cmp -s "$T/ref/out.1" "$1/out.1"; }
show_diff() {
	local r
	same_as_ref "$1" && return
	for r in 0 1; do
		diff "$T/ref/out.$r" "$1/out.$r" 2>&1 | head -4 | sed "s/^/    rank $r | /"
	done
}
show_log() { sed 's/^/    | /' "$1" | tail -"${2:-15}"; }
count() { grep -c -- "$1" "$2" 2>/dev/null; }

# start_run NAME [options]: dmtcp_mpi_run in the background on ft_app,
# writing into $T/NAME (output) and $T/NAME.ck (checkpoints).
start_run() {
	local name=$1
	shift
	rm -rf "${T:?}/$name"
	mkdir -p "$T/$name"
	timeout 300 "$RUN" --ckptdir "$T/$name.ck" -n 2 "$@" "$T/ft_app" \
		"$T/$name" "$STEPS" "$PAUSE_MS" "$APP_STATUS" \
		>"$T/$name.out" 2>"$T/$name.err" &
	RUN_PID=$!
}

# wait_log FILE PATTERN SECONDS: until FILE has a line matching PATTERN.
wait_log() {
	local n=$(($3 * 10))
	while ! grep -q -- "$2" "$1" 2>/dev/null && [ $n -gt 0 ]; do
		kill -0 "$RUN_PID" 2>/dev/null || break
		sleep 0.1
		n=$((n - 1))
	done
	grep -q -- "$2" "$1" 2>/dev/null
}

# The application and proxy processes of the run whose checkpoints go to
# CKDIR: the children of its launchers.
rank_processes() {
	local l
	for l in $(pgrep -f "^[^ ]*/bin/dmtcp_mpi --mpi=.*--ckptdir $1 "); do
		pgrep -P "$l"
	done
}

# no_job_left CKDIR: no mpirun, launcher or coordinator of that run.
no_job_left() {
	! pgrep -f "^[^ ]*(mpirun|dmtcp_mpi)[^ ]* .*$1( |$)" >/dev/null
}

# kill_random_rank CKDIR: SIGKILL one random application or proxy
# process; prints what it killed, fails if there was none.
kill_random_rank() {
	local procs victim
	read -r -a procs <<<"$(rank_processes "$1" | tr '\n' ' ')"
	[ ${#procs[@]} -gt 0 ] || return 1
	victim=${procs[RANDOM % ${#procs[@]}]}
	if grep -q proxy- "/proc/$victim/cmdline" 2>/dev/null; then
		echo "the proxy pid $victim"
	else
		echo "the application pid $victim"
	fi
	kill -KILL "$victim"
}

# wait_ranks CKDIR SECONDS: until 2 application and 2 proxy processes
# of the run exist and the job has been running a moment.
wait_ranks() {
	local n=$(($2 * 10))
	while [ "$(rank_processes "$1" | wc -l)" -lt 4 ] && [ $n -gt 0 ]; do
		kill -0 "$RUN_PID" 2>/dev/null || return 1
		sleep 0.1
		n=$((n - 1))
	done
	[ $n -gt 0 ]
}

# finish_run NAME: wait for the run; checks its status and output.
finish_run() {
	local name=$1 rc
	wait "$RUN_PID"
	rc=$?
	check "$name: exits with the application's status (got $rc)" [ $rc -eq "$APP_STATUS" ]
	check "$name: output identical to the uninterrupted native run" same_as_ref "$T/$name"
	show_diff "$T/$name"
	check "$name: finish logged" grep -q "finished: the application exited with status $APP_STATUS" "$T/$name.ck/run.log"
	check "$name: run.log and stderr agree" cmp -s <(grep ' dmtcp_mpi_run: ' "$T/$name.err") "$T/$name.ck/run.log"
	[ $rc -eq "$APP_STATUS" ] || show_log "$T/$name.err"
}

# ------------------------------------------------------------ kill

kill_three_times() {
	local name=$1 kills=0 what
	shift
	start_run "$name" --interval 1 --keep 2 --max-restarts 5 "$@"
	for _ in 1 2 3; do
		wait_ranks "$T/$name.ck" 60 || break
		sleep "$((RANDOM % 3)).$((RANDOM % 10))"
		what=$(kill_random_rank "$T/$name.ck") || continue
		kills=$((kills + 1))
		echo "    ft: $name: killed $what"
		# The next kill goes to the restarted job.
		wait_log "$T/$name.ck/run.log" "restarted from .*(restart $kills of" 60
	done
	finish_run "$name"
	check "$name: 3 ranks killed" [ $kills -eq 3 ]
	check "$name: 3 failures detected" [ "$(count 'failure detected' "$T/$name.ck/run.log")" -eq 3 ]
	check "$name: 3 restarts logged" [ "$(count ': restarted from' "$T/$name.ck/run.log")" -eq 3 ]
	check "$name: checkpoints beyond --keep 2 removed" \
		[ "$(find "$T/$name.ck" -maxdepth 1 -name 'ckpt_*' | wc -l)" -le 2 ]
}

case_kill() {
	kill_three_times kill-mpich --mpi mpich
	kill_three_times kill-openmpi --mpi openmpi --restart-mpi alternate
	check "kill-openmpi: restarts alternate between the MPIs" \
		sh -c "grep -q 'restarted from .* under mpich (restart 1 ' '$T/kill-openmpi.ck/run.log' &&
		       grep -q 'restarted from .* under openmpi (restart 2 ' '$T/kill-openmpi.ck/run.log'"
}

# ------------------------------------------------------------ coord

case_coord() {
	local name=coord log=$T/coord.ck/run.log cpid what
	start_run "$name" --interval 1 --max-restarts 2
	wait_log "$log" 'checkpoint 1 done' 60
	cpid=$(sed -n 's/.*coordinator started on .* (pid \([0-9]*\))$/\1/p' "$log" | head -1)
	check "coord: coordinator pid logged" [ -n "$cpid" ]
	kill -KILL "$cpid"
	check "coord: loss of the coordinator logged" wait_log "$log" 'coordinator lost' 30
	sleep 1
	what=$(kill_random_rank "$T/$name.ck")
	echo "    ft: coord: killed $what"
	check "coord: restarted from the checkpoint taken before" wait_log "$log" 'restarted from .*/ckpt_' 60
	finish_run "$name"
	check "coord: a new coordinator for the restart" [ "$(count 'coordinator started' "$log")" -eq 2 ]
}

# ------------------------------------------------------------ disk

# fill_disk DIR KB: take all free space of DIR's file system but KB.
fill_disk() {
	local avail
	avail=$(df -k --output=avail "$1" | tail -n 1)
	[ "$avail" -gt "$2" ] && fallocate -l "$(((avail - $2) * 1024))" "$1/filler"
}

case_disk() {
	local name=disk ck=$T/disk.ck log=$T/disk.ck/run.log what size
	mkdir -p "$ck"
	if ! mount -t tmpfs -o size=64m tmpfs "$ck" 2>"$T/mount.err"; then
		echo "SKIP: ft: disk: cannot mount a tmpfs ($(cat "$T/mount.err")); needs root"
		return
	fi
	MOUNTS+=("$ck")
	start_run "$name" --interval 2 --keep 1 --max-restarts 2
	check "disk: first checkpoint done" wait_log "$log" 'checkpoint 1 done' 60
	# Room for a quarter of a checkpoint, before the next one starts: less
	# than any rank's image, so every rank's write fails and removes its
	# part again, and the run's own log (on this file system too) keeps
	# room for the rank's error line.  With room for half a checkpoint,
	# one rank's image of 2 may just fit, leave the disk full, and the
	# error line that says why the checkpoint failed is lost: which
	# happens depends on a few KB of the images.
	size=$(du -sk "$ck"/ckpt_1_* | cut -f1)
	check "disk: filled, room left for a quarter of a checkpoint" fill_disk "$ck" \
		$((size / 4))
	check "disk: a checkpoint that does not fit fails and is logged" \
		wait_log "$log" 'checkpoint failed after .*No space left' 60
	check "disk: only the first checkpoint is complete" \
		[ "$(find "$ck" -maxdepth 1 -name 'ckpt_*' ! -name '*.tmp' | wc -l)" -eq 1 ]
	what=$(kill_random_rank "$ck")
	echo "    ft: disk: killed $what"
	check "disk: restarted from the first checkpoint" wait_log "$log" 'restarted from .*/ckpt_1_' 60
	finish_run "$name"
}

# ------------------------------------------------------------ input

# expect_error NAME CODE WHAT... : the run exits CODE with one error line.
expect_error() {
	local name=$1 code=$2 rc
	shift 2
	timeout 60 "$RUN" "$@" >"$T/in.out" 2>"$T/in.err"
	rc=$?
	check "input: $name: exit $code (got $rc)" [ $rc -eq "$code" ]
	check "input: $name: one error line" sh -c "[ \$(grep -c '^dmtcp_mpi_run: error: ' '$T/in.err') -eq 1 ]"
	[ $rc -eq "$code" ] || show_log "$T/in.err" 5
}

# A copy of a real checkpoint made by a short run, then spoiled by fn.
crafted() {
	local dir=$1
	rm -rf "$dir"
	cp -a "$T/good.ck" "$dir"
}

case_input() {
	local app=$T/ft_app out=$T/input ro=$T/ro rc latest holder
	mkdir -p "$out"
	expect_error "no arguments" 64
	expect_error "unknown option" 64 --bogus -n 2 "$app"
	expect_error "bad interval" 64 --interval soon -n 2 "$app"
	expect_error "no -n" 64 "$app"
	expect_error "-n 0" 64 -n 0 "$app"
	expect_error "bad --mpi" 64 --mpi lam -n 2 "$app"
	expect_error "missing value" 64 -n 2 --keep
	DMTCP_MPI_INTERVAL=often expect_error "bad DMTCP_MPI_INTERVAL" 64 -n 2 "$app"
	expect_error "missing program" 65 -n 2 "$T/no-such-app"
	: >"$T/plainfile"
	expect_error "ckptdir is a file" 77 --ckptdir "$T/plainfile" -n 2 "$app"
	expect_error "ckptdir under a file" 77 --ckptdir "$T/plainfile/ck" -n 2 "$app"
	mkdir -p "$ro"
	if mount -t tmpfs -o ro,size=1m tmpfs "$ro" 2>/dev/null; then
		MOUNTS+=("$ro")
		expect_error "read-only ckptdir" 77 --ckptdir "$ro" -n 2 "$app"
	else
		echo "SKIP: ft: input: read-only ckptdir: cannot mount a tmpfs"
	fi

	# A good checkpoint to spoil: a run checkpointed twice on SIGUSR1
	# (no interval), then stopped.
	start_run good --interval 0 --keep 5
	wait_ranks "$T/good.ck" 60
	kill -USR1 "$(pgrep -P "$RUN_PID")"
	wait_log "$T/good.ck/run.log" 'checkpoint 1 done' 60
	kill -USR1 "$(pgrep -P "$RUN_PID")"
	check "input: SIGUSR1 asks for a checkpoint (--interval 0)" \
		wait_log "$T/good.ck/run.log" 'checkpoint 2 done' 60
	kill -TERM "$RUN_PID"
	wait "$RUN_PID"
	rc=$?
	check "input: SIGTERM stops the run, exit 143 (got $rc)" [ $rc -eq 143 ]
	check "input: stop logged" grep -q 'stopped by SIGTERM' "$T/good.ck/run.log"
	check "input: no process of the stopped run left" no_job_left "$T/good.ck"
	latest=$(readlink "$T/good.ck/latest")
	check "input: the stopped run has a latest checkpoint" [ -n "$latest" ]

	crafted "$T/bad1.ck"
	sed -i '$d' "$T/bad1.ck/$latest/manifest"
	expect_error "latest without status=complete" 78 --ckptdir "$T/bad1.ck" -n 2 "$app" "$out" 10 0 0
	check "input: ... nothing deleted" [ -f "$T/bad1.ck/$latest/rank1.img" -a -L "$T/bad1.ck/latest" ]
	check "input: ... the error names latest" grep -q "latest -> $latest" "$T/in.err"

	crafted "$T/bad2.ck"
	rm "$T/bad2.ck/$latest/rank1.img"
	expect_error "latest missing a rank image" 78 --ckptdir "$T/bad2.ck" -n 2 "$app" "$out" 10 0 0
	check "input: ... nothing deleted" [ -f "$T/bad2.ck/$latest/rank0.img" -a -L "$T/bad2.ck/latest" ]
	expect_error "latest of another number of ranks" 78 --ckptdir "$T/good.ck" -n 3 "$app" "$out" 10 0 0

	flock -o "$T/good.ck/.lock" sleep 30 &
	holder=$!
	sleep 0.5
	expect_error "ckptdir in use" 77 --ckptdir "$T/good.ck" -n 2 "$app" "$out" 10 0 0
	pkill -P "$holder"
	wait "$holder" 2>/dev/null

	# Resuming from a good latest (a requeued batch job) finishes the job.
	timeout 300 "$RUN" --ckptdir "$T/good.ck" -n 2 "$app" "$T/good" \
		"$STEPS" "$PAUSE_MS" "$APP_STATUS" >"$T/good.out" 2>"$T/good.err"
	rc=$?
	check "input: resume from latest: exit $APP_STATUS (got $rc)" [ $rc -eq "$APP_STATUS" ]
	check "input: resume logged" grep -q "resuming from $T/good.ck/$latest" "$T/good.ck/run.log"
	check "input: resumed output identical to the native run" same_as_ref "$T/good"

	# Giving up: no restart allowed, a rank killed.
	start_run gaveup --interval 0 --max-restarts 0
	wait_ranks "$T/gaveup.ck" 60
	kill_random_rank "$T/gaveup.ck" >/dev/null
	wait "$RUN_PID"
	rc=$?
	check "input: --max-restarts 0 and a rank killed: exit 79 (got $rc)" [ $rc -eq 79 ]
	check "input: giving up logged" grep -q 'giving up: the job failed 1 times' "$T/gaveup.ck/run.log"
}

for c in $CASES; do
	"case_$c"
done
echo "ft: $NFAIL failed"
exit "$NFAIL"
