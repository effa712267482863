#!/bin/bash
# mpich-suite-ckpt.sh - MPICH's test suite checkpointed at random moments:
# a hunt for checkpoint/restart bugs in patterns nobody here wrote.
#
#   bash scripts/mpich-suite-ckpt.sh [--seed S] [--seeds N] [--mpi mpich|openmpi]
#                                    [--mode kill|resume] [--at MS] [--long] [--subset]
#                                    [--dirs "pt2pt coll ..."] [--only GLOB] [-v]
#
# The entries are those of scripts/mpich-suite.sh (sourced for its
# fetching, building, selection and judging: same testlists, rank counts,
# arg=, env=, skips, --subset, --dirs and --only), built the same way
# with dmtcp_mpicc.  Per entry:
#   1. a run under dmtcp_mpi without a checkpoint under each MPI: an entry
#      that fails so is skipped (the plain suite run is the place to look
#      at it), and the run under --mpi's MPI (default mpich) gives the
#      length L of what a checkpoint can land in, from the moment every
#      rank is registered with the coordinator to the job's end;
#   2. per seed, the entry runs again under --mpi's MPI; once every rank
#      is registered the script waits a time in [0, 0.6 L] drawn from the
#      seed and the entry (so `--seed S --only ID` replays a moment, and
#      --at MS fixes it), then runs dmtcp_mpi_command --checkpoint, then
#      --kill;
#   3. the image is restarted with dmtcp_mpi_restart under the other MPI.
# PASS when the restart exits 0, the output of the run and the restart
# together passes as the entry's resultTest= asks (a line " No Errors";
# basic/: exit 0), and neither printed a `dmtcp_mpi: error` (but those
# --kill causes in the run: each rank's SIGTERM and its end without
# MPI_Finalize).  LATE, not a failure, when the job ended, or a rank had
# finished, before the checkpoint could take it.  --mode resume leaves
# the job running after its checkpoint instead of killing it: it must
# then pass by itself.  Skipped besides mpich-suite.sh's skips: entries
# judged by a failing exit (resultTest=TestStatus, TestErrFatal: they end
# in an MPI error by design), and, without --long, entries whose
# timeLimit= exceeds DMTCP_MPI_SUITE_TIMEOUT (up to 10 minutes a run,
# three runs and more per entry).
#
# Each moment prints PASS, FAIL or LATE with its seed; the end is a table
# per directory and the line `N passed, N failed, N late, N skipped`; the
# exit status is 1 if anything failed.  The passes of step 1 are kept in
# $B/mpich-suite/ckpt/baseline.<mpi> per program (sha256), entry and
# timeout, so later runs go straight to the checkpoints; logs of failed
# moments stay in $B/mpich-suite/ckpt/logs.
#
# Environment: that of scripts/mpich-suite.sh (B, DMTCP_MPI_SUITE_TIMEOUT,
# DMTCP_MPI_SUITE_MAX_RANKS, ...), and CKMPI_KEEP=1 to keep the scratch
# directory (coordinator log).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/mpich-suite.sh
. "$HERE/mpich-suite.sh"
NAME=mpich-suite-ckpt
# shellcheck source=tests/ckpt-mpi/lib.sh
. "$HERE/../tests/ckpt-mpi/lib.sh"

SEED=$(( $(date +%s) % 100000 )) NSEEDS=1 RUN_MPI=mpich MODE=kill AT="" LONG=0

usage() {
	echo "usage: $0 [--seed S] [--seeds N] [--mpi mpich|openmpi]" \
	    "[--mode kill|resume] [--at MS] [--long] [--subset]" \
	    "[--dirs \"D ...\"] [--only GLOB] [-v]" >&2
	exit 2
}

say() { [ $VERBOSE = 1 ] && echo "$*" >&2; }

# ---------------------------------------------------------------- baseline
# baseline MPI ID NP OPTIONS: "pass<TAB>L ms" or "fail<TAB>why" of step 1
# under MPI.  A pass is kept per program, entry and timeout in
# $W/ckpt/baseline.MPI; a fail (often a timeout on a loaded machine) is
# run again next time.
baseline() {
	local key hit r f=$W/ckpt/baseline.$1
	key="$(sha256sum < "$W/build-shim/$2" | cut -d ' ' -f 1)	$2	$3	$4	$(time_limit "$4")"
	hit=$(K=$key awk -F'\t' 'index($0, ENVIRON["K"] "\t") == 1 { r = $6 "\t" $7 }
	    END { if (r == "") exit 1; print r }' "$f" 2> /dev/null)
	if [ -n "$hit" ]; then
		echo "$hit"
		return
	fi
	r=$(plain_run "$@")
	[ "${r%%$'\t'*}" != pass ] || printf '%s\t%s\n' "$key" "$r" >> "$f"
	echo "$r"
}

# plain_run MPI ID NP OPTIONS: the run of step 1, judged.
plain_run() {
	local mpi=$1 t0 rc v log=$CK/plain.log
	shift
	start_job "$mpi" "$1" "$2" "$3" "$log"
	wait_registered "$2" "$(time_limit "$3")" "$JOB"
	t0=$(now_ms)
	wait "$JOB"
	rc=$?
	v=$(verdict $rc "$(result_test "$3")" "$(time_limit "$3")" "$log")
	if [ "$v" = pass ]; then
		printf 'pass\t%s\n' $(( $(now_ms) - t0 ))
	else
		printf 'fail\t%s\n' "$(cut -f 2- <<< "$v")"
	fi
}

# ---------------------------------------------------------------- one moment
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
result_test() { opt_values resultTest "$1" | head -n 1; }

# start_job MPI ID NP OPTIONS LOG [IMAGE]: the entry in the background
# (JOB its pid) under dmtcp_mpi, or restarted from IMAGE, in the
# program's directory with its arguments and environment.
start_job() {
	local dir=${2%/*} name=${2##*/} log=$5
	local -a args envs prog
	mapfile -t args < <(opt_values arg "$4")
	mapfile -t envs < <(opt_values env "$4")
	prog=("$B/bin/dmtcp_mpi" "./$name" "${args[@]}")
	[ -z "${6:-}" ] || prog=("$B/bin/dmtcp_mpi_restart" "$6")
	(cd "$W/build-shim/$dir" && exec env "${envs[@]}" timeout -k 10 \
	    "$(time_limit "$4")" "mpirun.$1" -n "$3" "${prog[@]}") \
	    > "$log" 2>&1 < /dev/null &
	JOB=$!
}

# delay_ms ID OPTIONS MAX: the moment of SEED for this entry, in [0, MAX].
delay_ms() {
	[ -n "$AT" ] && { echo "$AT"; return; }
	echo $(( $(printf '%s %s %s' "$SEED" "$1" "$2" | cksum | cut -d ' ' -f 1) % ($3 + 1) ))
}

# moment ID NP OPTIONS L: steps 2 and 3 of the header; prints
# "result<TAB>delay<TAB>why" and leaves the logs in $CK/run.log and
# $CK/rs.log.
moment() {
	local id=$1 np=$2 opts=$3 max=$(( $4 * 6 / 10 )) d ck rc how t
	how=$(result_test "$opts") t=$(time_limit "$opts")
	d=$(delay_ms "$id" "$opts" "$max")
	: > "$CK/rs.log"
	start_job "$RUN_MPI" "$id" "$np" "$opts" "$CK/run.log"
	if ! wait_registered "$np" "$t" "$JOB"; then
		wait "$JOB"
		rc=$?
		[ "$(verdict $rc "$how" "$t" "$CK/run.log")" = pass ] &&
			{ printf 'late\t%s\tthe job ended before it registered\n' "$d"; return; }
		printf 'fail\t%s\tthe job did not register (exit %s)\n' "$d" "$rc"
		return
	fi
	sleep "$(awk -v d="$d" 'BEGIN { printf "%.3f", d / 1000 }')"
	ck=$(cmd --checkpoint 2> "$CK/cmd.err")
	[ "$MODE" = kill ] && cmd --kill > /dev/null 2>&1
	wait "$JOB"
	rc=$?
	if [ -z "$ck" ]; then
		no_checkpoint "$d" "$rc" "$how" "$t"
		return
	fi
	if [ "$MODE" = resume ]; then
		rm -rf "$ck"
		judge "$d" "$rc" "$how" "$t" "$CK/run.log" "the resumed job"
		return
	fi
	start_job "$RS_MPI" "$id" "$np" "$opts" "$CK/rs.log" "$ck"
	wait "$JOB"
	rc=$?
	rm -rf "$ck"
	cat "$CK/run.log" "$CK/rs.log" > "$CK/both.log"
	{ unkilled_errors < "$CK/run.log"; cat "$CK/rs.log"; } > "$CK/errs.log"
	judge "$d" "$rc" "$how" "$t" "$CK/both.log" "the restart" "$CK/errs.log"
}

# no_checkpoint DELAY RC HOW T: LATE when the job passed by itself, or a
# rank had left (it finished; --kill cut the others short) and the job
# reported no error of ours but those --kill causes; else FAIL.
no_checkpoint() {
	if [ "$(verdict "$2" "$3" "$4" "$CK/run.log")" = pass ] ||
	    { grep -q 'no clients connected\| left during phase\|is not connected' "$CK/cmd.err" &&
	    ! unkilled_errors < "$CK/run.log"; }; then
		printf 'late\t%s\tthe job was ending\n' "$1"
		return
	fi
	printf 'fail\t%s\tno checkpoint: %s\n' "$1" \
	    "$(tr -s '\n\t ' '   ' < "$CK/cmd.err" | cut -c 1-160)"
}

# unkilled_errors: the errors of ours on stdin that --kill does not
# explain (each rank's SIGTERM and its end without MPI_Finalize).
unkilled_errors() {
	grep 'dmtcp_mpi: error' | grep -v 'killed by signal 15 \|ended without MPI_Finalize'
}

# judge DELAY RC HOW T LOG WHO [ERRLOG]: the verdict on LOG; ERRLOG
# (default LOG) must also hold no error of ours, and names the cause of a
# failure.
judge() {
	local v e=${7:-$5}
	v=$(verdict "$2" "$3" "$4" "$5")
	if [ "$v" != pass ]; then
		v=$(cut -f 2- <<< "$v")
		printf 'fail\t%s\t%s %s: %s\n' "$1" "$6" "${v%%: *}" "$(first_complaint "$e")"
	elif grep -q 'dmtcp_mpi: error' "$e"; then
		printf 'fail\t%s\t%s: %s\n' "$1" "$6" "$(grep -m 1 'dmtcp_mpi: error' "$e" | cut -c 1-160)"
	else
		printf 'pass\t%s\t-\n' "$1"
	fi
}

# ---------------------------------------------------------------- all entries
# Results: top<TAB>label<TAB>seed<TAB>pass|fail|late|skip<TAB>delay<TAB>why
run_entries() {
	local top id np opts skip label r l why s res d e=0 total
	total=$(awk -F'\t' '$5 == "-"' "$ENTRIES" | wc -l)
	while IFS=$'\t' read -r top id np opts skip; do
		[ "$skip" = - ] || continue
		e=$((e + 1))
		label="$id $np$( { opt_values arg "$opts"; opt_values env "$opts"; } |
		    tr '\n' ' ' | sed 's/^./ &/; s/ $//')"
		case $(result_test "$opts") in
		TestStatus|TestErrFatal) skip="ends in an MPI error by design" ;;
		esac
		[ "$skip" != - ] || [ $LONG = 1 ] || [ "$(time_limit "$opts")" -le "$TIMEOUT" ] ||
			skip="long (timeLimit=$(time_limit "$opts"); --long runs it)"
		if [ "$skip" = - ]; then
			build_program "$id"
			if [ ! -x "$W/build-shim/$id" ]; then
				skip=$(build_failure "$LOGS/build-shim/$id.log")
			else
				IFS=$'\t' read -r r l < <(baseline "$RUN_MPI" "$id" "$np" "$opts")
				[ "$r" = pass ] || skip="fails under $RUN_MPI without a checkpoint: $l"
			fi
			if [ "$skip" = - ]; then
				IFS=$'\t' read -r r why < <(baseline "$RS_MPI" "$id" "$np" "$opts")
				[ "$r" = pass ] || skip="fails under $RS_MPI without a checkpoint: $why"
			fi
		fi
		if [ "$skip" != - ]; then
			say "[$e/$total] SKIP $label: $skip"
			printf '%s\t%s\t-\tskip\t-\t%s\n' "$top" "$label" "$skip" >> "$RESULTS"
			continue
		fi
		for s in $SEEDS; do
			SEED=$s
			IFS=$'\t' read -r res d why < <(moment "$id" "$np" "$opts" "$l")
			echo "$(tr a-z A-Z <<< "$res"): seed $s $label: at $d of $l ms${why:+ ($why)}" |
			    sed 's/ (-)$//'
			printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$top" "$label" "$s" "$res" "$d" "$why" >> "$RESULTS"
			[ "$res" = fail ] && keep_logs "$id.$e" "$s"
		done
	done < "$ENTRIES"
}

# keep_logs ID.N SEED: the logs of a failed moment of the Nth entry.
keep_logs() {
	local f=$W/ckpt/logs/${1//\//_}.$2
	mkdir -p "$W/ckpt/logs" && cp "$CK/run.log" "$f.run.log" &&
	    cp "$CK/rs.log" "$f.rs.log" && cp "$CK/cmd.err" "$f.cmd.err" 2>/dev/null
	echo "    logs: $f.{run,rs}.log"
}

# summary: PASS/FAIL/LATE/SKIP per directory that had entries, and in all.
summary() {
	awk -F'\t' -v dirs="$DIRS" '
	{ n[$1, $4]++; t[$4]++ }
	END {
		printf "%-10s %5s %5s %5s %5s\n", "directory", "pass", "fail", "late", "skip"
		nd = split(dirs, d, " ")
		for (i = 1; i <= nd; i++)
			if (n[d[i], "pass"] + n[d[i], "fail"] + n[d[i], "late"] + n[d[i], "skip"])
				printf "%-10s %5d %5d %5d %5d\n", d[i], n[d[i], "pass"], \
				    n[d[i], "fail"], n[d[i], "late"], n[d[i], "skip"]
		printf "%d passed, %d failed, %d late, %d skipped\n", t["pass"], t["fail"], \
		    t["late"], t["skip"]
		exit t["fail"] > 0
	}' "$RESULTS"
}

# ---------------------------------------------------------------- main
while [ $# -gt 0 ]; do
	case $1 in
	--seed) [ $# -ge 2 ] || usage; SEED=$2; shift 2 ;;
	--seeds) [ $# -ge 2 ] || usage; NSEEDS=$2; shift 2 ;;
	--mpi)
		[ $# -ge 2 ] || usage
		case $2 in mpich|openmpi) RUN_MPI=$2 ;; *) usage ;; esac
		shift 2 ;;
	--mode)
		[ $# -ge 2 ] || usage
		case $2 in kill|resume) MODE=$2 ;; *) usage ;; esac
		shift 2 ;;
	--at) [ $# -ge 2 ] || usage; AT=$2; shift 2 ;;
	--long) LONG=1; shift ;;
	--subset) SUBSET=1; shift ;;
	--dirs) [ $# -ge 2 ] || usage; DIRS=$2; shift 2 ;;
	--only) [ $# -ge 2 ] || usage; ONLY=$2; shift 2 ;;
	-v) VERBOSE=1; shift ;;
	*) usage ;;
	esac
done
SEEDS=$(seq "$SEED" $((SEED + NSEEDS - 1)))
FLAVOURS=shim

suite_dirs || exit 1
lib_start "$B"
# The jobs run from the suite's trees, out of lib_cleanup's reach: the
# one running goes too (its timeout passes the signal on to mpirun).
JOB=
trap '[ -z "$JOB" ] || kill -TERM "$JOB" 2> /dev/null; lib_cleanup' EXIT
mkdir -m 700 "$T/tmp" || exit 1
CK=$T/moment ENTRIES=$T/entries RESULTS=$T/results
mkdir -p "$CK" "$W/ckpt" || exit 1
RS_MPI=$(other_mpi "$RUN_MPI")
fetch_suite || exit 1
configure_all || exit 1
prepare_tree shim || exit 1
ordered_entries > "$ENTRIES" || exit 1
start_coord 20
echo "mpich-suite-ckpt: seeds $SEEDS (--seed), under $RUN_MPI," \
    "$([ $MODE = kill ] && echo "killed and restarted under $RS_MPI" || echo resumed)," \
    "$(awk -F'\t' '$5 == "-"' "$ENTRIES" | wc -l) entries" | tr '\n' ' '
echo
: > "$RESULTS"
run_entries
summary
