#!/bin/bash
# mpich-suite.sh - MPICH's own test suite as dmtcp_mpi's conformance oracle.
#
#   bash scripts/mpich-suite.sh [--subset] [--min-ratio R] [--mpi mpich|openmpi|both]
#                               [--dirs "pt2pt coll ..."] [--only GLOB] [--list] [-v]
#                               [--no-native-cache] [--resume]
#
# Tests nobody here wrote: the C tests of MPICH 4.0.2's test/mpi, taken
# from Debian's source package at test time (`apt-get source mpich`,
# unpacked under $B/mpich-suite, never in the repository).  The suite is
# configured and built three times from the same sources: natively with
# mpicc.mpich and mpicc.openmpi, and with our dmtcp_mpicc.  Each entry of
# the testlists (rank count, arg=, env=) then runs natively under each MPI
# and as `mpirun.<mpi> -n N dmtcp_mpi ./test`, each run under `timeout`.
#
# A run passes when it exits 0 and prints a line " No Errors" (entries
# with resultTest=TestStatus/TestErrFatal pass on a non-zero exit instead;
# basic/, which has no testlist, passes on exit 0).  Only tests that pass
# natively count: for each MPI, passed/failed are the dmtcp_mpi runs of
# those tests, and the ratio is shim passes / native passes.  Skipped,
# with a reason each: entries of scripts/mpich-suite.skip (unsupported
# features), entries needing more than DMTCP_MPI_SUITE_MAX_RANKS ranks,
# xfail= and strict=false entries, and entries needing more memory than
# DMTCP_MPI_SUITE_MAX_MEM GB.
#
# --subset runs only the tests named in scripts/mpich-suite.subset (part
# of `make check`; it must be fully green).  The full run fails when a
# ratio is below --min-ratio (default 0.95; 1.0 with --subset).
# --list prints the selected entries and skip reasons, and runs nothing.
#
# Native passes are cached: a native run tests the MPI, not dmtcp_mpi, so
# a pass is reused by later runs while the MPI packages, the MPI
# variables of the environment, the program (sha256), the rank count, the
# options and the timeout stay the same (fails and timeouts run again).
# --no-native-cache runs every entry natively and leaves the cache
# alone.  --resume goes on with a run that was cut short, keeping
# the entries it finished, if the dmtcp_mpi build and the selection are
# the same; otherwise it starts from the first entry.
#
# Environment: B (build dir, default build), DMTCP_MPI_SUITE_TIMEOUT
# (seconds per run, default 60; a larger timeLimit= wins),
# DMTCP_MPI_SUITE_MAX_RANKS (default 4), DMTCP_MPI_SUITE_MAX_MEM (GB,
# default 4), DMTCP_MPI_SUITE_JOBS (make -j, default 2),
# DMTCP_MPI_SUITE_NATIVE_CACHE (default $B/mpich-suite/native-cache),
# DMTCP_MPI_SUITE_RUN_DIR (entries, results and report of this run).
# Logs: $B/mpich-suite/logs; the report is also in
# $B/mpich-suite/{full,subset}-<mpis>/report.txt, or, for a run that
# --dirs or --only narrowed, in {full,subset}-<mpis>-<selection>-<cksum>/.
# The last line is `N passed, N failed, N skipped`.
set -u

B=${B:-build}
TIMEOUT=${DMTCP_MPI_SUITE_TIMEOUT:-60}
MAX_RANKS=${DMTCP_MPI_SUITE_MAX_RANKS:-4}
MAX_MEM=${DMTCP_MPI_SUITE_MAX_MEM:-4}
JOBS=${DMTCP_MPI_SUITE_JOBS:-2}
ALL_DIRS="pt2pt coll comm group datatype attr topo init basic errhan info threads"
DIRS=$ALL_DIRS
MPIS="mpich openmpi"
SUBSET=0 MIN_RATIO="" ONLY="" LIST=0 VERBOSE=0 USE_CACHE=1 RESUME=0
declare -A PACKAGES	# the installed packages of each MPI (native cache)
HERE=$(cd "$(dirname "$0")" && pwd)
SKIP_FILE=$HERE/mpich-suite.skip
SUBSET_FILE=$HERE/mpich-suite.subset
# Everything an MPI may lack or that is not about MPI is left out; the
# thread level must be multiple for threads/ to be configured at all.
CONF_OPTS="--disable-fortran --disable-cxx --disable-spawn --disable-rma
	--disable-romio --disable-part --disable-perftest --disable-ft-tests
	--enable-strictmpi --enable-threads=multiple --disable-dependency-tracking"
SRC_FILE=/etc/apt/sources.list.d/dmtcp-mpi-deb-src.sources

usage() {
	echo "usage: $0 [--subset] [--min-ratio R] [--mpi mpich|openmpi|both]" \
	    "[--dirs \"D ...\"] [--only GLOB] [--list] [-v] [--no-native-cache]" \
	    "[--resume]" >&2
	exit 2
}

err() { echo "dmtcp_mpi: error: $*" >&2; }
say() { [ $VERBOSE = 1 ] && echo "$*" >&2; echo "$*" >> "$RUN/progress.log"; }

# suite_dirs: B made absolute, W the suite's home under it and LOGS.
suite_dirs() {
	mkdir -p "$B/mpich-suite/logs" || return 1
	B=$(cd "$B" && pwd)
	W=$B/mpich-suite
	LOGS=$W/logs
}

# Each kind of run keeps its own entries, results and report, so that a
# subset run does not overwrite the last full report, nor a run that
# --dirs or --only narrowed the resume state of a whole one: such a run
# gets a directory named after its selection (characters a file name
# would not keep become _, and a checksum tells apart selections that
# then look alike).
run_dir_name() {
	local name dirs sel=""
	name=$([ $SUBSET = 1 ] && echo subset || echo full)-$(tr ' ' '-' <<< "$MPIS")
	dirs=$(xargs <<< "$DIRS")	# spaces squeezed
	[ "$dirs" = "$ALL_DIRS" ] || sel="dirs $dirs"
	[ -z "$ONLY" ] || sel="${sel:+$sel }only $ONLY"
	[ -n "$sel" ] || { echo "$name"; return; }
	echo "$name-$(printf '%s' "$sel" | tr -c 'A-Za-z0-9._-' '_' | cut -c 1-60)-$(printf '%s' "$sel" | cksum | cut -d ' ' -f 1)"
}

# ---------------------------------------------------------------- fetch
# The deb-src entry for the archive and suite the installed mpich came
# from (apt-cache policy mpich), as a deb822 file.
deb_src_entry() {
	local line
	line=$(apt-cache policy mpich | awk '$2 ~ /:\/\// && $3 ~ /\/main$/ \
	    { print $2, $3; exit }')
	if [ -z "$line" ]; then
		err "no apt archive serves mpich from main (apt-cache policy mpich)"
		return 1
	fi
	printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\n' \
	    "${line% *}" "${line#* }" | sed 's|^\(Suites: .*\)/main$|\1|'
	echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
}

src_known() { apt-cache showsrc mpich 2>/dev/null | grep -qx "Version: $1"; }

apt_update() {
	apt-get update -qq > "$LOGS/apt-update.log" 2>&1 && return 0
	err "apt-get update failed (see $LOGS/apt-update.log)"
	return 1
}

# Root adds the entry when no deb-src line already brings the source;
# anyone else is told the commands.
make_src_known() {
	local entry
	entry=$(deb_src_entry) || return 1
	if [ "$(id -u)" != 0 ]; then
		err "apt knows no source of mpich $1, and only root can add it; run:"
		if [ ! -f "$SRC_FILE" ]; then
			printf "sudo tee %s > /dev/null <<'EOF'\n%s\nEOF\n" \
			    "$SRC_FILE" "$entry" >&2
		fi
		echo "sudo apt-get update" >&2
		echo "and run $0 again" >&2
		return 1
	fi
	apt_update || return 1
	src_known "$1" && return 0
	if [ ! -f "$SRC_FILE" ]; then
		echo "$entry" > "$SRC_FILE" && apt_update || return 1
	fi
	src_known "$1" && return 0
	err "apt knows no source of mpich $1, even with $SRC_FILE"
	return 1
}

# The suite is unpacked once per build dir; later runs reuse it.
fetch_suite() {
	local ver
	SRC=$(ls -d "$W"/mpich-*/test/mpi 2>/dev/null | head -n 1)
	[ -n "$SRC" ] && [ -x "$SRC/configure" ] && return 0
	ver=$(dpkg-query -W -f='${source:Version}' mpich 2>/dev/null)
	if [ -z "$ver" ]; then
		err "mpich is not installed (dpkg-query mpich): run make deps"
		return 1
	fi
	src_known "$ver" || make_src_known "$ver" || return 1
	echo "fetching MPICH's test suite: apt-get source mpich=$ver" >&2
	if ! (cd "$W" && apt-get source -qq "mpich=$ver") > "$LOGS/fetch.log" 2>&1; then
		err "apt-get source mpich=$ver failed (see $LOGS/fetch.log)"
		return 1
	fi
	SRC=$(ls -d "$W"/mpich-*/test/mpi 2>/dev/null | head -n 1)
	[ -n "$SRC" ] && [ -x "$SRC/configure" ] && return 0
	err "no test/mpi/configure in the unpacked mpich source ($W)"
	return 1
}

# ---------------------------------------------------------------- configure
cc_of() {
	case $1 in
	mpich) echo mpicc.mpich ;;
	openmpi) echo mpicc.openmpi ;;
	shim) echo "$B/bin/dmtcp_mpicc" ;;
	esac
}

# The suite's dtpools still calls MPI_Type_hvector and MPI_Type_hindexed
# (removed in MPI-3.0); Open MPI 4.1 exports them but declares them only
# when asked.
cppflags_of() {
	case $1 in
	openmpi) echo "-DOMPI_OMIT_MPI1_COMPAT_DECLS=0" ;;
	esac
}

# A tree is configured again when its compiler, its flags or the place of
# the sources changed (configure writes absolute paths).
configure_tree() {
	local f=$1 cc cppflags t=$W/build-$1
	cc=$(cc_of "$f")
	cppflags=$(cppflags_of "$f")
	[ -f "$t/config.status" ] &&
	    [ "$(cat "$t/.cc" 2>/dev/null)" = "$SRC $cc $cppflags" ] && return 0
	rm -rf "$t" && mkdir -p "$t" || return 1
	# shellcheck disable=SC2086
	if ! (cd "$t" && "$SRC/configure" MPICC="$cc" CPPFLAGS="$cppflags" \
	    $CONF_OPTS) > "$LOGS/configure-$f.log" 2>&1; then
		err "configure of the suite failed ($f): see $LOGS/configure-$f.log"
		return 1
	fi
	echo "$SRC $cc $cppflags" > "$t/.cc"
}

configure_all() {
	local f pids="" rc=0 p
	for f in $FLAVOURS; do
		configure_tree "$f" &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p" || rc=1; done
	return $rc
}

# ---------------------------------------------------------------- testlists
# basic/ has no testlist (MPICH does not run it); these of its programs
# are self-contained and end with exit 0 when they worked.
basic_list() {
	printf '%s\n' "self 1 resultTest=ExitZero" "simple 2 resultTest=ExitZero" \
	    "sendrecv 2 resultTest=ExitZero" "srtest 2 resultTest=ExitZero" \
	    "wtime 1 resultTest=ExitZero" "patterns 2 resultTest=ExitZero"
}

# Prints "dir<TAB>name<TAB>np<TAB>options" for every entry under dir,
# descending into subdirectories a testlist names (threads/).  Configured
# testlists come from the build tree, plain ones from the sources;
# testlist.cvar (MPICH algorithm switches at 10 ranks) is left out.
list_dir() {
	local d=$1 f file name np rest
	if [ "$d" = basic ]; then
		basic_list | while read -r name np rest; do
			printf '%s\t%s\t%s\t%s\n' "$d" "$name" "$np" "$rest"
		done
		return
	fi
	for f in testlist testlist.dtp; do
		file=$W/build-shim/$d/$f
		[ -f "$file" ] || file=$SRC/$d/$f
		[ -f "$file" ] || continue
		while read -r name np rest; do
			case $name in ''|'#'*|@*) continue ;; esac
			if [ -z "$np" ]; then
				[ -d "$SRC/$d/$name" ] && list_dir "$d/$name"
				continue
			fi
			printf '%s\t%s\t%s\t%s\n' "$d" "$name" "$np" "$rest"
		done < "$file"
	done
}

opt_values() {	# opt_values KEY "options": each value of KEY=, one per line
	local o
	for o in $2; do
		case $o in "$1"=*) echo "${o#*=}" ;; esac
	done
}

# Why an entry is skipped, or nothing.
skip_reason() {
	local id=$1 np=$2 opts=$3 pat reason v
	while read -r pat reason; do
		case $pat in ''|'#'*) continue ;; esac
		# shellcheck disable=SC2254
		case $id in $pat) echo "$reason"; return ;; esac
	done < "$SKIP_FILE"
	[ "$np" -gt "$MAX_RANKS" ] && { echo "needs $np ranks"; return; }
	v=$(opt_values xfail "$opts" | head -n 1)
	[ -n "$v" ] && { echo "xfail in MPICH ($v)"; return; }
	v=$(opt_values strict "$opts" | head -n 1)
	case $v in false|FALSE) echo "not strict MPI (MPICH extension)"; return ;; esac
	v=$(opt_values mem "$opts" | head -n 1)
	if [ -n "$v" ] && awk -v m="$v" -v l="$MAX_MEM" 'BEGIN { exit !(m > l) }'; then
		echo "needs $v GB"
	fi
}

in_subset() {
	local pat
	while read -r pat _; do
		case $pat in ''|'#'*) continue ;; esac
		# shellcheck disable=SC2254
		case $1 in $pat) return 0 ;; esac
	done < "$SUBSET_FILE"
	return 1
}

# --only names a test ("coll/red*") or, with its options, one entry of a
# test that runs many times ("pt2pt/pingping *seed=3[0-9] *").
only_selects() {
	# shellcheck disable=SC2254
	case $1 in $ONLY) return 0 ;; esac
	# shellcheck disable=SC2254
	case "$1 $2" in $ONLY) return 0 ;; esac
	return 1
}

# The selected entries, "top<TAB>id<TAB>np<TAB>options<TAB>skip reason",
# "-" for an empty field (read would merge adjacent tabs).
select_entries() {
	local d dir name np opts id skip
	for d in $DIRS; do
		list_dir "$d"
	done | while IFS=$'\t' read -r dir name np opts; do
		id=$dir/$name
		[ -z "$ONLY" ] || only_selects "$id" "$opts" || continue
		[ $SUBSET = 0 ] || in_subset "$id" || continue
		skip=$(skip_reason "$id" "$np" "$opts")
		printf '%s\t%s\t%s\t%s\t%s\n' "${dir%%/*}" "$id" "$np" "${opts:--}" \
		    "${skip:--}"
	done
}

# The selected entries with the directories taking turns, so that a run
# cut short still samples them all.
ordered_entries() {
	select_entries | awk -F'\t' '{ print ++n[$1] "\t" $0 }' |
	    sort -s -n -k 1,1 | cut -f 2-
}

# ---------------------------------------------------------------- build
# The trees' own libraries; the programs come later, one entry at a time.
prepare_tree() {
	local f=$1 t=$W/build-$1
	mkdir -p "$LOGS/build-$f" || return 1
	# Programs built against another mpi.h of ours are built again.
	if [ "$f" = shim ] && ! cmp -s "$B/include/mpi.h" "$t/.mpi.h"; then
		make -C "$t" clean > "$LOGS/build-$f/clean.log" 2>&1
		cp "$B/include/mpi.h" "$t/.mpi.h" || return 1
	fi
	if ! make -C "$t/util" -j"$JOBS" > "$LOGS/build-$f/util.log" 2>&1 ||
	    ! make -C "$t/dtpools" -j"$JOBS" > "$LOGS/build-$f/dtpools.log" 2>&1; then
		err "building the suite's util and dtpools failed ($f): see $LOGS/build-$f"
		return 1
	fi
}

# The program of an entry, in every tree side by side, just before its
# first run: on a loaded machine building all 300 programs three times
# takes longer than a run may last, and a run cut short should still have
# results, the directories taking turns.  A program that does not build
# is a failed entry; its own log says why.  The programs test MPI, not
# the compiler: without optimisation they build several times faster
# (coll/allred.c takes over 40 s of CPU at -O2).
build_program() {
	local id=$1 dir=${1%/*} name=${1##*/} f
	for f in $FLAVOURS; do
		[ -x "$W/build-$f/$dir/$name" ] && continue
		mkdir -p "$LOGS/build-$f/$dir" &&
		    make -C "$W/build-$f/$dir" CFLAGS="-g -O0" "$name" \
		    > "$LOGS/build-$f/$dir/$name.log" 2>&1 &
	done
	wait
}

# One line on why a program did not build: the MPI symbols it lacked, or
# the compiler's first error.
build_failure() {
	local log=$1 syms
	syms=$(grep -o "undefined reference to \`[A-Za-z0-9_]*'" "$log" 2>/dev/null |
	    sed "s/.*\`//; s/'//" | sort -u | tr '\n' ' ')
	if [ -n "$syms" ]; then
		echo "build failed: undefined ${syms% }"
	else
		echo "build failed: $(grep -m 1 'error:' "$log" 2>/dev/null |
		    sed 's/^[^ ]*: //' | cut -c 1-160)"
	fi
}

# ---------------------------------------------------------------- run
# run_one MPI KIND ID NP OPTIONS LOG: prints "pass<TAB>seconds<TAB>-" or
# "fail<TAB>seconds<TAB>why".
run_one() {
	local t0=$EPOCHREALTIME r
	r=$(judge_one "$@")
	printf '%s\t%s\t%s\n' "${r%%$'\t'*}" \
	    "$(awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')" \
	    "$(printf '%s' "$r" | cut -s -f 2-)"
}

judge_one() {
	local mpi=$1 kind=$2 id=$3 np=$4 opts=$5 log=$6
	local dir=${id%/*} name=${id##*/} flavour=$1 t how
	local -a args envs prog
	[ "$kind" = shim ] && flavour=shim
	if [ ! -x "$W/build-$flavour/$dir/$name" ]; then
		printf 'fail\t%s\n' "$(build_failure "$LOGS/build-$flavour/$dir/$name.log")"
		return
	fi
	mapfile -t args < <(opt_values arg "$opts")
	mapfile -t envs < <(opt_values env "$opts")
	how=$(opt_values resultTest "$opts" | head -n 1)
	t=$(time_limit "$opts")
	prog=("./$name")
	[ "$kind" = shim ] && prog=("$B/bin/dmtcp_mpi" "./$name")
	(cd "$W/build-$flavour/$dir" && env "${envs[@]}" timeout -k 10 "$t" \
	    "mpirun.$mpi" -n "$np" "${prog[@]}" "${args[@]}") > "$log" 2>&1 < /dev/null
	verdict $? "$how" "$t" "$log"
}

# verdict RC RESULT_TEST SECONDS LOG: "pass", or "fail<TAB>why", for a run
# that exited RC (124 or 137: timed out after SECONDS) and printed LOG,
# judged as the entry's resultTest= asks.
verdict() {
	local rc=$1 how=$2 t=$3 log=$4
	if [ $rc = 124 ] || [ $rc = 137 ]; then
		printf 'fail\ttimeout after %ss\n' "$t"
		return
	fi
	case $how in
	TestStatus|TestErrFatal)
		[ $rc != 0 ] && { echo pass; return; }
		printf 'fail\texit 0 where a non-zero exit is expected\n'
		return ;;
	ExitZero)
		[ $rc = 0 ] && { echo pass; return; } ;;
	*)
		if [ $rc = 0 ] && grep -qE '^[[:space:]]*No [Ee]rrors[[:space:]]*$' "$log"; then
			echo pass
			return
		fi ;;
	esac
	printf 'fail\t%s: %s\n' "$([ $rc = 0 ] && echo "exit 0 without No Errors" || echo "exit $rc")" \
	    "$(first_complaint "$log")"
}

# The seconds an entry may run: the suite's timeout, or its larger
# timeLimit=.
time_limit() {
	local t=$TIMEOUT lim
	lim=$(opt_values timeLimit "$1" | head -n 1)
	[ -n "$lim" ] && [ "$lim" -gt "$t" ] && t=$lim
	echo "$t"
}

# The most telling line of a failed run's output.
first_complaint() {
	local l
	l=$(grep -m 1 'dmtcp_mpi: error' "$1")
	[ -n "$l" ] || l=$(grep -m 1 -iE 'error|unsupported|abort|fail|assert|signal' "$1")
	[ -n "$l" ] || l=$(grep -m 1 . "$1")
	printf '%s' "$l" | tr -s '\t ' '  ' | cut -c 1-200
}

# ---------------------------------------------------------------- native cache
# A native run tests the MPI, not dmtcp_mpi: its result does not change
# with our commit, and it is half of the four runs of every entry.  A
# native pass is kept in $CACHE/<mpi>.v1, one line per key, and later
# runs take it instead of running the entry again while nothing it
# depended on changed: the installed packages of the MPI, the variables
# that steer it, the program (sha256; a rebuilt one with the same bytes
# keeps its results), the rank count, the timeout and the options
# (arg=, env=, resultTest=).  Fails and timeouts are never kept: on a
# loaded machine they may be noise, so the next run tries again.  The
# file name's v1 changes when a pass is judged differently.
CACHE_HEAD="# mpi packages	mpi environment	program sha256	ranks	timeout s	test	options	native s	when (UTC)"

# The installed Debian packages built from the MPI's source package
# (mpich, openmpi), "name=version,..."; without dpkg, what mpirun says.
mpi_packages() {
	local v
	v=$(dpkg-query -W -f='${db:Status-Abbrev}\t${source:Package}\t${Package}=${Version}\n' \
	    2>/dev/null | awk -F'\t' -v s="$1" '$1 ~ /^ii/ && $2 == s \
	    { printf "%s%s", sep, $3; sep = "," }')
	[ -n "$v" ] || v=$("mpirun.$1" --version 2>&1 | head -n 1)
	printf '%s' "${v:-unknown}" | tr '\t' ' '
}

# The environment variables that steer either MPI, its launcher or its
# transports, or the suite's own test library (MPITEST_), sorted, on one
# line.
mpi_environment() {
	local v
	v=$(env | grep -E '^(OMPI|OPAL|ORTE|PMIX|PRTE|MPIR|MPICH|MPIEXEC|HYDRA|UCX|FI|HWLOC|MPITEST)_' |
	    LC_ALL=C sort | tr '\t\n' '  ')
	v=${v% }
	printf '%s' "${v:--}"
}

# Makes the cache directory and files private: a line in them turns an
# entry into a pass nobody ran.
open_cache() {
	local mpi f
	if ! (umask 077 && mkdir -p "$CACHE") || [ ! -O "$CACHE" ] ||
	    ! chmod 700 "$CACHE"; then
		err "the native cache $CACHE is not a directory of ours: remove it or run with --no-native-cache"
		return 1
	fi
	for mpi in $MPIS; do
		f=$CACHE/$mpi.v1
		[ -f "$f" ] || (umask 077 && echo "$CACHE_HEAD" > "$f") || return 1
		chmod 600 "$f" || return 1
		PACKAGES[$mpi]=$(mpi_packages "$mpi")
	done
	MPI_ENV=$(mpi_environment)
}

# cache_key MPI ID NP OPTIONS: what a cached pass must match, the first
# seven fields of its line; fails when the program was not built.
cache_key() {
	local bin=$W/build-$1/$2 sum
	[ -x "$bin" ] || return 1
	sum=$(sha256sum < "$bin") || return 1
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s' "${PACKAGES[$1]}" "$MPI_ENV" \
	    "${sum%% *}" "$3" "$(time_limit "$4")" "$2" "$4"
}

# cached_pass MPI KEY: "seconds<TAB>when" of the latest pass under KEY.
cached_pass() {
	K=$2 awk -F'\t' 'index($0, ENVIRON["K"] "\t") == 1 { r = $8 "\t" $9 }
	    END { if (r == "") exit 1; print r }' "$CACHE/$1.v1"
}

keep_pass() {	# keep_pass MPI KEY SECONDS
	printf '%s\t%s\t%s\n' "$2" "$3" "$(date -u '+%Y-%m-%d %H:%M:%S')" >> "$CACHE/$1.v1"
}

# native_one MPI ID NP OPTIONS LOG: the native run of an entry, as
# "result<TAB>seconds<TAB>cache|run<TAB>why"; a cached pass keeps the
# seconds of the run that made it, and its log says where it came from.
native_one() {
	local key="" hit r t why
	[ $USE_CACHE = 1 ] && key=$(cache_key "$1" "$2" "$3" "$4")
	if [ -n "$key" ] && hit=$(cached_pass "$1" "$key"); then
		printf 'not run: a native pass of %s s on %s UTC, from %s\n' \
		    "${hit%%$'\t'*}" "${hit#*$'\t'}" "$CACHE/$1.v1" > "$5"
		printf 'pass\t%s\tcache\t\n' "${hit%%$'\t'*}"
		return
	fi
	IFS=$'\t' read -r r t why < <(run_one "$1" native "$2" "$3" "$4" "$5")
	[ "$r" = pass ] && [ -n "$key" ] && keep_pass "$1" "$key" "$t"
	printf '%s\t%s\trun\t%s\n' "$r" "$t" "$why"
}

# ---------------------------------------------------------------- resume
# What the results of a run depend on besides the MPI: the dmtcp_mpi
# build (every file it put in $B), the selected entries and the settings.
run_identity() {
	find "$B/bin" "$B/lib" "$B/libexec" "$B/include" -type f -print0 |
	    LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d ' ' -f 1
	sha256sum < "$RUN/entries" | cut -d ' ' -f 1
	echo "$MPIS timeout=$TIMEOUT no_client=$DMTCP_MPI_NO_CLIENT $(mpi_environment)"
}

# With --resume, keeps the results of the entries that the last run
# finished, if it had the same identity, and sets RESUMED to their count
# (the entries before them are done, field 11 of a result numbers its
# entry) and RESUMED_RUNS to those of them that were not skipped;
# otherwise the run starts from the first entry.
resume_from() {
	local nm
	nm=$(wc -w <<< "$MPIS")
	RESUMED=0
	run_identity > "$RUN/identity.new" || return 1
	if [ $RESUME = 1 ] && [ -f "$RUN/results" ] &&
	    cmp -s "$RUN/identity" "$RUN/identity.new"; then
		: > "$RUN/results.kept"
		RESUMED=$(awk -F'\t' -v nm="$nm" -v out="$RUN/results.kept" '
		    FNR == NR { need[FNR] = $5 == "-" ? nm : 1; next }
		    { n[$11]++; line[FNR] = $0; entry[FNR] = $11 }
		    END {
			for (d = 0; (d + 1) in need && n[d + 1] == need[d + 1]; d++) ;
			for (l = 1; l in line; l++) if (entry[l] <= d) print line[l] > out
			print d
		    }' "$RUN/entries" "$RUN/results") || return 1
		mv "$RUN/results.kept" "$RUN/results" || return 1
		RESUMED_RUNS=$(awk -F'\t' -v d="$RESUMED" 'NR <= d && $5 == "-"' \
		    "$RUN/entries" | wc -l)
		say "resuming: $RESUMED_RUNS of the entries to run are done"
	else
		[ $RESUME = 1 ] && echo "nothing to resume in $RUN (no results, or" \
		    "another build, selection or setting): running every entry" >&2
		: > "$RUN/results"
	fi
	mv "$RUN/identity.new" "$RUN/identity"
}

# ---------------------------------------------------------------- run all
# Results, one line per entry and MPI: top<TAB>label<TAB>mpi<TAB>native
# <TAB>shim<TAB>native s<TAB>shim s<TAB>native why<TAB>shim why<TAB>
# native from cache|run<TAB>entry number
run_all() {
	local top id np opts skip label mpi n s nt st nw sw src c e=0 i=0 total rl
	total=$(awk -F'\t' '$5 == "-"' "$RUN/entries" | wc -l)
	while IFS=$'\t' read -r top id np opts skip; do
		e=$((e + 1))
		[ "$skip" = - ] && i=$((i + 1))
		[ $e -le "$RESUMED" ] && continue
		label="$id $np"
		rl=$(echo "$opts" | tr ' ' '\n' | sed -n 's/^arg=//p' | tr '\n' ' ')
		[ -n "$rl" ] && label="$label ${rl% }"
		if [ "$skip" != - ]; then
			printf '%s\t%s\t-\tskip\tskip\t0\t0\t%s\t-\t-\t%s\n' "$top" \
			    "$label" "$skip" "$e" >> "$RUN/results"
			continue
		fi
		build_program "$id"
		mkdir -p "$LOGS/run/${id%/*}"
		for mpi in $MPIS; do
			IFS=$'\t' read -r n nt src nw < <(native_one "$mpi" "$id" "$np" \
			    "$opts" "$LOGS/run/$id.$i.$mpi-native.log")
			IFS=$'\t' read -r s st sw < <(run_one "$mpi" shim "$id" "$np" \
			    "$opts" "$LOGS/run/$id.$i.$mpi-shim.log")
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$top" \
			    "$label" "$mpi" "$n" "$s" "$nt" "$st" "${nw:--}" "${sw:--}" \
			    "$src" "$e" >> "$RUN/results"
			c=""
			[ "$src" = cache ] && c=" (cached)"
			say "[$i/$total] $mpi $label: native $n ${nt}s$c," \
			    "dmtcp_mpi $s ${st}s${sw:+ ($sw)}"
		done
	done < "$RUN/entries"
}

# ---------------------------------------------------------------- report
report() {
	local mpis=$1 min=$2
	awk -F'\t' -v mpis="$mpis" -v min="$min" -v dirs="$DIRS" -v cache=$USE_CACHE '
	function ratio(s, n) { return n ? sprintf("%.3f", s / n) : "n/a" }
	function cached(mpi) {
		if (!cache) return "native cache off"
		return sprintf("%d native passes and %ds of it from the cache", ncache[mpi], ncsec[mpi])
	}
	$3 == "-" { skip[$1]++; tskip++; next }
	{
		k = $1 SUBSEP $3
		nsec[$3] += $6; ssec[$3] += $7
		if ($10 == "cache") { ncache[$3]++; ncsec[$3] += $6 }
		if ($4 == "pass") {
			np[k]++; tnp[$3]++
			if ($5 == "pass") { sp[k]++; tsp[$3]++ }
			else { sf[k]++; tsf[$3]++; fails = fails sprintf("FAIL %s %s: %s\n", $3, $2, $9) }
		} else {
			nf[k]++; tnf[$3]++
			if ($5 == "pass") xp[$3]++
			nfails = nfails sprintf("NATIVE-FAIL %s %s: %s\n", $3, $2, $8)
		}
	}
	END {
		nm = split(mpis, m, " "); nd = split(dirs, d, " ")
		printf "%-10s %5s", "directory", "skip"
		for (j = 1; j <= nm; j++) printf " | %-7s native pass/fail  dmtcp_mpi pass/fail", m[j]
		printf "\n"
		for (i = 1; i <= nd; i++) {
			printf "%-10s %5d", d[i], skip[d[i]]
			for (j = 1; j <= nm; j++) {
				k = d[i] SUBSEP m[j]
				printf " | %-7s %11d %4d  %14d %4d", "", np[k], nf[k], sp[k], sf[k]
			}
			printf "\n"
		}
		printf "%s", fails
		printf "%s", nfails
		bad = 0
		for (j = 1; j <= nm; j++) {
			r = ratio(tsp[m[j]], tnp[m[j]])
			printf "%s: %d pass natively (%d fail natively, not counted; %d of those pass through dmtcp_mpi); dmtcp_mpi passes %d of them, fails %d; ratio %s (target %s); run time native %ds (%s), dmtcp_mpi %ds\n", \
			    m[j], tnp[m[j]], tnf[m[j]], xp[m[j]], tsp[m[j]], tsf[m[j]], r, min, nsec[m[j]], cached(m[j]), ssec[m[j]]
			if (tnp[m[j]] + tnf[m[j]] > 0 && tnp[m[j]] == 0) {
				printf "no test passed natively under %s: the MPI installation is broken\n", m[j]
				bad = 1
			} else if (r != "n/a" && r + 0 < min + 0) bad = 1
			passed += tsp[m[j]]; failed += tsf[m[j]]
		}
		printf "%d passed, %d failed, %d skipped\n", passed, failed, tskip * nm
		exit bad
	}' "$RUN/results"
}

# ---------------------------------------------------------------- main
# Sourced (scripts/mpich-suite-ckpt.sh), the script only defines the
# functions above.
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0

while [ $# -gt 0 ]; do
	case $1 in
	--subset) SUBSET=1; shift ;;
	--min-ratio) [ $# -ge 2 ] || usage; MIN_RATIO=$2; shift 2 ;;
	--mpi)
		[ $# -ge 2 ] || usage
		case $2 in
		mpich|openmpi) MPIS=$2 ;;
		both) MPIS="mpich openmpi" ;;
		*) usage ;;
		esac
		shift 2 ;;
	--dirs) [ $# -ge 2 ] || usage; DIRS=$2; shift 2 ;;
	--only) [ $# -ge 2 ] || usage; ONLY=$2; shift 2 ;;
	--list) LIST=1; shift ;;
	-v) VERBOSE=1; shift ;;
	--no-native-cache) USE_CACHE=0; shift ;;
	--resume) RESUME=1; shift ;;
	*) usage ;;
	esac
done
[ -n "$MIN_RATIO" ] || { [ $SUBSET = 1 ] && MIN_RATIO=1.0 || MIN_RATIO=0.95; }

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
# The suite tests MPI, not checkpointing: without the coordinator client a
# run neither depends on a coordinator someone else left on the default
# port nor leaves one behind.  DMTCP_MPI_NO_CLIENT=0 keeps the client.
export DMTCP_MPI_NO_CLIENT=${DMTCP_MPI_NO_CLIENT:-1}

suite_dirs || exit 1
RUN=${DMTCP_MPI_SUITE_RUN_DIR:-$W/$(run_dir_name)}
CACHE=${DMTCP_MPI_SUITE_NATIVE_CACHE:-$W/native-cache}
mkdir -p "$RUN" || exit 1
[ $RESUME = 1 ] || : > "$RUN/progress.log"

FLAVOURS="shim $MPIS"
for f in "$SKIP_FILE" "$SUBSET_FILE"; do
	[ -r "$f" ] || { err "cannot read $f"; exit 1; }
done
if [ ! -x "$B/bin/dmtcp_mpi" ] || [ ! -x "$B/bin/dmtcp_mpicc" ]; then
	err "dmtcp_mpi is not built in $B: run make B=${B##*/} first"
	exit 1
fi
start=$(date +%s)
fetch_suite || exit 1
configure_all || exit 1
ordered_entries > "$RUN/entries"
if [ $LIST = 1 ]; then
	awk -F'\t' '{ printf "%s %s%s%s\n", $2, $3, $4 == "-" ? "" : " " $4,
	    $5 == "-" ? "" : " SKIP: " $5 }' "$RUN/entries"
	exit 0
fi
for f in $FLAVOURS; do
	say "building the suite's libraries ($f)"
	prepare_tree "$f" || exit 1
done
[ $USE_CACHE = 0 ] || open_cache || exit 1
resume_from || exit 1
say "running $(awk -F'\t' '$5 == "-"' "$RUN/entries" | wc -l) entries"
run_all
part=""
[ "$RESUMED" = 0 ] || part=" (this part; $RESUMED_RUNS entries ran before it)"
{
	echo "MPICH test suite (${SRC#"$W"/}) through dmtcp_mpi, $(date -u '+%Y-%m-%d %H:%M UTC'), $(($(date +%s) - start)) s$part"
	report "$MPIS" "$MIN_RATIO"
	echo $? > "$RUN/status"
} | tee "$RUN/report.txt"
exit "$(cat "$RUN/status")"
