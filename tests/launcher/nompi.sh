#!/bin/sh
# nompi.sh - --no-mpi: a plain program runs as the launcher's child with its
# exit status passed through, signals forwarded and the checkpoint engine
# preloaded when it is installed next to the launcher.
. "$(dirname "$0")/lib.sh"

run_dm "$T/true" --no-mpi /bin/true
check "--no-mpi /bin/true exits 0" [ "$RC" -eq 0 -a ! -s "$T/true" ]

run_dm "$T/seven" --no-mpi sh -c 'exit 7'
check "--no-mpi exit 7 passes through" [ "$RC" -eq 7 ]

run_dm "$T/out" --no-mpi sh -c 'echo to-stdout; echo to-stderr >&2'
check "stdout and stderr are inherited" \
	sh -c "grep -qx to-stdout '$T/out.out' && grep -qx to-stderr '$T/out'"

echo from-stdin | timeout 20 "$DM" --no-mpi sh -c 'read x; echo "got $x"' \
	>"$T/in.out" 2>&1
check "stdin is inherited" grep -qx "got from-stdin" "$T/in.out"

# Killed by a signal: 128+N and one line naming the signal.
run_dm "$T/segv" --no-mpi sh -c 'kill -SEGV $$'
check "death by SIGSEGV exits 139" [ "$RC" -eq 139 ]
check "death by signal reported on one line" \
	sh -c "one_line() { [ \$(wc -l <\"\$1\") -eq 1 ]; }; one_line '$T/segv' &&
	       grep -q 'application killed by signal 11 (SIGSEGV)' '$T/segv'"

# SIGTERM and SIGUSR1 sent to the launcher reach the program.
fake trapper 'trap "echo usr1 >>$OUT/sigs" USR1
trap "echo term >>$OUT/sigs; exit 3" TERM
echo ready >$OUT/ready
while :; do $SLEEP 0.05; done'
timeout 30 "$DM" --no-mpi "$T/trapper" 2>"$T/trap.err" &
tpid=$!
wait_file "$T/ready"
dm=$(pgrep -P $tpid)
kill -USR1 "$dm"
sleep 0.3
kill -TERM "$dm"
wait $tpid
rc=$?
check "SIGUSR1 and SIGTERM forwarded to the program" \
	[ "$(cat "$T/sigs" 2>/dev/null | tr '\n' ' ')" = "usr1 term " ]
check "exit status after a forwarded signal is the program's" [ $rc -eq 3 ]
check "nothing left behind after forwarded SIGTERM" no_leftovers

# The engine: <prefix>/lib/libdmtcp_ckpt.so goes first in LD_PRELOAD.
mkdir -p "$T/pfx/bin" "$T/pfx/lib"
cp "$DM" "$T/pfx/bin/dmtcp_mpi"
printf 'int dm_test_engine_marker;\n' >"$T/eng.c"
${CC:-cc} -shared -fPIC -o "$T/pfx/lib/libdmtcp_ckpt.so" "$T/eng.c"
ENGINE=$T/pfx/lib/libdmtcp_ckpt.so
LD_PRELOAD= timeout 20 "$T/pfx/bin/dmtcp_mpi" --no-mpi sh -c 'echo "$LD_PRELOAD"' \
	>"$T/pre1" 2>&1
check "engine preloaded when installed" [ "$(cat "$T/pre1")" = "$ENGINE" ]
printf 'int dm_test_other;\n' >"$T/other.c"
${CC:-cc} -shared -fPIC -o "$T/other.so" "$T/other.c"
LD_PRELOAD=$T/other.so timeout 20 "$T/pfx/bin/dmtcp_mpi" --no-mpi \
	sh -c 'echo "$LD_PRELOAD"' >"$T/pre2" 2>&1
check "engine prepended to an existing LD_PRELOAD" \
	[ "$(cat "$T/pre2")" = "$ENGINE:$T/other.so" ]
rm "$ENGINE"
LD_PRELOAD= timeout 20 "$T/pfx/bin/dmtcp_mpi" --no-mpi sh -c 'echo "[$LD_PRELOAD]"' \
	>"$T/pre3" 2>&1
check "no engine, LD_PRELOAD untouched" [ "$(cat "$T/pre3")" = "[]" ]

exit $NFAIL
