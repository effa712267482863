#!/bin/sh
# bind.sh - CPU placement of the app and its proxy.
#   1. The rule on synthetic machines (bindplan runs bind.c's ln_bind_choose;
#      the expected pairs are worked out by hand from the rule in bind.c).
#   2. The real thing here: what Cpus_allowed_list the children end up with
#      and what hdr->same_cpu says, under several launcher bindings.
. "$(dirname "$0")/lib.sh"

${CC:-cc} -std=gnu11 -D_GNU_SOURCE -I"$ROOT" -o "$T/bindplan" \
	"$ROOT/tests/launcher/bindplan.c" "$ROOT/launcher/bind.c" \
	"$ROOT/util/log.c" -lhwloc || { fail "cannot build bindplan"; exit 1; }

# plan TOPOLOGY BINDING LOCAL_RANK LOCAL_SIZE EXPECTED(app proxy same_cpu)
plan() {
	got=$("$T/bindplan" "$1" "$2" "$3" "$4" | cut -d' ' -f1-3)
	if [ "$got" = "$5" ]; then
		pass "synthetic '$1' bound to $2, local rank $3 of $4: $5"
	else
		fail "synthetic '$1' bound to $2, local rank $3 of $4: got $got, want $5"
	fi
}
# SMT: pairs are the two PUs of a core, cores in order.
plan "pack:2 core:2 pu:2" all 0 1 "0 1 0"
plan "pack:2 core:2 pu:2" all 3 4 "6 7 0"
plan "core:2 pu:2" all 1 2 "2 3 0"
# Too many local ranks for two PUs each: share one PU, spread by rank.
plan "pack:2 core:2 pu:2" all 1 5 "1 1 1"
plan "pack:2 core:2 pu:2" all 6 8 "6 6 1"
# Bound by mpirun to part of the machine: share, within that part.
plan "pack:2 core:2 pu:2" 0-3 0 2 "0 0 1"
plan "pack:2 core:2 pu:2" 4-7 1 2 "5 5 1"
plan "pack:2 core:2 pu:2" 4-7 5 8 "5 5 1"
plan "pack:2 core:2 pu:2" 6 0 1 "6 6 1"
# No SMT: pairs within a package first, leftovers across packages last.
plan "pack:2 core:3 pu:1" all 0 3 "0 1 0"
plan "pack:2 core:3 pu:1" all 1 3 "3 4 0"
plan "pack:2 core:3 pu:1" all 2 3 "2 5 0"
# This machine's shape.
plan "pack:1 core:2 pu:1" all 0 1 "0 1 0"
plan "pack:1 core:2 pu:1" all 1 2 "1 1 1"

# --- the real machine -------------------------------------------------
export DMTCP_MPI_PROXY=$T/proxy
# Each child records its CPU list and the channel's same_cpu, then ends.
fake proxy 'echo "$(sed -n "s/^Cpus_allowed_list:[[:space:]]*//p" /proc/$$/status) $($PEEK same_cpu)" >$OUT/proxy.cpus
$PEEK wait-state 1 20; exit 0'
fake app 'echo "$(sed -n "s/^Cpus_allowed_list:[[:space:]]*//p" /proc/$$/status) $($PEEK same_cpu)" >$OUT/app.cpus
exit 0'

# The CPUs this test may use, one per line.
expand() {
	echo "$1" | tr ',' '\n' | awk -F- '{ e = NF > 1 ? $2 : $1;
		for (i = $1; i <= e; i++) print i }'
}
OURS=$(cpus $$)
NCPU=$(expand "$OURS" | wc -l)
FIRST=$(expand "$OURS" | sed -n 1p)
SECOND=$(expand "$OURS" | sed -n 2p)
LAST=$(expand "$OURS" | tail -n 1)

# placed NAME WANT_APP WANT_PROXY COMMAND...: run COMMAND (a launcher run of
# $T/app), compare "CPU-list same_cpu" of both children with the wants.
placed() {
	name=$1 want_app=$2 want_proxy=$3
	shift 3
	rm -f "$T/app.cpus" "$T/proxy.cpus"
	"$@" >"$T/bind.out" 2>"$T/bind.err"
	got_app=$(cat "$T/app.cpus" 2>/dev/null)
	got_proxy=$(cat "$T/proxy.cpus" 2>/dev/null)
	if [ "$got_app" = "$want_app" ] && [ "$got_proxy" = "$want_proxy" ]; then
		pass "$name: app [$got_app] proxy [$got_proxy]"
	else
		fail "$name: app [$got_app] proxy [$got_proxy], want [$want_app] [$want_proxy] ($(cat "$T/bind.err"))"
	fi
}

DMT="timeout -k 5 30 $DM"
if [ "$NCPU" -ge 2 ] && [ "$OURS" = "$(cpus 1)" ]; then
	# Singleton on a whole machine with >= 2 PUs: separate PUs.
	placed "singleton, whole machine" "$FIRST 0" "$SECOND 0" $DMT "$T/app"
else
	echo "SKIP: bind: separate PUs need >= 2 CPUs and an unbound test"
fi
if [ "$NCPU" -ge 2 ]; then
	# Local rank 1 of as many local ranks as CPUs: share PU number 1.
	placed "crowded node, local rank 1" "$SECOND 1" "$SECOND 1" \
		env PMI_RANK=1 PMI_SIZE="$NCPU" MPI_LOCALRANKID=1 \
		MPI_LOCALNRANKS="$NCPU" $DMT "$T/app"
fi
# Launcher bound to one CPU (as Open MPI binds ranks): both on it, shared.
placed "launcher bound to CPU $LAST" "$LAST 1" "$LAST 1" \
	taskset -c "$LAST" $DMT "$T/app"
# --no-bind: both inherit the launcher's binding; shared only if one CPU.
placed "--no-bind" "$OURS 0" "$OURS 0" $DMT --no-bind "$T/app"
placed "DMTCP_MPI_BIND=none" "$OURS 0" "$OURS 0" \
	env DMTCP_MPI_BIND=none $DMT "$T/app"
placed "--no-bind on one CPU" "$LAST 1" "$LAST 1" \
	taskset -c "$LAST" $DMT --no-bind "$T/app"

# DMTCP_MPI_VERBOSE=1 tells the choice.
DMTCP_MPI_VERBOSE=1 taskset -c "$LAST" $DMT "$T/app" 2>"$T/verbose" >/dev/null
check "verbose placement line" \
	grep -q "^dmtcp_mpi: rank 0 (local 0 of 1): app on PU $LAST, proxy on PU $LAST (shared PU" "$T/verbose"
check "nothing left behind" no_leftovers

exit $NFAIL
