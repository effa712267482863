#!/bin/bash
# run.sh - the checkpoint engine's tests (make ckpt-check).
#
#   bash tests/ckpt/run.sh [BUILD_DIR]
#
# Each case runs a test program from tests/ckpt twice: once without a
# checkpoint (the reference) and once checkpointed at a chosen step and
# killed right after the image is written; the image is then restarted
# with dmtcp_mpi_restart and its final output must equal the reference.
# Other cases check what must fail cleanly: corrupt images, a full disk,
# an unwritable directory, a kill in the middle of writing.  The last
# line is "N passed, N failed"; the exit status is 1 if anything failed.
set -u

B=${1:-build}
T=$B/tests/ckpt
R=$B/bin/dmtcp_mpi_restart
W=$(mktemp -d "${TMPDIR:-/tmp}/dmtcp_mpi-ckpt.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
export DMTCP_MPI_NO_CLIENT=1 DMTCP_MPI_TEST_DIR=$W
TMO=${DMTCP_MPI_CKPT_TEST_TIMEOUT:-120}
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() {
	fail=$((fail + 1)); echo "FAIL $1: $2"
	[ -s "$W/err" ] && sed 's/^/     | /' "$W/err" | tail -15
}

# ref NAME PROG [VAR=VALUE...]: reference output of PROG in $W/NAME.ref
ref() {
	local name=$1 prog=$2; shift 2
	env "$@" timeout "$TMO" "$T/$prog" >"$W/$name.ref" 2>"$W/err"
}

# cr NAME PROG STEPS [VAR=VALUE...]: checkpoint at STEPS, kill, restart
# (again after each kill: one restart per scheduled step), compare.
cr() {
	local name=$1 prog=$2 steps=$3; shift 3
	if ! ref "$name" "$prog" "$@"; then
		bad "$name" "reference run failed"; return
	fi
	{ env "$@" DMTCP_MPI_TEST_CKPT_AT="$steps" DMTCP_MPI_TEST_KILL=1 \
		timeout "$TMO" "$T/$prog" >"$W/$name.out" 2>"$W/err"; } 2>/dev/null
	local rc=$? n
	if [ $rc -ne 137 ]; then
		bad "$name" "first run: exit $rc, expected to be killed (137)"
		return
	fi
	n=$(echo "$steps" | tr ',' '\n' | wc -l)
	for _ in $(seq "$n"); do
		{ env "$@" timeout "$TMO" "$R" "$W/$prog.img" >"$W/$name.out" \
			2>>"$W/err"; } 2>/dev/null
		rc=$?
		[ $rc -eq 137 ] || break
	done
	if [ $rc -ne 0 ]; then
		bad "$name" "restart: exit $rc"
	elif ! cmp -s "$W/$name.ref" "$W/$name.out"; then
		bad "$name" "output differs: $(head -c 300 "$W/$name.out")"
	else
		ok "$name"
	fi
}

# --------------------------------------------------------- restarts
cr counter-zstd counter 60
cr counter-raw counter 60 DMTCP_MPI_TEST_LEVEL=0
cr counter-fork counter 60 DMTCP_MPI_TEST_FORK=1
cr threads threads 5000
cr threads-raw threads 12000 DMTCP_MPI_TEST_LEVEL=0
cr threads-fork threads 8000 DMTCP_MPI_TEST_FORK=1
cr heap heap 40
# The rare placement where the restorer cannot end at start_brk (forced
# here): the heap comes back as plain memory and malloc must go on.
cr heap-no-brk heap 40 DMTCP_MPI_TEST_HEAP_MB=64 DMTCP_MPI_FAULT=restart-no-brk
grep -q 'break cannot be restored exactly' "$W/err" ||
	bad "heap-no-brk" "the fallback placement was not used"
cr heap-fork heap 60 DMTCP_MPI_TEST_FORK=1 DMTCP_MPI_TEST_HEAP_MB=64
cr mapfile mapfile 50
cr append append 70
cr signals signals 50
cr sleeper sleeper 25

# Stops landing inside malloc, and hooks that allocate (a chain of 4).
cr mallocs mallocs 10,20,30,40 DMTCP_MPI_TEST_HOOKS=1
cr mallocs-kill mallocs 25 DMTCP_MPI_TEST_HOOKS=1
if grep -q 'hooks 1/0/1)' "$W/err"; then ok "hooks run once each, and may allocate"
else bad "hooks" "$(grep restarted "$W/err")"; fi

# The restored process sees the restart command's DMTCP_MPI_* variables.
{ DMTCP_MPI_TEST_TAG=first DMTCP_MPI_TEST_CKPT_AT=20 DMTCP_MPI_TEST_KILL=1 \
	timeout "$TMO" "$T/counter" >/dev/null 2>&1; } 2>/dev/null
DMTCP_MPI_TEST_TAG=second timeout "$TMO" "$R" "$W/counter.img" >/dev/null 2>"$W/err"
if grep -q 'tag second' "$W/err"; then ok "restart environment (DMTCP_MPI_*)"
else bad "restart environment" "$(grep restarted "$W/err")"; fi

# 10 generations: checkpoint, kill, restart, checkpoint again ...
cr chain counter 15,30,45,60,75,90,105,120,135,150
if grep -q 'generations 10$' "$W/err"; then ok "chain: 10 generations"
else bad "chain: 10 generations" "$(grep generations "$W/err")"; fi

if [ -n "${DMTCP_MPI_CKPT_TEST_BIG:-}" ]; then
	cr heap-1g heap 40 DMTCP_MPI_TEST_HEAP_MB=1024
fi

# ------------------------------------------- the process goes on
# A checkpoint without a kill: the run ends normally, and its image
# restarts to the same result.
ref goon counter
DMTCP_MPI_TEST_CKPT_AT=30 timeout "$TMO" "$T/counter" >"$W/goon.out" 2>"$W/err"
if [ $? -eq 0 ] && cmp -s "$W/goon.ref" "$W/goon.out" &&
   timeout "$TMO" "$R" "$W/counter.img" 2>>"$W/err" | cmp -s - "$W/goon.ref"; then
	ok "checkpoint and go on, then restart"
else bad "checkpoint and go on, then restart" "outputs differ"; fi
cp "$W/counter.img" "$W/good.img"

# Compressed sections written straight into the restorer, and streamed
# through the pipe where that is not allowed (forced here).
for how in direct stream; do
	fault=; [ $how = stream ] && fault=restart-stream
	DMTCP_MPI_FAULT=$fault DMTCP_MPI_CKPT_VERBOSE=1 timeout "$TMO" "$R" \
		"$W/good.img" >"$W/$how.out" 2>"$W/err"
	if cmp -s "$W/$how.out" "$W/goon.ref" &&
	   grep -q "sections $([ $how = stream ] && echo streamed || echo written)" "$W/err"; then
		ok "restart, decompressed pages $how"
	else bad "restart, decompressed pages $how" "$(tail -2 "$W/err")"; fi
done

# Two fault points at once: a comma-separated list arms each of them.
DMTCP_MPI_FAULT=restart-no-brk,restart-stream DMTCP_MPI_CKPT_VERBOSE=1 \
	timeout "$TMO" "$R" "$W/good.img" >"$W/list.out" 2>"$W/err"
if cmp -s "$W/list.out" "$W/goon.ref" && grep -q "sections streamed" "$W/err" &&
   grep -q 'break cannot be restored exactly' "$W/err"; then
	ok "two fault points in one DMTCP_MPI_FAULT"
else bad "two fault points in one DMTCP_MPI_FAULT" "$(tail -2 "$W/err")"; fi

# Where memfds cannot be executed, the restorer runs from a file in
# $TMPDIR and removes it.  That the directory changed (its mtime, set to
# 1970 first) shows the file was made: the fault fired.
mkdir -p "$W/tmp"
touch -d @0 "$W/tmp"
if TMPDIR=$W/tmp DMTCP_MPI_FAULT=restart-file timeout "$TMO" "$R" "$W/good.img" \
	2>"$W/err" | cmp -s - "$W/goon.ref" && [ -z "$(ls -A "$W/tmp")" ] &&
   [ "$(stat -c %Y "$W/tmp")" -gt 0 ]; then
	ok "restorer started from a file"
else bad "restorer started from a file" "left: $(ls -A "$W/tmp"); mtime $(stat -c %Y "$W/tmp")"; fi

# errors N: the number of "dmtcp_mpi: error:" lines in $W/err
errors() { grep -c '^dmtcp_mpi: error:' "$W/err"; }

# failed_ckpt NAME VAR=VALUE...: the checkpoint fails with one error
# line; the process goes on to the reference result; the previous
# image is untouched and no temporary file is left.
failed_ckpt() {
	local name=$1; shift
	env "$@" DMTCP_MPI_TEST_CKPT_AT=30 DMTCP_MPI_TEST_FAILOK=1 \
		timeout "$TMO" "$T/counter" >"$W/fail.out" 2>"$W/err"
	local rc=$?
	if [ $rc -ne 0 ]; then bad "$name" "exit $rc"
	elif ! cmp -s "$W/goon.ref" "$W/fail.out"; then bad "$name" "output differs"
	elif [ "$(errors)" -ne 1 ]; then bad "$name" "$(errors) error lines, expected 1"
	elif ! cmp -s "$W/good.img" "$W/counter.img"; then bad "$name" "previous image changed"
	elif [ -e "$W/counter.img.tmp" ]; then bad "$name" "temporary file left"
	else ok "$name"; fi
}
# A thread that cannot be stopped: the checkpoint gives up, one line.
DMTCP_MPI_TEST_CKPT_AT=10 DMTCP_MPI_TEST_FAILOK=1 DMTCP_MPI_CKPT_STOP_TIMEOUT=1 \
	timeout "$TMO" "$T/blocker" >"$W/blocker.out" 2>"$W/err"
if [ $? -eq 0 ] && grep -q 'failures 1$' "$W/blocker.out" &&
   [ "$(errors)" -eq 1 ] && grep -q 'cannot stop thread' "$W/err"; then
	ok "unstoppable thread: checkpoint fails, process goes on"
else bad "unstoppable thread" "$(cat "$W/blocker.out")"; fi
failed_ckpt "disk full: process goes on, old image kept" DMTCP_MPI_FAULT=ckpt-enospc
failed_ckpt "missing directory: process goes on" DMTCP_MPI_TEST_DIR="$W/nonexistent"

# Killed in the middle of writing: the previous image is still whole.
cp "$W/counter.img" "$W/before-kill.img"
{ DMTCP_MPI_FAULT=ckpt-kill DMTCP_MPI_TEST_CKPT_AT=30 \
	timeout "$TMO" "$T/counter" >/dev/null 2>"$W/err"; } 2>/dev/null
rc=$?
if [ $rc -eq 137 ] && cmp -s "$W/before-kill.img" "$W/counter.img" &&
   timeout "$TMO" "$R" "$W/counter.img" 2>>"$W/err" | cmp -s - "$W/goon.ref"; then
	ok "killed while writing: previous image intact and restartable"
else bad "killed while writing" "exit $rc"; fi

# ------------------------------------------------- bad images
# bad_image NAME FILE WORD: restart refuses FILE before doing anything,
# with exit 71 and one error line containing WORD.
bad_image() {
	local name=$1 file=$2 word=$3
	timeout "$TMO" "$R" "$file" >/dev/null 2>"$W/err"
	local rc=$?
	if [ $rc -ne 71 ]; then bad "$name" "exit $rc, expected 71"
	elif [ "$(wc -l <"$W/err")" -ne 1 ] || [ "$(errors)" -ne 1 ]; then
		bad "$name" "expected exactly one error line"
	elif ! grep -q -- "$word" "$W/err"; then bad "$name" "no '$word' in: $(cat "$W/err")"
	else ok "$name"; fi
}
# patch FILE OFFSET HEXBYTE: overwrite one byte
patch() { printf "\\x$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

size=$(stat -c %s "$W/good.img")
head -c $((size / 2)) "$W/good.img" >"$W/trunc.img"
bad_image "truncated image" "$W/trunc.img" "section header: .*truncated"
cp "$W/good.img" "$W/flip.img"; patch "$W/flip.img" 5000 ff
bad_image "corrupted page data" "$W/flip.img" "section data #[0-9]*: checksum mismatch"
cp "$W/good.img" "$W/table.img"; patch "$W/table.img" $((size - 20)) ff
bad_image "corrupted section table" "$W/table.img" "section table: checksum mismatch"
cp "$W/good.img" "$W/version.img"; patch "$W/version.img" 8 07
bad_image "other format version" "$W/version.img" "format version 7"
cp "$W/good.img" "$W/arch.img"; patch "$W/arch.img" 16 b7
bad_image "foreign architecture" "$W/arch.img" "foreign architecture"
bad_image "not an image" /etc/passwd "bad magic"
if timeout "$TMO" "$R" --info "$W/good.img" >"$W/info" 2>"$W/err" &&
   grep -q '^threads: 2' "$W/info" && grep -q '^regions: ' "$W/info"; then
	ok "--info"
else bad "--info" "$(head -3 "$W/info")"; fi

# The reader on every corpus file (tests/ckpt/corpus, also the fuzzer's
# seeds): good-* accepted, bad-* refused cleanly.
C=$(dirname "$0")/corpus
cgood=0 cbad=0
for f in "$C"/*.img; do
	timeout "$TMO" "$R" --info "$f" >/dev/null 2>"$W/err"
	rc=$?
	case $(basename "$f") in
	good-*) [ $rc -eq 0 ] || { cbad=$((cbad + 1)); echo "  $f: exit $rc"; } ;;
	*) if [ $rc -ne 71 ] || [ "$(wc -l <"$W/err")" -ne 1 ]; then
		cbad=$((cbad + 1)); echo "  $f: exit $rc"; fi ;;
	esac
	cgood=$((cgood + 1))
done
if [ "$cbad" -eq 0 ] && [ "$cgood" -gt 0 ]; then ok "corpus: $cgood files"
else bad "corpus" "$cbad of $cgood files misjudged"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
