#!/bin/sh
# reap.sh - the death of either child ends the rank, promptly, with the
# right exit status and nothing left behind.  Shell scripts stand in for
# the proxy (DMTCP_MPI_PROXY) and the app; they read the channel header
# through chanpeek.  Channel states (chan.h): 0 up, 1 app gone, 2 proxy gone.
. "$(dirname "$0")/lib.sh"

PROXY_DIED=68
export DMTCP_MPI_PROXY=$T/proxy
unset DMTCP_MPI_KILL_TIMEOUT

# Proxies.  Each writes its pid, then:
#   abort:     on state 1 (app gone) records it and exits 3, as MPI_Abort would
#   stubborn:  ignores the channel
#   finishing: exits 0 after 1 s, unless it sees state 1 first (exit 3)
#   traps:     records the signals it gets
proxy_abort='echo $$ >$OUT/proxy.pid
if $PEEK wait-state 1 30; then echo app-gone >$OUT/proxy.saw; exit 3; fi'
proxy_stubborn='echo $$ >$OUT/proxy.pid; exec $SLEEP 300'
proxy_finishing='echo $$ >$OUT/proxy.pid
if $PEEK wait-state 1 1; then echo app-gone >$OUT/proxy.saw; exit 3; fi
echo clean >$OUT/proxy.saw; touch $OUT/proxy.done; exit 0'
proxy_traps='echo $$ >$OUT/proxy.pid
trap "echo term >>$OUT/proxy.sigs; exit 0" TERM
trap "echo usr1 >>$OUT/proxy.sigs" USR1
while :; do $SLEEP 0.05; done'

# Apps.
app_sleep='echo $$ >$OUT/app.pid; exec $SLEEP 300'
app_traps='echo $$ >$OUT/app.pid
trap "echo usr1 >>$OUT/app.sigs" USR1
trap "echo term >>$OUT/app.sigs; exit 3" TERM
while :; do $SLEEP 0.05; done'

reset() {
	rm -f "$T"/proxy.* "$T"/app.* "$T"/err*
	fake proxy "$1"
	fake app "$2"
}

# gone PID: the process is dead (a zombie waiting for its new parent counts).
gone() {
	! kill -0 "$1" 2>/dev/null ||
		[ "$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# --- the app is killed: exit 128+9, the proxy is told and ends.
reset "$proxy_abort" "$app_sleep"
start_dm "$T/err" "$T/app"
wait_file "$T/app.pid"; wait_file "$T/proxy.pid"
kill -KILL "$(cat "$T/app.pid")"
finish_dm
check "app SIGKILLed: launcher exits 137" [ "$RC" -eq 137 ]
check "app SIGKILLed: ends within 3 s" [ "$ELAPSED" -le 3 ]
check "app SIGKILLed: one line names the signal" \
	grep -qx "dmtcp_mpi: error: rank 0: application killed by signal 9 (SIGKILL)" "$T/err"
check "app SIGKILLed: proxy saw CHAN_APP_GONE" grep -qx app-gone "$T/proxy.saw"
check "app SIGKILLed: nothing left behind" no_leftovers

# --- the app is killed and the proxy ignores the channel: killed after
# DMTCP_MPI_KILL_TIMEOUT.
reset "$proxy_stubborn" "$app_sleep"
export DMTCP_MPI_KILL_TIMEOUT=1
start_dm "$T/err" "$T/app"
wait_file "$T/app.pid"; wait_file "$T/proxy.pid"
kill -KILL "$(cat "$T/app.pid")"
finish_dm
unset DMTCP_MPI_KILL_TIMEOUT
check "stubborn proxy: launcher still exits 137" [ "$RC" -eq 137 ]
check "stubborn proxy: ends within KILL_TIMEOUT + 2 s" [ "$ELAPSED" -le 3 ]
check "stubborn proxy: it is killed" gone "$(cat "$T/proxy.pid")"
check "stubborn proxy: a warning says so" grep -q "warning: rank 0: proxy still running" "$T/err"
check "stubborn proxy: nothing left behind" no_leftovers

# --- the proxy is killed: the app is killed, exit DM_EXIT_PROXY_DIED.
reset "$proxy_stubborn" "$app_sleep"
start_dm "$T/err" "$T/app"
wait_file "$T/app.pid"; wait_file "$T/proxy.pid"
kill -KILL "$(cat "$T/proxy.pid")"
finish_dm
check "proxy SIGKILLed: exit $PROXY_DIED" [ "$RC" -eq $PROXY_DIED ]
check "proxy SIGKILLed: ends within 3 s" [ "$ELAPSED" -le 3 ]
check "proxy SIGKILLed: one line" \
	grep -qx "dmtcp_mpi: error: rank 0: proxy killed by signal 9 (SIGKILL); ending the rank" "$T/err"
check "proxy SIGKILLed: the app is gone" gone "$(cat "$T/app.pid")"
check "proxy SIGKILLed: nothing left behind" no_leftovers

# --- the proxy fails with a status: same, and the channel says
# CHAN_PROXY_GONE (seen by a watcher the app leaves behind, since the app
# itself is killed at once).
reset 'echo $$ >$OUT/proxy.pid; $SLEEP 0.5; exit 5' \
	'($PEEK wait-state 2 20 && echo proxy-gone >$OUT/app.saw) &
echo $$ >$OUT/app.pid; exec $SLEEP 300'
run_dm "$T/err" "$T/app"
wait_file "$T/app.saw"
check "proxy exits 5: exit $PROXY_DIED" [ "$RC" -eq $PROXY_DIED ]
check "proxy exits 5: message gives the status" \
	grep -qx "dmtcp_mpi: error: rank 0: proxy exited with status 5; ending the rank" "$T/err"
check "proxy exits 5: app saw CHAN_PROXY_GONE" grep -qx proxy-gone "$T/app.saw"
check "proxy exits 5: nothing left behind" no_leftovers

# --- the app finalizes and exits 0: the proxy, which stays after
# MPI_Finalize to answer a checkpoint, is told the app is gone.
reset "$proxy_finishing" '$PEEK finalize; exit 0'
run_dm "$T/err" "$T/app"
check "finalized app: exit 0" [ "$RC" -eq 0 ]
check "finalized app: proxy told the app is gone" grep -qx app-gone "$T/proxy.saw"
check "finalized app: no messages" [ ! -s "$T/err" ]

# --- the app exits 0 without finalizing: the proxy is told.
reset "$proxy_finishing" 'exit 0'
run_dm "$T/err" "$T/app"
check "unfinalized exit 0: exit 0" [ "$RC" -eq 0 ]
check "unfinalized exit 0: proxy saw CHAN_APP_GONE" grep -qx app-gone "$T/proxy.saw"

# --- the app fails: its status passes through, the proxy is told.
reset "$proxy_abort" 'exit 4'
run_dm "$T/err" "$T/app"
check "app exits 4: exit 4" [ "$RC" -eq 4 ]
check "app exits 4: proxy saw CHAN_APP_GONE" grep -qx app-gone "$T/proxy.saw"
check "app exits 4: no message (the app speaks for itself)" [ ! -s "$T/err" ]

# --- the proxy ends normally after the app finalized: the app keeps
# running undisturbed and its status is the launcher's.
reset "$proxy_finishing" '$PEEK finalize
while [ ! -e $OUT/proxy.done ]; do $SLEEP 0.05; done; $SLEEP 0.3
[ "$($PEEK state)" = 0 ] && exit 6; exit 9'
run_dm "$T/err" "$T/app"
check "proxy ends after finalize: app undisturbed, its status kept" [ "$RC" -eq 6 ]

# --- the proxy exits 0 while the app never finalized: the app's next MPI
# call must fail, not wait for ever: it sees CHAN_PROXY_GONE.
reset 'echo $$ >$OUT/proxy.pid; exit 0' \
	'$PEEK wait-state 2 20 && exit 6; exit 9'
run_dm "$T/err" "$T/app"
check "proxy exits 0 early: app sees CHAN_PROXY_GONE" [ "$RC" -eq 6 ]

# --- the launcher is SIGKILLed: both children die with it.
reset "$proxy_stubborn" "$app_sleep"
start_dm "$T/err" "$T/app"
wait_file "$T/app.pid"; wait_file "$T/proxy.pid"
kill -KILL "$(pgrep -P $TPID)"
finish_dm
sleep 0.3
check "launcher SIGKILLed: app dies too" gone "$(cat "$T/app.pid")"
check "launcher SIGKILLed: proxy dies too" gone "$(cat "$T/proxy.pid")"
check "launcher SIGKILLed: nothing left behind" no_leftovers

# --- signals: TERM to both, USR1 to the app only.
reset "$proxy_traps" "$app_traps"
start_dm "$T/err" "$T/app"
wait_file "$T/app.pid"; wait_file "$T/proxy.pid"
dm=$(pgrep -P $TPID)
kill -USR1 "$dm"
sleep 0.3
kill -TERM "$dm"
finish_dm
check "SIGUSR1 reaches the app" grep -qx usr1 "$T/app.sigs"
check "SIGUSR1 does not reach the proxy" sh -c "! grep -q usr1 '$T/proxy.sigs'"
check "SIGTERM reaches the app" grep -qx term "$T/app.sigs"
check "SIGTERM reaches the proxy" grep -qx term "$T/proxy.sigs"
check "after SIGTERM the app's status is the launcher's" [ "$RC" -eq 3 ]
check "signals: nothing left behind" no_leftovers

exit $NFAIL
