#!/bin/sh
# ckpt_all.sh - every self-checking program of mpi-tests/ checkpointed at
# random moments under MPICH, ended, restarted under Open MPI, and its
# output compared with an uninterrupted native run.
#
#   sh tests/ckpt-mpi/ckpt_all.sh [BUILD_DIR]
#
# Environment:
#   CKPT_ALL_SEED      seed of the moments (default: from the clock; always
#                      printed, so a failing run can be repeated)
#   CKPT_ALL_MOMENTS   checkpoints per program (default 3; make check: 2)
#   CKPT_ALL_PAUSE_US  MT_PAUSE_US of the programs (default 250000)
#   CKPT_ALL_LIMIT     seconds a job or a restart may take (default 120)
#   CKPT_ALL_ONLY      space-separated program names (default: all)
#   CKPT_ALL_KEEP=1    keep the scratch directory
#   CKPT_ALL_STRICT=1  failures of known-broken programs count too
#   CKPT_ALL_AT_MS     every moment at this many ms after registering
#                      instead of a random one (e.g. near the job's end)
#   CKPT_ALL_MPI=openmpi  run and checkpoint under Open MPI and restart
#                      under MPICH (default: the other way round)
#   CKPT_ALL_MODE      what follows the checkpoint of step 3 (default kill):
#                      kill    the job is killed and restarted (below);
#                      resume  nothing: the job runs on to its end, which
#                              must be exactly the native output (the
#                              resume path: drained messages, reposted
#                              receives, a proxy that lives on);
#                      chain   the restart is itself checkpointed at a
#                              random moment of the part left to it
#                              (in [0, 0.6 (L - first moment)]) and
#                              killed, and that image
#                              restarted under the first MPI; the three
#                              outputs must make the native one;
#                      exit    --checkpoint-and-exit: the job must end by
#                              itself, and its output plus the restart's
#                              must be the native output, no line twice.
#
# The programs are short, so they run with MT_PAUSE_US (mpi-tests/mt.h): at
# each phase boundary one rank sleeps and the others wait for it, in a
# receive or inside a collective the sleeper has not entered.  Per program:
#   1. a native MPICH run with the same pauses gives the reference output;
#   2. an uninterrupted run on dmtcp_mpi under MPICH gives the length L of
#      what a checkpoint can land in: from the moment the script sees
#      every rank registered with the coordinator to the job's end (the
#      native run's length was no guide: on a loaded machine the time
#      between registering and the first call varies with the proxies'
#      start, and 6 of 40 moments came after the end);
#   3. per moment, the program runs on dmtcp_mpi under MPICH; once all ranks
#      are registered the script waits a random time in [0, 0.6 L] (the
#      rest is for the command to start and the checkpoint to begin),
#      runs dmtcp_mpi_command --checkpoint, then --kill;
#   4. the checkpoint is restarted under Open MPI; it must exit 0, print no
#      `dmtcp_mpi: error`, its output must be the end of the reference and
#      the killed run's output its beginning, with no line left out between
#      them (they may overlap: the job ran on between checkpoint and kill).
# A moment that comes after the job ended by itself (its output is complete,
# nothing to checkpoint) is reported as LATE and not counted as a failure.
# Programs that end in a fatal MPI error by design are skipped (listed).
# Programs named in tests/ckpt-mpi/ckpt_all.known (NAME: the open bug) still
# run, but a failure of theirs prints KNOWN instead of FAIL and does not
# count unless CKPT_ALL_STRICT=1; take a name out once its bug is fixed.
# Each moment prints PASS or FAIL with the program, moment and delay; the
# exit status is 1 if anything failed.  A restart still running after the
# limit, or a checkpoint that failed while the job ran, leaves what every
# process of the job waited for (hang_dump.sh), printed after the summary
# so that the end of a CI log shows it.
set -u

ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/../.." && pwd)
B=${1:-${B:-build}}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
SRC=$ROOT/mpi-tests
SEED=${CKPT_ALL_SEED:-$(( $(date +%s) % 100000 ))}
MOMENTS=${CKPT_ALL_MOMENTS:-3}
PAUSE_US=${CKPT_ALL_PAUSE_US:-250000}
LIMIT=${CKPT_ALL_LIMIT:-120}
CFLAGS="-std=gnu11 -O1 -g"
KNOWN_LIST=$ROOT/tests/ckpt-mpi/ckpt_all.known
RUN_MPI=${CKPT_ALL_MPI:-mpich} RUN_NAME=MPICH
RS_MPI=openmpi RS_NAME="Open MPI"
[ "$RUN_MPI" = openmpi ] && RS_MPI=mpich RS_NAME=MPICH RUN_NAME="Open MPI"
MODE=${CKPT_ALL_MODE:-kill}
CK_CMD=--checkpoint
case $MODE in
kill|resume|chain) ;;
exit) CK_CMD=--checkpoint-and-exit ;;
*) echo "FAIL: ckpt_all: CKPT_ALL_MODE=$MODE: not kill, resume, chain or exit"; exit 1 ;;
esac
NFAIL=0 NPASS=0 NLATE=0 NKNOWN=0

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
unset DMTCP_MPI_PROXY DMTCP_MPI_NO_CLIENT DMTCP_MPI_CKPTDIR \
	DMTCP_MPI_COORD_HOST DMTCP_MPI_SECRET DMTCP_MPI_INTERVAL

for f in dmtcp_mpi dmtcp_mpi_restart dmtcp_mpi_coordinator dmtcp_mpi_command dmtcp_mpicc; do
	if [ ! -x "$B/bin/$f" ]; then
		echo "FAIL: ckpt_all: not built: $B/bin/$f"
		exit 1
	fi
done
if ! command -v mpirun.mpich >/dev/null || ! command -v mpirun.openmpi >/dev/null; then
	echo "SKIP: ckpt_all: needs mpirun.mpich and mpirun.openmpi"
	exit 0
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/dmtcp_mpi-ckpt-all.XXXXXX") || exit 1
export DMTCP_MPI_TMPDIR=$T/tmp
mkdir -p "$T/native" "$T/shim"
COORD_PID=
cleanup() {
	[ -n "$COORD_PID" ] && kill -TERM "$COORD_PID" 2>/dev/null
	for p in $(pgrep -f "$T/"); do kill -KILL "$p" 2>/dev/null; done
	if [ -n "${CKPT_ALL_KEEP:-}" ]; then
		echo "ckpt_all: files kept in $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

pass() { NPASS=$((NPASS + 1)); echo "PASS: ckpt_all: $*"; }
# fail WHAT: a failure, or a known one if the program ($n) is listed.
fail() {
	why=$(sed -n "s/^$n: //p" "$KNOWN_LIST" 2>/dev/null | head -n 1)
	if [ -n "$why" ] && [ -z "${CKPT_ALL_STRICT:-}" ]; then
		NKNOWN=$((NKNOWN + 1))
		echo "KNOWN: ckpt_all: $* (open bug: $why)"
	else
		NFAIL=$((NFAIL + 1))
		echo "FAIL: ckpt_all: $*"
	fi
}
indent() { sed 's/^/    | /' | head -n "${1:-10}"; }

# The next pseudo-random number in [0, 2^31): the same seed, the same moments.
RND=$SEED
next_random() { RND=$(( (RND * 1103515245 + 12345) % 2147483648 )); }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
sleep_ms() { sleep "$(( $1 / 1000 )).$(printf '%03d' $(( $1 % 1000 )))"; }

ranks_of() {
	r=$(sed -n 's|^/\* ranks: \([0-9][0-9]*\) \*/$|\1|p' "$SRC/$1.c" | head -n 1)
	echo "${r:-2}"
}

timeout 20 "$B/bin/dmtcp_mpi_coordinator" --daemon --port 0 \
	--port-file "$T/port" --ckptdir "$T/ck" --timeout 20 ||
	{ n=; fail "cannot start a coordinator"; exit 1; }
export DMTCP_MPI_COORD_PORT="$(cat "$T/port")"
cmd() { timeout 120 "$B/bin/dmtcp_mpi_command" "$@"; }
COORD_PID=$(cmd --status | sed -n 's/^pid=//p')

DUMP=$ROOT/tests/ckpt-mpi/hang_dump.sh

# alive PID: PID runs (a zombie not yet waited for does not).
alive() {
	st=$(sed 's/.*) //' /proc/"$1"/stat 2>/dev/null | cut -c1)
	[ -n "$st" ] && [ "$st" != Z ]
}

# bounded JOB HANGFILE: wait for background JOB for at most LIMIT s; rc
# is its exit status.  A JOB still running then is dumped into HANGFILE
# and killed with all its processes, and rc is 124.
bounded() {
	i=$((LIMIT * 10))
	while [ $i -gt 0 ] && alive "$1"; do
		sleep 0.1
		i=$((i - 1))
	done
	if alive "$1"; then
		sh "$DUMP" --kill "$1" >"$2" 2>&1
		wait "$1"
		rc=124
		return
	fi
	wait "$1"
	rc=$?
}

# wait_registered N JOB: until N ranks are connected, or JOB has ended.
wait_registered() {
	i=600
	while [ $i -gt 0 ] && kill -0 "$2" 2>/dev/null; do
		cmd --status 2>/dev/null | grep -qx "ranks=$1/$1 connected" && return 0
		sleep 0.1
		i=$((i - 1))
	done
	return 1
}

# covered REF BEFORE AFTER: BEFORE is a beginning of REF, AFTER is its end
# and the two leave no line of REF out.  The job runs on after its
# checkpoint until it is killed, so BEFORE may overlap AFTER; the restart
# must start from exactly the state of the image.
covered() {
	l=$(wc -l <"$1") b=$(wc -l <"$2") a=$(wc -l <"$3")
	[ "$a" -ge 1 ] && [ $((b + a)) -ge "$l" ] &&
		head -n "$b" "$1" | cmp -s - "$2" &&
		tail -n "$a" "$1" | cmp -s - "$3"
}

# covered_chain REF FIRST MID LAST: as covered, for a restart that was
# itself checkpointed and killed (CKPT_ALL_MODE=chain): MID is a run of
# REF's lines that starts within FIRST or right after it, and LAST
# starts within MID or right after it.
covered_chain() {
	l=$(wc -l <"$1") b=$(wc -l <"$2") m=$(wc -l <"$3") a=$(wc -l <"$4")
	[ "$a" -ge 1 ] && head -n "$b" "$1" | cmp -s - "$2" &&
		tail -n "$a" "$1" | cmp -s - "$4" || return 1
	s=0
	while [ $s -le "$b" ]; do
		[ $((s + m + a)) -ge "$l" ] && { [ "$m" -eq 0 ] ||
			sed -n "$((s + 1)),$((s + m))p" "$1" | cmp -s - "$3"; } && return 0
		s=$((s + 1))
	done
	return 1
}

# no_checkpoint WHAT ENDED [ERR]: the checkpoint command failed; LATE if
# the job had ended (ENDED is 1 when its output is complete) or was ending
# by itself, else a failure, shown with the errors the job printed to ERR
# (default $w.run.err; the restart's in chain mode) and the program's own
# failure lines (mt.h), which say why a job ended early.
no_checkpoint() {
	if grep -q 'no clients connected\| left during phase\|is not connected' "$w.cmd.err" &&
	   [ "$2" = 1 ]; then
		NLATE=$((NLATE + 1)) && rm -f "$w.hang"
		echo "LATE: ckpt_all: $1: the job had ended"
	elif grep -q ' left during phase\|is not connected' "$w.cmd.err"; then
		# Every rank had registered, so one that is gone had finished:
		# the job was ending, and our --kill cut the others' last lines.
		NLATE=$((NLATE + 1)) && rm -f "$w.hang"
		echo "LATE: ckpt_all: $1: a rank had already finished"
	else
		fail "$1: no checkpoint"
		indent <"$w.cmd.err"
		grep '^dmtcp_mpi: error\|: rank [0-9]*: line [0-9]*: ' "${3:-$w.run.err}" |
			indent 5
	fi
}

# judge_resumed WHAT: CKPT_ALL_MODE=resume, the job ran on after its
# checkpoint ($ck) to its end (rc): all of the native output, once.
judge_resumed() {
	if [ "$rc" -eq 124 ]; then
		fail "$1: the job still ran after $LIMIT s (stacks after the summary)"
	elif [ "$rc" -ne 0 ]; then
		fail "$1: the job exited $rc"
		indent 20 <"$w.run.err"
	elif ! cmp -s "$T/$n.ref" "$w.run.out"; then
		fail "$1: the output of the resumed job is not the native output"
		diff "$T/$n.ref" "$w.run.out" | indent
	elif grep -q '^dmtcp_mpi: error' "$w.run.err"; then
		fail "$1: the job printed errors"
		grep '^dmtcp_mpi: error' "$w.run.err" | indent
	elif [ -z "$ck" ]; then
		no_checkpoint "$1" 1
	else
		pass "$1: the job resumed and printed all $(wc -l <"$T/$n.ref") lines"
	fi
}

# checkpoint_restart WHAT MAX_MS: CKPT_ALL_MODE=chain, restart $ck under
# the other MPI, checkpoint that job at a random moment, kill it; ck is
# then that checkpoint (empty, and a verdict printed, if none).
checkpoint_restart() {
	next_random
	d2=$(( RND % ($2 + 1) ))
	what="$1, then at $d2 ms of its restart under $RS_NAME"
	"mpirun.$RS_MPI" -n "$r" "$B/bin/dmtcp_mpi_restart" "$ck" \
		>"$w.mid.out" 2>"$w.mid.err" </dev/null &
	job=$! first=$ck ck=
	if ! wait_registered "$r" "$job"; then
		wait "$job"
		rc=$?
		rm -rf "$first"
		# A short rest of the job can end before we see its ranks.
		if [ "$rc" -eq 0 ] && covered "$T/$n.ref" "$w.run.out" "$w.mid.out"; then
			NLATE=$((NLATE + 1))
			echo "LATE: ckpt_all: $what: the restart ended before its checkpoint"
			return
		fi
		fail "$what: the restart did not register (exit $rc)"
		indent <"$w.mid.err"
		return
	fi
	sleep_ms "$d2"
	ck=$(cmd --checkpoint 2>"$w.cmd.err")
	[ -z "$ck" ] && alive "$job" && sh "$DUMP" "$job" >"$w.hang" 2>&1
	cmd --kill >/dev/null 2>&1
	wait "$job"
	rm -rf "$first"
	[ -n "$ck" ] && return
	covered "$T/$n.ref" "$w.run.out" "$w.mid.out"
	no_checkpoint "$what" $((1 - $?)) "$w.mid.err"
}

# outputs: what the runs of this moment printed, in order.
outputs() {
	cat "$w.run.out"
	[ "$MODE" != chain ] || cat "$w.mid.out"
	cat "$w.rs.out"
}

# outputs_fit: they make the native output as CKPT_ALL_MODE asks.
outputs_fit() {
	case $MODE in
	chain) covered_chain "$T/$n.ref" "$w.run.out" "$w.mid.out" "$w.rs.out" ;;
	exit) outputs | cmp -s "$T/$n.ref" - ;;
	*) covered "$T/$n.ref" "$w.run.out" "$w.rs.out" ;;
	esac
}

# one_moment NAME RANKS K MAX_MS: steps 3 and 4 of the header, or what
# CKPT_ALL_MODE asks instead.
one_moment() {
	n=$1 r=$2 k=$3
	next_random
	delay=${CKPT_ALL_AT_MS:-$(( RND % ($4 + 1) ))}
	w=$T/$n.$k what="$n moment $k (${delay} of $4 ms)"
	MT_PAUSE_US=$PAUSE_US timeout "$LIMIT" "mpirun.$RUN_MPI" -n "$r" "$B/bin/dmtcp_mpi" \
		"$T/shim/$n" >"$w.run.out" 2>"$w.run.err" </dev/null &
	job=$!
	if ! wait_registered "$r" "$job"; then
		wait "$job"
		rc=$?
		if [ "$rc" -eq 0 ] && cmp -s "$T/$n.ref" "$w.run.out"; then
			NLATE=$((NLATE + 1))
			echo "LATE: ckpt_all: $what: the job ended before its checkpoint"
			return
		fi
		fail "$what: the job did not register (exit $rc)"
		indent <"$w.run.err"
		return
	fi
	sleep_ms "$delay"
	ck=$(cmd "$CK_CMD" 2>"$w.cmd.err")
	[ -z "$ck" ] && alive "$job" && sh "$DUMP" "$job" >"$w.hang" 2>&1
	case $MODE in
	resume)
		bounded "$job" "$w.hang"
		judge_resumed "$what"
		rm -rf "$ck"
		return ;;
	exit)
		bounded "$job" "$w.hang"
		if [ -n "$ck" ] && [ "$rc" -eq 124 ]; then
			fail "$what: the job still ran $LIMIT s after --checkpoint-and-exit"
			rm -rf "$ck"
			return
		fi ;;
	*)
		cmd --kill >/dev/null 2>&1
		wait "$job" ;;
	esac
	if [ -z "$ck" ]; then
		cmp -s "$T/$n.ref" "$w.run.out"
		no_checkpoint "$what" $((1 - $?))
		return
	fi
	rs_mpi=$RS_MPI rs_name=$RS_NAME
	if [ "$MODE" = chain ]; then
		# The restart runs only what was left at the first moment: its
		# moment is drawn from that part (drawn from the whole, a third
		# of them came after the restart's end: seed 18568, 31 of 90).
		left=$(( $4 - delay * 6 / 10 ))
		[ "$left" -ge 0 ] || left=0
		checkpoint_restart "$what" "$left"
		[ -n "$ck" ] || return
		rs_mpi=$RUN_MPI rs_name=$RUN_NAME
	fi
	"mpirun.$rs_mpi" -n "$r" "$B/bin/dmtcp_mpi_restart" "$ck" \
		>"$w.rs.out" 2>"$w.rs.err" </dev/null &
	bounded $! "$w.hang"
	if [ "$rc" -eq 124 ]; then
		fail "$what: restart under $rs_name still running after $LIMIT s (stacks after the summary)"
		tail -n 4 "$T"/tmp/coord-*.log | indent
	elif [ "$rc" -ne 0 ]; then
		fail "$what: restart under $rs_name exited $rc"
		indent 20 <"$w.rs.err"
	elif ! outputs_fit; then
		fail "$what: output before and after the restart does not make the native output"
		outputs | diff "$T/$n.ref" - | indent
	elif grep -q '^dmtcp_mpi: error' "$w.rs.err"; then
		fail "$what: the restart printed errors"
		grep '^dmtcp_mpi: error' "$w.rs.err" | indent
	else
		pass "$what: restart printed the last $(wc -l <"$w.rs.out") of $(wc -l <"$T/$n.ref") lines"
	fi
	rm -rf "$ck"
}

# shim_length NAME RANKS: step 2 of the header, in ms (0 if the run did
# not register).
shim_length() {
	MT_PAUSE_US=$PAUSE_US timeout "$LIMIT" "mpirun.$RUN_MPI" -n "$2" "$B/bin/dmtcp_mpi" \
		"$T/shim/$1" >"$T/$1.len.out" 2>"$T/$1.len.err" </dev/null &
	job=$!
	if ! wait_registered "$2" "$job"; then
		wait "$job"
		echo 0
		return
	fi
	t0=$(now_ms)
	wait "$job"
	echo $(( $(now_ms) - t0 ))
}

# one_program NAME: build both ways, the reference, then the moments.
one_program() {
	n=$1 r=$(ranks_of "$1")
	# shellcheck disable=SC2086
	if ! mpicc.mpich $CFLAGS -I"$SRC" -o "$T/native/$n" "$SRC/$n.c" >"$T/$n.build" 2>&1 ||
	   ! "$B/bin/dmtcp_mpicc" $CFLAGS -I"$SRC" -o "$T/shim/$n" "$SRC/$n.c" >>"$T/$n.build" 2>&1; then
		fail "$n: build"
		indent <"$T/$n.build"
		return
	fi
	MT_PAUSE_US=$PAUSE_US timeout 120 mpirun.mpich -n "$r" "$T/native/$n" \
		>"$T/$n.ref" 2>"$T/$n.ref.err" </dev/null
	rc=$?
	if [ "$rc" -ne 0 ] || [ "$(tail -n 1 "$T/$n.ref")" != "PASS $n" ]; then
		fail "$n: native reference run with pauses (exit $rc)"
		indent <"$T/$n.ref.err"
		return
	fi
	len=$(shim_length "$n" "$r")
	[ "$len" -ge 200 ] || len=200
	k=1
	while [ $k -le "$MOMENTS" ]; do
		one_moment "$n" "$r" "$k" $(( len * 6 / 10 ))
		k=$((k + 1))
	done
}

echo "ckpt_all: seed $SEED (CKPT_ALL_SEED), $MOMENTS moments per program, pauses of $PAUSE_US us, mode $MODE"
for f in "$SRC"/*.c; do
	n=$(basename "$f" .c)
	if [ -n "${CKPT_ALL_ONLY:-}" ]; then
		case " $CKPT_ALL_ONLY " in *" $n "*) ;; *) continue ;; esac
	fi
	if grep -q '^/\* expect: fatal ' "$f"; then
		echo "SKIP: ckpt_all: $n: ends in a fatal MPI error by design"
		continue
	fi
	one_program "$n"
done
echo "ckpt_all: seed $SEED: $NPASS passed, $NFAIL failed, $NKNOWN known failures, $NLATE late"
for h in "$T"/*.hang; do
	[ -s "$h" ] || continue
	w=${h%.hang}
	echo "ckpt_all: what the processes of ${w##*/} waited for:"
	head -n 150 "$h"
done
[ "$NFAIL" -eq 0 ]
