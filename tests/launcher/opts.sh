#!/bin/sh
# opts.sh - command-line and environment errors: the right exit code and one
# error line naming the culprit; options reach the app as DMTCP_MPI_*.
. "$(dirname "$0")/lib.sh"

USAGE=64 NOPROG=65 NOMPI=66

# expect NAME CODE WORD ARGS...: exit CODE, one error line mentioning WORD.
expect() {
	name=$1 code=$2 word=$3; shift 3
	run_dm "$T/err" "$@"
	if [ "$RC" -eq "$code" ] && one_line "$T/err" &&
	   grep -qF -- "$word" "$T/err"; then
		pass "$name"
	else
		fail "$name (exit $RC, want $code; stderr: $(cat "$T/err"))"
	fi
}

expect "unknown option" $USAGE "--frobnicate" --frobnicate /bin/true
expect "no program" $USAGE "program" --no-mpi
expect "no arguments at all" $USAGE "program"
expect "missing option value" $USAGE "--coord-host" --no-mpi --coord-host
expect "missing value, last word" $USAGE "--ckptdir" --ckptdir
expect "non-numeric interval" $USAGE "--interval" --interval 10s /bin/true
expect "negative interval" $USAGE "--interval" --interval=-1 /bin/true
expect "compression level out of range" $USAGE "--compress" --compress 20 /bin/true
expect "bad port" $USAGE "--coord-port" --coord-port 70000 /bin/true
expect "unknown MPI" $USAGE "--mpi=lam" --mpi=lam /bin/true
expect "missing program" $NOPROG "no-such-program-$MARK" \
	--no-mpi "no-such-program-$MARK"
expect "program is a directory" $NOPROG "$T" --no-mpi "$T"
printf 'echo hi\n' >"$T/noexec"
expect "program not executable" $NOPROG "$T/noexec" --no-mpi "$T/noexec"

# Bad environment values are usage errors too.
export DMTCP_MPI_KILL_TIMEOUT=soon
expect "bad KILL_TIMEOUT" $USAGE DMTCP_MPI_KILL_TIMEOUT /bin/true
unset DMTCP_MPI_KILL_TIMEOUT
export DMTCP_MPI_BIND=everywhere
expect "bad DMTCP_MPI_BIND" $USAGE DMTCP_MPI_BIND /bin/true
unset DMTCP_MPI_BIND
export DMTCP_MPI_ARENA_MB=0
expect "bad DMTCP_MPI_ARENA_MB" $USAGE DMTCP_MPI_ARENA_MB /bin/true
unset DMTCP_MPI_ARENA_MB

# A proxy that is not there: the message names the MPI and the path.
mkdir -p "$T/pfx/bin"
cp "$DM" "$T/pfx/bin/dmtcp_mpi"
DM_SAVED=$DM DM=$T/pfx/bin/dmtcp_mpi
expect "no proxy built" $NOMPI \
	"no proxy for openmpi ($T/pfx/libexec/dmtcp_mpi/proxy-openmpi)" \
	--mpi=openmpi /bin/true
DM=$DM_SAVED
export DMTCP_MPI_PROXY=$T/nothing-here
expect "DMTCP_MPI_PROXY missing" $NOPROG "$T/nothing-here" /bin/true
unset DMTCP_MPI_PROXY

# Help and version go to stdout and succeed.
run_dm "$T/help" --help
check "--help exits 0 with usage on stdout" \
	sh -c "[ $RC -eq 0 ] && grep -q '^usage: ' '$T/help.out' && [ ! -s '$T/help' ]"
run_dm "$T/ver" --version
check "--version exits 0" \
	sh -c "[ $RC -eq 0 ] && grep -q '^dmtcp_mpi [0-9]' '$T/ver.out'"

# Options are exported; an existing value is the default, the command
# line wins; a relative checkpoint directory is made absolute.
show='echo "$DMTCP_MPI_CKPTDIR|$DMTCP_MPI_INTERVAL|$DMTCP_MPI_COORD_HOST|$DMTCP_MPI_COORD_PORT"'
cd "$T" || exit 1
export DMTCP_MPI_INTERVAL=30 DMTCP_MPI_COORD_HOST=envhost
run_dm "$T/env" --ckptdir ck --coord-port=7799 --interval=5 --no-mpi \
	sh -c "$show"
unset DMTCP_MPI_INTERVAL DMTCP_MPI_COORD_HOST
check "options exported, command line wins over environment" \
	[ "$(cat "$T/env.out")" = "$T/ck|5|envhost|7799" ]
export DMTCP_MPI_CKPTDIR=/keep/me
run_dm "$T/env2" --no-mpi sh -c "$show"
unset DMTCP_MPI_CKPTDIR
check "environment values kept when no option given" \
	[ "$(cat "$T/env2.out")" = "/keep/me|||" ]

run_dm "$T/cz" --no-mpi --no-compress --fork-ckpt \
	sh -c 'echo "$DMTCP_MPI_COMPRESS|$DMTCP_MPI_FORK_CKPT"'
check "--no-compress and --fork-ckpt exported" [ "$(cat "$T/cz.out")" = "0|1" ]
run_dm "$T/cz2" --no-mpi --compress=7 sh -c 'echo "$DMTCP_MPI_COMPRESS"'
check "--compress level exported" [ "$(cat "$T/cz2.out")" = "7" ]

# Everything after the program is the program's.
run_dm "$T/args" --no-mpi sh -c 'echo "$@"' sh --help --interval x
check "options after the program belong to the program" \
	[ "$RC" -eq 0 -a "$(cat "$T/args.out")" = "--help --interval x" ]
run_dm "$T/dd" -- --no-mpi 2>/dev/null
check "-- ends the options" grep -qF -- "(--no-mpi)" "$T/dd"

exit $NFAIL
