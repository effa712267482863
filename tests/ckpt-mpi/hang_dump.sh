#!/bin/sh
# hang_dump.sh - what every process under PID is waiting for, so that a hang
# a test runner is about to kill leaves evidence behind (a rare hang seen
# once on CI cannot be reproduced on demand).
#
#   sh tests/ckpt-mpi/hang_dump.sh [--kill] PID
#
# For PID and all its descendants: the command line, and per thread the
# state, kernel wait channel and system call (from /proc).  With gdb
# installed, also every thread's backtrace (the functions of our shim,
# proxy and launcher, and where the real MPI waits).  --kill then ends
# them all: SIGTERM, and SIGKILL to what is left 3 s later (the ranks may
# be in sessions of their own, out of reach of a signal to PID's group).
set -u

# tree PID: PID and its descendants, parents first, from one read of every
# /proc/N/stat (the parent is the field after the state; the command name
# before it may hold spaces and parentheses).
tree() {
	cat /proc/[0-9]*/stat 2>/dev/null |
		sed -n 's/^\([0-9]*\) (.*) [A-Za-z] \([0-9]*\) .*/\1 \2/p' |
		awk -v root="$1" '
			{ kids[$2] = kids[$2] " " $1 }
			END {
				q[0] = root; n = 1
				for (i = 0; i < n; i++) {
					print q[i]
					k = split(kids[q[i]], c, " ")
					for (j = 1; j <= k; j++)
						q[n++] = c[j]
				}
			}'
}

dump_one() {
	[ -d /proc/"$1" ] || return 0
	echo "== pid $1: $(tr '\0' ' ' </proc/"$1"/cmdline 2>/dev/null)"
	for t in /proc/"$1"/task/*; do
		tid=${t##*/}
		st=$(sed -n 's/^State:[[:space:]]*//p' "$t"/status 2>/dev/null)
		echo "   tid $tid $(cat "$t"/comm 2>/dev/null) [$st]" \
			"wchan=$(cat "$t"/wchan 2>/dev/null)" \
			"syscall=$(cut -d' ' -f1 "$t"/syscall 2>/dev/null)"
	done
	if command -v gdb >/dev/null 2>&1; then
		timeout 30 gdb -batch -nx -p "$1" -ex 'thread apply all bt 12' 2>/dev/null |
			grep '^#\|^Thread' | sed 's/^/   /'
	fi
}

kill=0
[ "${1:-}" = --kill ] && { kill=1; shift; }
[ $# -eq 1 ] || { echo "usage: hang_dump.sh [--kill] PID" >&2; exit 64; }
pids=$(tree "$1")
for p in $pids; do
	dump_one "$p"
done
if [ $kill = 1 ]; then
	kill -TERM $pids 2>/dev/null
	sleep 3
	kill -KILL $pids 2>/dev/null
fi
exit 0
