#!/bin/sh
# run.sh - tests of dmtcp_mpi_coordinator, dmtcp_mpi_command and the
# engine's coordinator client, with a fake engine (tests/coord/
# fake_engine.c: the real client thread over a stub ck_checkpoint) in a
# small app (fake_app).  Usage: sh tests/coord/run.sh [BUILD_DIR]
#
# Each check prints PASS or FAIL; the last line is "N passed, N failed"
# and the exit status is 1 if anything failed.  Every process a test
# starts is recorded by pid and killed at exit; coordinators run on free
# ports (--port 0) and in a private $DMTCP_MPI_TMPDIR, so parallel runs
# and a real coordinator on 7779 are not disturbed.

ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/../.." && pwd)
BLD=${1:-${B:-build}}
case $BLD in /*) ;; *) BLD=$ROOT/$BLD ;; esac
TB=$BLD/tests/coord/bin
APP=$TB/fake_app
T=$(mktemp -d "${TMPDIR:-/tmp}/coordtest.XXXXXX")
NPASS=0
NFAIL=0

export DMTCP_MPI_TMPDIR=$T/tmp
unset DMTCP_MPI_SECRET DMTCP_MPI_COORD_HOST DMTCP_MPI_COORD_PORT \
	DMTCP_MPI_RANK DMTCP_MPI_NRANKS DMTCP_MPI_MPI DMTCP_MPI_CKPTDIR \
	DMTCP_MPI_FAKE_CKPT DMTCP_MPI_MPIRUN DMTCP_MPI_INTERVAL \
	DMTCP_MPI_FAKE_MPI DMTCP_MPI_FAKE_SEQS DMTCP_MPI_FAKE_DRAIN \
	DMTCP_MPI_FAKE_FAIL DMTCP_MPI_FAKE_LOG

cleanup() {
	[ -f "$T/pids" ] && for p in $(cat "$T/pids"); do
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

pass() { echo "PASS: coord: $1"; NPASS=$((NPASS + 1)); }
fail() { echo "FAIL: coord: $1"; NFAIL=$((NFAIL + 1)); }
# check NAME 'CONDITION': PASS if the shell condition (eval'd) holds.
check() {
	if eval "$2"; then pass "$1"; else fail "$1"; fi
}

for f in "$APP" "$BLD/bin/dmtcp_mpi_coordinator" "$BLD/bin/dmtcp_mpi_command"
do
	[ -x "$f" ] || { echo "FAIL: coord: not built: $f"; echo "0 passed, 1 failed"; exit 1; }
done

# The coordinator is run from a copy in $T/bin with fake dmtcp_mpi_restart
# and mpirun beside it, so a written restart.sh can be run and checked.
# The fake engine auto-starts <its lib>/../bin/dmtcp_mpi_coordinator.
mkdir -p "$T/bin"
cp "$BLD/bin/dmtcp_mpi_coordinator" "$BLD/bin/dmtcp_mpi_command" "$T/bin/"
ln -sf "$T/bin/dmtcp_mpi_coordinator" "$TB/dmtcp_mpi_coordinator"
printf '#!/bin/sh\necho restart "$@"\n' >"$T/bin/dmtcp_mpi_restart"
printf '#!/bin/sh\necho mpirun "$@"\n' >"$T/bin/fake_mpirun"
chmod +x "$T/bin/dmtcp_mpi_restart" "$T/bin/fake_mpirun"
COORD=$T/bin/dmtcp_mpi_coordinator
CMD=$T/bin/dmtcp_mpi_command

remember() { echo "$1" >>"$T/pids"; }

# wait_until SECONDS COMMAND...: poll every 0.1 s until COMMAND succeeds.
wait_until() {
	n=$(($1 * 10)); shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# start_coord NAME OPTIONS...: a daemon coordinator on a free port with
# checkpoints in $T/NAME; sets PORT and CPID.
start_coord() {
	name=$1; shift
	timeout 20 "${COORD_BIN:-$COORD}" --daemon --port 0 --port-file "$T/$name.port" \
		--ckptdir "$T/$name" "$@" || { PORT=0; CPID=0; return 1; }
	PORT=$(cat "$T/$name.port")
	CPID=$(cmd --status | sed -n 's/^pid=//p')
	remember "$CPID"
}

# cmd ARGS...: dmtcp_mpi_command on $PORT, bounded.
cmd() { timeout 90 "$CMD" --coord-port "$PORT" "$@"; }

# app NAME [ENV=VALUE...]: start fake_app (60 s) as a client of $PORT,
# stderr to $T/NAME.err; sets APID.
app() {
	name=$1; shift
	env DMTCP_MPI_COORD_PORT="$PORT" "$@" "$APP" 60 $APP_OPT \
		>/dev/null 2>"$T/$name.err" &
	APID=$!
	remember "$APID"
}

nclients() { cmd --status 2>/dev/null | sed -n 's/^clients=//p'; }
has_clients() { [ "$(nclients)" = "$1" ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }
stop() { kill -KILL "$@" 2>/dev/null; for p in "$@"; do wait "$p" 2>/dev/null; done; }
# stop_coord: the way a user stops a coordinator, so it cleans up.
stop_coord() { kill -TERM "$CPID" 2>/dev/null; wait_until 5 gone "$CPID"; }

# crc32c FILE: computed here, independently of the client's code.
crc32c() {
	python3 - "$1" <<'EOF'
import sys
t = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    t.append(c)
c = 0xFFFFFFFF
for b in open(sys.argv[1], 'rb').read():
    c = (c >> 8) ^ t[(c ^ b) & 0xFF]
print('%08x' % (c ^ 0xFFFFFFFF))
EOF
}

key() { sed -n "s/^$2=//p" "$1/manifest"; }

# --------------------------------------------------------------- tests

test_no_coordinator() {
	start_coord gone
	stop_coord
	wait_until 5 sh -c "! '$CMD' --coord-port $PORT --status 2>/dev/null"
	"$CMD" --coord-port "$PORT" --status >"$T/nc.out" 2>"$T/nc.err"
	rc=$?
	check "no coordinator: exit status 73" '[ $rc -eq 73 ]'
	check "no coordinator: the one documented error line" '[ "$(cat "$T/nc.err")" = "dmtcp_mpi: error: no coordinator at 127.0.0.1:$PORT: start a job with dmtcp_mpi or pass --coord-port" ]'
}

test_secret() {
	start_coord sec
	f=$DMTCP_MPI_TMPDIR/coord-127.0.0.1-$PORT.secret
	check "secret: file mode 0600" '[ "$(stat -c %a "$f")" = 600 ]'
	check "secret: directory mode 0700" '[ "$(stat -c %a "$DMTCP_MPI_TMPDIR")" = 700 ]'
	check "secret: 32 hex digits" 'grep -qxE "[0-9a-f]{32}" "$f"'
	log=$DMTCP_MPI_TMPDIR/coord-127.0.0.1-$PORT.log
	DMTCP_MPI_SECRET=00000000000000000000000000000000 cmd --status \
		>/dev/null 2>"$T/ws.err"
	rc=$?
	check "wrong secret: command refused with 73" '[ $rc -eq 73 ]'
	check "wrong secret: command says so" 'grep -q "refused: wrong secret" "$T/ws.err"'
	check "wrong secret: one log line" '[ "$(grep -c "refused connection from .*wrong secret" "$log")" = 1 ]'
	app ws DMTCP_MPI_SECRET=ffffffffffffffffffffffffffffffff
	wait_until 5 grep -q "did not accept us" "$T/ws.err"
	check "wrong secret: client refused" 'grep -q "refused: wrong secret" "$T/ws.err"'
	check "wrong secret: client's process goes on" 'kill -0 "$APID"'
	check "wrong secret: no client registered" 'has_clients 0'
	python3 -c "import socket; s = socket.create_connection(('127.0.0.1', $PORT)); s.sendall(b'GET / HTTP/1.0\r\n\r\n'); s.recv(200)" 2>/dev/null
	check "garbage peer: refused and logged" 'grep -q "refused connection from .*not a dmtcp_mpi peer" "$log"'
	cmd --status >/dev/null; rc=$?
	check "right secret from the file: accepted" '[ $rc -eq 0 ]'
	stop "$APID"
	stop_coord
	check "secret file removed at exit" 'wait_until 5 test ! -e "$f"'
}

test_status_and_checkpoint() {
	start_coord ck
	app r0 DMTCP_MPI_RANK=0 DMTCP_MPI_NRANKS=2; P0=$APID
	app r1 DMTCP_MPI_RANK=1 DMTCP_MPI_NRANKS=2 DMTCP_MPI_FAKE_SIZE=333333; P1=$APID
	check "status: two clients" 'wait_until 5 has_clients 2'
	cmd --status >"$T/st"
	check "status: rank 0 with its pid" 'grep -q "^client rank=0 nranks=2 pid=$P0 host=.* program=fake_app state=running" "$T/st"'
	check "status: rank 1 with its pid" 'grep -q "^client rank=1 nranks=2 pid=$P1 " "$T/st"'
	check "status: no checkpoint yet" 'grep -qx "last_checkpoint=none" "$T/st"'

	d=$(cmd --checkpoint); rc=$?
	check "checkpoint: exit 0" '[ $rc -eq 0 ]'
	check "checkpoint: prints the final directory" '[ -d "$d" ] && [ "${d%.tmp}" = "$d" ]'
	check "checkpoint: named ckpt_1_<date>-<time>" 'expr "$(basename "$d")" : '\''ckpt_1_[0-9]\{8\}-[0-9]\{6\}$'\'' >/dev/null'
	check "checkpoint: latest points at it" '[ "$(readlink "$T/ck/latest")" = "$(basename "$d")" ]'
	check "manifest: nranks=2" '[ "$(key "$d" nranks)" = 2 ]'
	check "manifest: mpi=none" '[ "$(key "$d" mpi)" = none ]'
	check "manifest: ends with status=complete" '[ "$(tail -n 1 "$d/manifest")" = status=complete ]'
	check "manifest: rank 1 size is the file's" '[ "$(key "$d" rank.1.size)" = "$(wc -c <"$d/rank1.img" | tr -d '\'' '\'')" ]'
	check "manifest: rank 1 size is what the engine wrote" '[ "$(key "$d" rank.1.size)" = 333333 ]'
	check "manifest: rank 0 checksum" '[ "$(key "$d" rank.0.checksum)" = "crc32c:$(crc32c "$d/rank0.img")" ]'
	check "manifest: rank 1 checksum" '[ "$(key "$d" rank.1.checksum)" = "crc32c:$(crc32c "$d/rank1.img")" ]'
	check "manifest: rank 1 pid" '[ "$(key "$d" rank.1.pid)" = "$P1" ]'
	check "restart.sh: executable" '[ -x "$d/restart.sh" ]'
	out=$(DMTCP_MPI_MPIRUN="$T/bin/fake_mpirun" "$T/ck/latest/restart.sh")
	check "restart.sh: mpirun -n 2 dmtcp_mpi_restart DIR" '[ "$out" = "mpirun -n 2 $T/bin/dmtcp_mpi_restart $(cd "$d" && pwd -P)" ]'
	check "status: last checkpoint" 'grep -qx "last_checkpoint=$d" "$(cmd --status >"$T/st2"; echo "$T/st2")"'

	d2=$(cmd --checkpoint)
	check "second checkpoint: numbered 2" 'expr "$(basename "$d2")" : '\''ckpt_2_'\'' >/dev/null'
	check "second checkpoint: latest moved" '[ "$(readlink "$T/ck/latest")" = "$(basename "$d2")" ]'
	check "no temporary directories left" '[ -z "$(ls -d "$T"/ck/*.tmp 2>/dev/null)" ]'
	check "clients survived both checkpoints" 'kill -0 "$P0" && kill -0 "$P1"'

	# A failing rank: no new checkpoint, latest untouched, exit 72.
	before=$(readlink "$T/ck/latest")
	stop "$P1"
	wait_until 5 has_clients 1
	app r1f DMTCP_MPI_RANK=1 DMTCP_MPI_NRANKS=2 DMTCP_MPI_FAKE_CKPT=fail; P1=$APID
	wait_until 5 has_clients 2
	cmd --checkpoint >/dev/null 2>"$T/fail.err"; rc=$?
	check "failing rank: exit 72" '[ $rc -eq 72 ]'
	check "failing rank: one error line naming rank 1" '[ "$(wc -l <"$T/fail.err")" = 1 ] && grep -q "^dmtcp_mpi: error: checkpoint 3 failed (.*): rank 1 pid $P1 " "$T/fail.err"'
	check "failing rank: latest unchanged" '[ "$(readlink "$T/ck/latest")" = "$before" ]'
	check "failing rank: nothing left of checkpoint 3" '[ -z "$(ls -d "$T"/ck/ckpt_3_* 2>/dev/null)" ]'

	# A rank killed while writing: failure as soon as it dies.
	stop "$P1"
	wait_until 5 has_clients 1
	app r1h DMTCP_MPI_RANK=1 DMTCP_MPI_NRANKS=2 DMTCP_MPI_FAKE_CKPT=hang; P1=$APID
	wait_until 5 has_clients 2
	t0=$(date +%s)
	cmd --checkpoint >/dev/null 2>"$T/kill.err" &
	CMDPID=$!
	wait_until 5 sh -c "'$CMD' --coord-port $PORT --status | grep -q '^phase=write'"
	kill -KILL "$P1"
	wait "$CMDPID"; rc=$?
	check "rank killed mid-checkpoint: exit 72" '[ $rc -eq 72 ]'
	check "rank killed mid-checkpoint: says it left" 'grep -q "rank 1 .* left during phase write" "$T/kill.err"'
	check "rank killed mid-checkpoint: well before the 60 s timeout" '[ $(( $(date +%s) - t0 )) -lt 10 ]'
	check "rank killed mid-checkpoint: latest unchanged" '[ "$(readlink "$T/ck/latest")" = "$before" ]'

	# Incomplete job: rank 1 missing.
	cmd --checkpoint >/dev/null 2>"$T/inc.err"; rc=$?
	check "missing rank: exit 72, says which" '[ $rc -eq 72 ] && grep -q "rank 1 of 2 is not connected" "$T/inc.err"'
	stop "$P0"; stop_coord
}

test_single_rank_restart_script() {
	start_coord one
	app one; P0=$APID
	wait_until 5 has_clients 1
	d=$(cmd --checkpoint)
	out=$("$T/one/latest/restart.sh")
	check "restart.sh, one rank: dmtcp_mpi_restart DIR/rank0.img" '[ "$out" = "restart $(cd "$d" && pwd -P)/rank0.img" ]'
	app two
	wait_until 5 has_clients 2
	cmd --checkpoint >/dev/null 2>"$T/dup.err"; rc=$?
	check "two jobs on one coordinator: refused with 72" '[ $rc -eq 72 ] && grep -q "rank 0 registered twice" "$T/dup.err"'
	stop "$APID"
	wait_until 5 has_clients 1
	stop "$P0"
	wait_until 5 has_clients 0
	cmd --checkpoint >/dev/null 2>"$T/none.err"; rc=$?
	check "no clients: exit 72" '[ $rc -eq 72 ] && grep -q "no clients connected" "$T/none.err"'
	stop_coord
}

test_timeout() {
	start_coord to --timeout 2
	app hang DMTCP_MPI_FAKE_CKPT=hang
	wait_until 5 has_clients 1
	t0=$(date +%s)
	cmd --checkpoint >/dev/null 2>"$T/to.err"; rc=$?
	dt=$(( $(date +%s) - t0 ))
	check "silent client: exit 72" '[ $rc -eq 72 ]'
	check "silent client: timed out after --timeout 2" '[ $dt -ge 1 ] && [ $dt -le 5 ] && grep -q "did not answer phase write within 2 s" "$T/to.err"'
	check "silent client: no latest" '[ ! -e "$T/to/latest" ]'
	check "silent client: coordinator still serves" 'has_clients 1'
	log=$DMTCP_MPI_TMPDIR/coord-127.0.0.1-$PORT.log
	python3 -c "import socket; s = socket.create_connection(('127.0.0.1', $PORT)); s.settimeout(8); s.recv(200)" 2>/dev/null
	check "silent peer: dropped after --timeout" 'grep -q "refused connection from .*no hello in time" "$log"'
	stop "$APID"; stop_coord
}

ndirs() { ls -d "$1"/ckpt_* 2>/dev/null | grep -vc '\.tmp$'; }
more_dirs() { [ "$(ndirs "$1")" -gt "$2" ]; }

test_interval() {
	start_coord iv --interval 1
	app iv
	wait_until 5 has_clients 1
	check "--interval 1: checkpoints appear by themselves" 'wait_until 6 more_dirs "$T/iv" 1'
	out=$(cmd --interval 0)
	check "command --interval 0: acknowledged" '[ "$out" = "interval=0" ]'
	sleep 1.5
	n=$(ndirs "$T/iv")
	sleep 2
	check "command --interval 0: no more checkpoints" '[ "$(ndirs "$T/iv")" = "$n" ]'
	cmd --interval 1 >/dev/null
	check "command --interval 1: they start again" 'wait_until 4 more_dirs "$T/iv" $n'
	stop "$APID"; stop_coord
	export DMTCP_MPI_INTERVAL=1
	start_coord iv2
	unset DMTCP_MPI_INTERVAL
	app iv2
	check "DMTCP_MPI_INTERVAL=1: the default interval" 'wait_until 6 more_dirs "$T/iv2" 1'
	stop "$APID"; stop_coord
}

test_kill() {
	start_coord kl
	out=$(cmd --kill 2>&1); rc=$?
	check "kill with no client connected: exit 77, says nothing was killed" \
		'[ $rc -eq 77 ] && echo "$out" | grep -q "^dmtcp_mpi: error: no rank is connected.*nothing was killed"'
	app k0 DMTCP_MPI_RANK=0 DMTCP_MPI_NRANKS=2; P0=$APID
	APP_OPT=--ignore-term
	app k1 DMTCP_MPI_RANK=1 DMTCP_MPI_NRANKS=2; P1=$APID
	APP_OPT=
	wait_until 5 has_clients 2
	t0=$(date +%s)
	out=$(cmd --kill); rc=$?
	dt=$(( $(date +%s) - t0 ))
	check "kill: exit 0 once every client exited" '[ $rc -eq 0 ] && [ "$out" = "every client has exited" ]'
	check "kill: both processes gone" 'wait_until 2 sh -c "! kill -0 $P0 2>/dev/null && ! kill -0 $P1 2>/dev/null"'
	wait "$P1" 2>/dev/null; st1=$?
	check "kill: SIGTERM-ignoring process got SIGKILL after the grace" '[ $st1 -eq 137 ] && [ $dt -ge 2 ]'
	check "kill: coordinator has no clients" 'has_clients 0'
	stop_coord
}

test_restart_reconnect() {
	start_coord rs
	app rs DMTCP_MPI_FAKE_CKPT=restart-once
	wait_until 5 has_clients 1
	cmd --checkpoint >/dev/null 2>"$T/rs.err"; rc=$?
	check "restarted client: its old connection's checkpoint fails" '[ $rc -eq 72 ]'
	check "restarted client: registers again" 'wait_until 5 sh -c "'\''$CMD'\'' --coord-port $PORT --status | grep -q '\''restarts=1'\''"'
	d=$(cmd --checkpoint); rc=$?
	check "restarted client: checkpointable again" '[ $rc -eq 0 ] && [ -f "$d/rank0.img" ]'
	stop "$APID"; stop_coord
}

test_autostart() {
	start_coord free
	stop_coord
	wait_until 5 sh -c "! '$CMD' --coord-port $PORT --status 2>/dev/null"
	# Coordinators racing for one port: exactly one serves, and the
	# secret file is its own (losers must not touch it).
	for i in 1 2 3 4 5; do
		"$COORD" --daemon --port "$PORT" --ckptdir "$T/race" 2>>"$T/race.err" &
	done
	wait
	check "racing coordinators: the losers say why" '[ "$(grep -c "another coordinator\|Address already in use" "$T/race.err")" = 4 ]'
	check "racing coordinators: the winner answers with its secret" 'cmd --status >/dev/null'
	CPID=$(cmd --status | sed -n 's/^pid=//p'); remember "$CPID"
	stop_coord
	# fd 7, open without O_CLOEXEC in every client, stands for whatever the
	# application holds open when its client thread starts the daemon.
	exec 7>"$T/held"
	for r in 0 1 2; do
		app auto$r DMTCP_MPI_RANK=$r DMTCP_MPI_NRANKS=3 DMTCP_MPI_CKPTDIR="$T/auto"
		eval "A$r=\$APID"
	done
	exec 7>&-
	check "auto-start: three racing clients share one coordinator" 'wait_until 8 has_clients 3'
	CPID=$(cmd --status | sed -n 's/^pid=//p'); remember "$CPID"
	check "auto-start: the daemon keeps none of the client's fds" '! ls -l /proc/$CPID/fd | grep -q "$T/held"'
	check "auto-start: losing the race prints nothing" '[ -z "$(cat "$T"/auto0.err "$T"/auto1.err "$T"/auto2.err)" ]'
	d=$(cmd --checkpoint)
	check "auto-start: checkpoints into DMTCP_MPI_CKPTDIR" '[ "$(dirname "$d")" = "$T/auto" ] && [ -f "$d/rank2.img" ]'
	stop "$A0" "$A1"
	sleep 0.5
	check "auto-start: coordinator stays while a client is left" 'kill -0 "$CPID"'
	stop "$A2"
	check "auto-start: coordinator exits after the last client" 'wait_until 5 gone "$CPID"'
	check "auto-start: its secret file is removed" '[ ! -e "$DMTCP_MPI_TMPDIR/coord-127.0.0.1-$PORT.secret" ]'
	# No coordinator can be started: one line, and the app goes on.
	rm "$TB/dmtcp_mpi_coordinator"
	app noauto
	check "no coordinator to start: one error line" 'wait_until 8 grep -q "cannot reach the coordinator (127.0.0.1:$PORT)" "$T/noauto.err"'
	check "no coordinator to start: the process goes on" 'kill -0 "$APID"'
	ln -sf "$T/bin/dmtcp_mpi_coordinator" "$TB/dmtcp_mpi_coordinator"
	stop "$APID"
}

# ------------------------------------------------ the MPI phases

# mpi_app NAME RANK NRANKS [ENV=VALUE...]: a client playing the MPI shim
# (fake_engine.c), logging its calls to $T/NAME.log; sets APID.
mpi_app() {
	name=$1; r=$2; n=$3; shift 3
	rm -f "$T/$name.log"
	app "$name" DMTCP_MPI_RANK="$r" DMTCP_MPI_NRANKS="$n" DMTCP_MPI_FAKE_MPI=1 DMTCP_MPI_FAKE_SIZE=1000 \
		DMTCP_MPI_FAKE_LOG="$T/$name.log" "$@"
}

# calls NAME: the fake shim's log on one line, ";" between calls.
calls() { tr '\n' ';' <"$T/$1.log"; }
rounds() { grep -c '^drain ' "$T/$1.log"; }
last_call() { tail -n 1 "$T/$1.log"; }
# The RESUME phase reaches the clients as the command gets its answer:
# wait for it before reading their logs.
resumed() { [ "$(last_call "$1")" = "resume" ]; }

test_mpi_phases() {
	start_coord mp --timeout 3
	# Sequence numbers of three communicators; -1 is SELF, local to a
	# rank.  Expected targets, by hand: gid 0 -> max(5, 7) = 7, gid 7 ->
	# 2 (rank 0 only), gid 9 -> 1 (rank 1 only); no target for -1.
	# Draining takes three rounds: rank 0 sent 3 messages, rank 1
	# receives one more each round.
	mpi_app m0 0 2 DMTCP_MPI_FAKE_SEQS=0:5,7:2,-1:9 DMTCP_MPI_FAKE_DRAIN=3:0; P0=$APID
	mpi_app m1 1 2 DMTCP_MPI_FAKE_SEQS=-1:4,9:1,0:7 DMTCP_MPI_FAKE_DRAIN=0:1,0:2,0:3; P1=$APID
	wait_until 5 has_clients 2
	d=$(cmd --checkpoint); rc=$?
	want="intent;targets 0:7 7:2 9:1;park;drain 1;drain 2;drain 3;resume;"
	check "mpi phases: checkpoint after a 3-round drain" '[ $rc -eq 0 ] && [ -f "$d/rank1.img" ]'
	wait_until 5 resumed m0
	wait_until 5 resumed m1
	check "mpi phases: rank 0 saw intent, per-gid max targets, park, 3 drain rounds, resume" '[ "$(calls m0)" = "$want" ]'
	check "mpi phases: rank 1 saw the same" '[ "$(calls m1)" = "$want" ]'
	check "mpi phases: coordinator log counts the rounds" 'grep -q "checkpoint 1 written: .* 3 drain rounds" "$DMTCP_MPI_TMPDIR/coord-127.0.0.1-$PORT.log"'
	cmd --status >"$T/mst"
	check "status: ranks connected, mpi, phase" 'grep -qx "ranks=2/2 connected" "$T/mst" && grep -qx "phase=idle" "$T/mst" && grep -q "^client rank=1 .*state=running restarts=0 mpi=none" "$T/mst"'
	good=$(readlink "$T/mp/latest")

	# A drain that never converges: rank 0 says it sent 5, rank 1 still
	# says it received 3 (its last scripted answer repeats).  Fails within --timeout, latest untouched, every
	# rank resumed, the job goes on.
	stop "$P0"
	wait_until 5 has_clients 1
	mpi_app m0 0 2 DMTCP_MPI_FAKE_DRAIN=5:0; P0=$APID
	wait_until 5 has_clients 2
	rm -f "$T/m1.log"
	t0=$(date +%s)
	cmd --checkpoint >/dev/null 2>"$T/nc.err"; rc=$?
	dt=$(( $(date +%s) - t0 ))
	check "endless drain: exit 72" '[ $rc -eq 72 ]'
	check "endless drain: fails after --timeout 3, not before, not much later" '[ $dt -ge 2 ] && [ $dt -le 6 ]'
	check "endless drain: the error says what is in flight" 'grep -q "checkpoint 2 failed (.*): messages still in flight after 3 s of draining (.* rounds; the ranks sent 5 and received 3)" "$T/nc.err"'
	check "endless drain: latest untouched" '[ "$(readlink "$T/mp/latest")" = "$good" ]'
	check "endless drain: no directory left of checkpoint 2" '[ -z "$(ls -d "$T"/mp/ckpt_2_* 2>/dev/null)" ]'
	check "endless drain: both ranks resumed" '[ "$(last_call m0)" = resume ] && [ "$(last_call m1)" = resume ]'
	check "endless drain: rounds repeat, with pauses (not a busy loop)" '[ "$(rounds m1)" -ge 5 ] && [ "$(rounds m1)" -le 200 ]'
	check "endless drain: the job goes on" 'kill -0 "$P0" && kill -0 "$P1" && cmd --status | grep -qx "state=idle"'
	check "status: the failure is reported" 'cmd --status | grep -q "^last_failure=checkpoint 2: messages still in flight"'

	# PARK fails on rank 1: the checkpoint fails naming it, and both
	# ranks (rank 1 too, half-parked) are resumed.
	stop "$P0" "$P1"
	wait_until 5 has_clients 0
	mpi_app m0 0 2; P0=$APID
	mpi_app m1 1 2 DMTCP_MPI_FAKE_FAIL=park; P1=$APID
	wait_until 5 has_clients 2
	cmd --checkpoint >/dev/null 2>"$T/pk.err"; rc=$?
	check "park failure: exit 72 naming rank 1" '[ $rc -eq 72 ] && grep -q "rank 1 pid $P1 .*: the MPI shim could not park the application" "$T/pk.err"'
	check "park failure: both ranks resumed" '[ "$(last_call m0)" = resume ] && [ "$(last_call m1)" = resume ]'
	check "park failure: latest untouched" '[ "$(readlink "$T/mp/latest")" = "$good" ]'

	# reach_targets is told how long it may take: the phase's timeout.
	stop "$P1"
	wait_until 5 has_clients 1
	mpi_app m1 1 2 DMTCP_MPI_FAKE_FAIL=targets-late; P1=$APID
	wait_until 5 has_clients 2
	t0=$(date +%s)
	cmd --checkpoint >/dev/null 2>"$T/tl.err"; rc=$?
	dt=$(( $(date +%s) - t0 ))
	left=$(sed -n 's/^left //p' "$T/m1.log")
	check "slow targets: reach_targets was given the phase timeout" '[ -n "$left" ] && [ "$left" -gt 2000 ] && [ "$left" -le 3000 ]'
	check "slow targets: fails after about 3 s naming rank 1" '[ $rc -eq 72 ] && [ $dt -ge 2 ] && [ $dt -le 6 ] && grep -q "rank 1 .*target" "$T/tl.err"'
	check "slow targets: both resumed, neither parked" '[ "$(tail -n 3 "$T/m0.log" | tr "\n" ";")" = "intent;targets;resume;" ] && [ "$(last_call m1)" = resume ] && ! grep -q park "$T/m1.log"'
	stop "$P0" "$P1"
	stop_coord
}

# The coordinator dies while the ranks are parked and draining: each
# rank resumes on its own instead of staying stopped.
test_mpi_coordinator_lost() {
	start_coord ml --timeout 60
	mpi_app l0 0 2 DMTCP_MPI_FAKE_DRAIN=1:0; P0=$APID
	mpi_app l1 1 2; P1=$APID
	wait_until 5 has_clients 2
	cmd --checkpoint >/dev/null 2>&1 &
	CMDPID=$!
	check "lost coordinator: status shows the drain rounds" 'wait_until 5 sh -c "\"$CMD\" --coord-port $PORT --status | grep -q \"^drain_round=[3-9]\""'
	kill -KILL "$CPID"
	check "lost coordinator: both ranks resume" 'wait_until 5 sh -c "[ \"\$(tail -n 1 $T/l0.log)\" = resume ] && [ \"\$(tail -n 1 $T/l1.log)\" = resume ]"'
	check "lost coordinator: and go on" 'kill -0 "$P0" && kill -0 "$P1"'
	check "lost coordinator: the command fails" 'wait "$CMDPID"; [ $? -eq 73 ]'
	check "lost coordinator: nothing became latest" '[ ! -e "$T/ml/latest" ]'
	stop "$P0" "$P1"
}

# --checkpoint-and-exit: the images are written, then the job ends
# without running past them (no resume), and the command says where.
test_checkpoint_and_exit() {
	start_coord ce
	mpi_app e0 0 2; P0=$APID
	mpi_app e1 1 2; P1=$APID
	wait_until 5 has_clients 2
	d=$(cmd --checkpoint-and-exit); rc=$?
	check "checkpoint-and-exit: exit 0, prints the checkpoint" '[ $rc -eq 0 ] && [ -f "$d/manifest" ] && [ "$(readlink "$T/ce/latest")" = "$(basename "$d")" ]'
	check "checkpoint-and-exit: every rank has exited when it returns" 'gone "$P0" && gone "$P1" && has_clients 0'
	check "checkpoint-and-exit: no rank resumed after its image" '[ "$(last_call e0)" = "drain 1" ] && [ "$(last_call e1)" = "drain 1" ]'
	# A failed one leaves the job running.
	mpi_app e0 0 1 DMTCP_MPI_FAKE_CKPT=fail; P0=$APID
	wait_until 5 has_clients 1
	cmd --checkpoint-and-exit >/dev/null 2>"$T/cef.err"; rc=$?
	check "checkpoint-and-exit, failing: exit 72, the job goes on" '[ $rc -eq 72 ] && kill -0 "$P0" && [ "$(last_call e0)" = resume ]'
	stop "$P0"
	stop_coord
}

# A restored process rebuilds its MPI side with restart(), not resume().
test_mpi_restart_op() {
	start_coord mr
	mpi_app rs0 0 1 DMTCP_MPI_FAKE_CKPT=restart-once; P0=$APID
	wait_until 5 has_clients 1
	cmd --checkpoint >/dev/null 2>&1
	check "restarted rank: restart() called, not resume()" 'wait_until 5 sh -c "[ \"\$(tail -n 1 $T/rs0.log)\" = restart ]" && ! grep -q resume "$T/rs0.log"'
	stop "$P0"
	stop_coord
}

# lines_of PID FILE: the counts that process PID wrote to FILE.
lines_of() { sed -n "s/^$1 //p" "$2"; }

# consecutive: the numbers on stdin go up by one each.
consecutive() { awk 'NR > 1 && $1 != prev + 1 { bad = 1 } { prev = $1 } END { exit bad }'; }

# The real engine: checkpoint a counting process, kill it, restart it with
# the restart.sh the coordinator wrote; the restored process must go on
# counting from its image, register again, and be checkpointable again,
# twice over.
test_real_engine() {
	CK_SO=$BLD/lib/libdmtcp_ckpt.so
	if [ ! -f "$CK_SO" ] || [ ! -x "$BLD/bin/dmtcp_mpi_restart" ]; then
		fail "real engine: not built ($CK_SO)"
		return
	fi
	COORD_BIN=$BLD/bin/dmtcp_mpi_coordinator
	start_coord real
	COORD_BIN=
	out=$T/count
	DMTCP_MPI_COORD_PORT=$PORT LD_PRELOAD=$CK_SO "$TB/counter" "$out" 600 \
		2>"$T/real.err" &
	P0=$!; remember "$P0"
	wait_until 5 has_clients 1
	wait_until 5 test -s "$out"
	d1=$(cmd --checkpoint); rc=$?
	check "real engine: checkpoint" '[ $rc -eq 0 ] && [ -f "$d1/rank0.img" ]'
	check "real engine: manifest checksum of the real image" '[ "$(key "$d1" rank.0.checksum)" = "crc32c:$(crc32c "$d1/rank0.img")" ]'
	stop "$P0"
	last=$(lines_of "$P0" "$out" | tail -n 1)
	# The restored process takes the DMTCP_MPI_* variables of the
	# restart command: that is how it finds this coordinator.
	DMTCP_MPI_COORD_PORT=$PORT "$d1/restart.sh" 2>"$T/real1.err" &
	P1=$!; remember "$P1"
	check "real engine: the restored process registers again" 'wait_until 10 sh -c "\"$CMD\" --coord-port $PORT --status | grep -q \"pid=$P1 .*restarts=1\""'
	wait_until 5 sh -c "[ \$(grep -c '^$P1 ' '$out') -ge 3 ]"
	first=$(lines_of "$P1" "$out" | head -n 1)
	check "real engine: counting goes on from the image" '[ -n "$first" ] && [ "$first" -ge 2 ] && [ "$first" -le $((last + 1)) ]'
	check "real engine: and without gaps" 'lines_of "$P1" "$out" | consecutive'
	d2=$(cmd --checkpoint); rc=$?
	check "real engine: restored process checkpointed again" '[ $rc -eq 0 ] && [ "$(readlink "$T/real/latest")" = "$(basename "$d2")" ]'
	out2=$(cmd --kill); rc=$?
	check "real engine: --kill ends the restored process" '[ $rc -eq 0 ] && wait_until 5 gone "$P1"'
	DMTCP_MPI_COORD_PORT=$PORT "$T/real/latest/restart.sh" 2>"$T/real2.err" &
	P2=$!; remember "$P2"
	check "real engine: second generation registers" 'wait_until 10 sh -c "\"$CMD\" --coord-port $PORT --status | grep -q \"pid=$P2 .*restarts=2\""'
	check "real engine: no error output" '[ -z "$(cat "$T/real.err" "$T/real1.err" "$T/real2.err")" ]'
	cmd --kill >/dev/null
	stop "$P2"; stop_coord
}

test_no_coordinator
test_secret
test_status_and_checkpoint
test_single_rank_restart_script
test_timeout
test_interval
test_kill
test_restart_reconnect
test_mpi_phases
test_mpi_coordinator_lost
test_checkpoint_and_exit
test_mpi_restart_op
test_autostart
test_real_engine
rm -f "$TB/dmtcp_mpi_coordinator"

echo "$NPASS passed, $NFAIL failed"
[ $NFAIL -eq 0 ]
