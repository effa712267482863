#!/bin/sh
# restart.sh - restart mode: dmtcp_mpi_restart DIR (and dmtcp_mpi
# --restart DIR) under each mpirun and as a singleton.
#
# Bad checkpoints must be refused before anything starts, with one error
# line and a distinct exit status: another number of ranks (76, naming
# both numbers), a missing or short rank image (71, naming the rank and
# the file), a manifest that is missing or cut short (71).  The fake
# proxy of these cases records that it ran, so "before anything starts"
# is checked too.  A rank image with the right size but other bytes is
# found by its own rank only, while the others may be restoring already:
# the job must still end promptly (under MPICH too, whose mpirun does
# not end a job on an exit status), with the line naming rank and file.
#
# The real proxies of a restart start MPI while the application is still
# being restored (a fake restore that waits for them, then fails: the job
# must still end at once, with no error of the proxies).
#
# Then a real round trip without MPI: two ranks of a counting program
# (dmtcp_mpi --no-mpi under mpirun.mpich, real engine, own coordinator)
# are checkpointed and killed, and mpirun.openmpi -n 2 dmtcp_mpi_restart
# on the checkpoint brings each rank back from its own image: every
# restored process counts on from its rank's last count, registers with
# the coordinator of the restart (not the old one: it starts its own on
# the port the restart command names) as the same rank, and checkpoints
# into the same directory with the numbering continued.
. "$(dirname "$0")/lib.sh"

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
unset DMTCP_MPI_VERBOSE DMTCP_MPI_CKPTDIR DMTCP_MPI_COORD_HOST \
	DMTCP_MPI_COORD_PORT DMTCP_MPI_SECRET
export DMTCP_MPI_TMPDIR=$T/tmp

# A private prefix: the launcher finds the restart tool, the engine and
# the coordinator next to itself, and every process carries MARK.
P=$T/pfx
mkdir -p "$P/bin" "$P/lib" "$P/libexec/dmtcp_mpi"
for f in dmtcp_mpi dmtcp_mpi_restart dmtcp_mpi_coordinator dmtcp_mpi_command; do
	cp "$BLD/bin/$f" "$P/bin/" 2>/dev/null
done
cp "$BLD/lib/libdmtcp_ckpt.so" "$P/lib/" 2>/dev/null
if [ ! -x "$P/bin/dmtcp_mpi_restart" ]; then
	fail "not built: $BLD/bin/dmtcp_mpi_restart"
	exit 1
fi
RS=$P/bin/dmtcp_mpi_restart
fake proxy 'touch $OUT/proxy-ran; exec $SLEEP 30'
export DMTCP_MPI_PROXY=$T/proxy

# ckpt NAME NRANKS: a checkpoint directory $T/NAME whose manifest matches
# its images (bytes that differ per rank), as the coordinator writes it.
ckpt() {
	d=$T/$1
	mkdir -p "$d"
	{
		echo "# dmtcp_mpi checkpoint manifest"
		echo "format=1"
		echo "nranks=$2"
		echo "mpi=mpich"
		r=0
		while [ $r -lt "$2" ]; do
			head -c $((1000 + r)) /dev/urandom >"$d/rank$r.img"
			echo "rank.$r.image=rank$r.img"
			echo "rank.$r.size=$((1000 + r))"
			echo "rank.$r.checksum=crc32c:$(crc32c "$d/rank$r.img")"
			r=$((r + 1))
		done
		echo "status=complete"
	} >"$d/manifest"
}

# crc32c FILE, computed here independently of the code under test.
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

# refused NAME WANT_RC LINE CMD...: CMD exits WANT_RC with exactly the
# error LINE on stderr, and no proxy was started.
refused() {
	what=$1 want=$2 line=$3; shift 3
	rm -f "$T/proxy-ran"
	timeout -k 5 60 "$@" >"$T/r.out" 2>"$T/r.all"
	rc=$?
	# Open MPI adds its own banner about the failed rank: not ours.
	grep '^dmtcp_mpi' "$T/r.all" >"$T/r.err"
	check "$what: exit $want (got $rc)" [ $rc -eq "$want" ]
	check "$what: one error line" one_line "$T/r.err"
	check "$what: the line says it" [ "$(cat "$T/r.err")" = "dmtcp_mpi: error: $line" ]
	check "$what: nothing started" [ ! -e "$T/proxy-ran" ]
	[ "$(cat "$T/r.err")" = "dmtcp_mpi: error: $line" ] || sed 's/^/    | /' "$T/r.err"
}

# ended_promptly NAME LINE CMD...: CMD fails within 20 s, its only
# message of ours is LINE, and nothing is left running.  Rank 0 gets as
# far as "restoring" (a fake dmtcp_mpi_restart in $P2 that waits).
ended_promptly() {
	what=$1 line=$2; shift 2
	t0=$(date +%s)
	timeout -k 5 60 "$@" >"$T/r.out" 2>"$T/r.all"
	rc=$?
	el=$(( $(date +%s) - t0 ))
	grep '^dmtcp_mpi' "$T/r.all" >"$T/r.err"
	check "$what: the job fails (exit $rc)" [ $rc -ne 0 -a $rc -ne 124 ]
	check "$what: within 20 s (took $el)" [ $el -le 20 ]
	check "$what: the line says it" [ "$(cat "$T/r.err")" = "dmtcp_mpi: error: $line" ]
	[ "$(cat "$T/r.err")" = "dmtcp_mpi: error: $line" ] || sed 's/^/    | /' "$T/r.all"
	check "$what: nothing left behind" no_leftovers
}
P2=$T/pfx2
mkdir -p "$P2/bin"
cp "$BLD/bin/dmtcp_mpi" "$P2/bin/"
printf '#!/bin/sh
exec %s 30
' "$T/sleep" >"$P2/bin/dmtcp_mpi_restart"
chmod +x "$P2/bin/dmtcp_mpi_restart"

ckpt two 2
D=$T/two
refused "singleton, 2-rank checkpoint" 76 \
	"cannot restart with 1 rank ($D): the checkpoint has 2; launch it with -n 2" \
	"$RS" "$D"
refused "dmtcp_mpi --restart, 2-rank checkpoint" 76 \
	"cannot restart with 1 rank ($D): the checkpoint has 2; launch it with -n 2" \
	"$P/bin/dmtcp_mpi" --restart "$D"
for mpi in mpich openmpi; do
	if ! command -v "mpirun.$mpi" >/dev/null; then
		echo "SKIP: restart: mpirun.$mpi not installed"
		continue
	fi
	run="mpirun.$mpi"
	refused "$mpi -n 3, 2-rank checkpoint" 76 \
		"cannot restart with 3 ranks ($D): the checkpoint has 2; launch it with -n 2" \
		$run -n 3 "$RS" "$D"
	mv "$D/rank1.img" "$T/saved.img"
	refused "$mpi: rank 1 image missing" 71 \
		"cannot restart rank 1 ($D/rank1.img): No such file or directory" \
		$run -n 2 "$RS" "$D"
	head -c 1000 "$T/saved.img" >"$D/rank1.img"
	refused "$mpi: rank 1 image cut short" 71 \
		"corrupt checkpoint image of rank 1 ($D/rank1.img): 1000 bytes, the manifest says 1001" \
		$run -n 2 "$RS" "$D"
	cp "$T/saved.img" "$D/rank1.img"
	printf 'x' | dd of="$D/rank1.img" bs=1 seek=500 conv=notrunc 2>/dev/null
	ended_promptly "$mpi: rank 1 image with a changed byte" \
		"corrupt checkpoint image of rank 1 ($D/rank1.img): checksum crc32c:$(crc32c "$D/rank1.img"), the manifest says crc32c:$(crc32c "$T/saved.img")" \
		$run -n 2 "$P2/bin/dmtcp_mpi" --restart "$D"
	mv "$T/saved.img" "$D/rank1.img"
	grep -v '^status=' "$D/manifest" >"$T/m" && mv "$D/manifest" "$T/manifest.saved"
	mv "$T/m" "$D/manifest"
	refused "$mpi: manifest cut short" 71 \
		"cannot restart ($D): the checkpoint is incomplete (its manifest does not end with status=complete)" \
		$run -n 2 "$RS" "$D"
	rm "$D/manifest"
	refused "$mpi: no manifest" 71 \
		"cannot restart ($D/manifest): No such file or directory" \
		$run -n 2 "$RS" "$D"
	mv "$T/manifest.saved" "$D/manifest"
done
check "nothing left behind by the refusals" no_leftovers

# ------------------------------------------------ MPI during the restore
# A restart's proxies start MPI at once, while the images are restored,
# not when the restored application asks.  The application here is a
# fake restore ($P3) that never calls MPI: it waits until both real
# proxies have said they started MPI, then fails as a restore that went
# wrong would (exit 3).  Without the early start the lines never come.
# The proxies must leave the ending to the launchers (no MPI_Abort for an
# application that never asked for MPI), and the job ends at once.
P3=$T/pfx3
mkdir -p "$P3/bin"
cp "$BLD/bin/dmtcp_mpi" "$P3/bin/"
printf '#!/bin/sh
i=0
while [ "$(grep -c "proxy started MPI in .* during the restore" %s)" -lt 2 ] &&
      [ $i -lt 200 ]; do
	%s 0.1
	i=$((i + 1))
done
exit 3
' "$T/early.all" "$T/sleep" >"$P3/bin/dmtcp_mpi_restart"
chmod +x "$P3/bin/dmtcp_mpi_restart"
for mpi in mpich openmpi; do
	command -v "mpirun.$mpi" >/dev/null || continue
	[ -x "$BLD/libexec/dmtcp_mpi/proxy-$mpi" ] || continue
	cp "$BLD/libexec/dmtcp_mpi/proxy-$mpi" "$T/proxy-$mpi"
	t0=$(date +%s)
	DMTCP_MPI_PROXY=$T/proxy-$mpi DMTCP_MPI_VERBOSE=1 timeout -k 5 60 \
		"mpirun.$mpi" -n 2 "$P3/bin/dmtcp_mpi" --restart "$D" >"$T/r.out" 2>"$T/early.all"
	rc=$?
	el=$(( $(date +%s) - t0 ))
	check "$mpi restart: both proxies started MPI before the application asked" \
		[ "$(grep -c "^dmtcp_mpi: rank [01]: proxy started MPI in .* during the restore" \
			"$T/early.all")" -eq 2 ]
	check "$mpi restart: a failed restore still fails the job (exit $rc)" \
		[ $rc -ne 0 -a $rc -ne 124 ]
	check "$mpi restart: ... within 20 s (took $el)" [ $el -le 20 ]
	check "$mpi restart: ... with no error of a proxy" \
		sh -c "! grep -q '^dmtcp_mpi: error' '$T/early.all'"
	grep '^dmtcp_mpi: error' "$T/early.all" | sed 's/^/    | /'
	check "$mpi restart: ... and nothing left behind" no_leftovers
done

# ------------------------------------------------ a real round trip
unset DMTCP_MPI_PROXY
if [ ! -f "$P/lib/libdmtcp_ckpt.so" ] || [ ! -x "$P/bin/dmtcp_mpi_coordinator" ] ||
   ! command -v mpirun.mpich >/dev/null || ! command -v mpirun.openmpi >/dev/null; then
	echo "SKIP: restart: engine, coordinator or an mpirun missing"
	exit $NFAIL
fi
cat >"$T/rcount.c" <<'EOF'
/* rcount FILE TICKS: "<pid> <rank> <count>" every 50 ms; the rank is read
 * once at start, so a restored process prints the rank of its image. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	const char *r = getenv("DMTCP_MPI_RANK");
	int rank = r ? atoi(r) : -1;
	long ticks = atol(argv[2]);
	(void)argc;
	for (long count = 1; count <= ticks; count++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT, 0644);
		if (fd < 0 || dprintf(fd, "%d %d %ld\n", (int)getpid(), rank, count) < 0)
			return 1;
		close(fd);
	}
	return 0;
}
EOF
${CC:-cc} -O1 -o "$T/rcount" "$T/rcount.c" || { fail "cannot build rcount"; exit 1; }

# A coordinator of our own on a free port, for the first job; sets PORT.
timeout 20 "$P/bin/dmtcp_mpi_coordinator" --daemon --exit-on-last \
	--port 0 --port-file "$T/first.port" --ckptdir "$T/ck" --timeout 20
PORT=$(cat "$T/first.port")
command_() { timeout 60 "$P/bin/dmtcp_mpi_command" --coord-port "$PORT" "$@"; }
clients() { command_ --status 2>/dev/null | grep '^client '; }
nclients() { [ "$(clients | wc -l)" = "$1" ]; }
wait_for() {
	n=$(($1 * 10)); shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}
OUTF=$T/counts
timeout -k 5 120 mpirun.mpich -n 2 "$P/bin/dmtcp_mpi" --no-mpi --ckptdir "$T/ck" \
	--coord-port "$PORT" "$T/rcount" "$OUTF" 1200 >/dev/null 2>"$T/run1.err" &
JOB=$!
check "no-mpi job: both ranks register" wait_for 10 nclients 2
wait_for 5 sh -c "[ \$(wc -l <'$OUTF') -ge 6 ]"
d=$(command_ --checkpoint); rc=$?
check "no-mpi job: checkpoint of 2 ranks" [ $rc -eq 0 -a -f "$d/rank1.img" ]
check "no-mpi job: manifest says nranks=2 mpi=none" \
	sh -c "grep -qx nranks=2 '$d/manifest' && grep -qx mpi=none '$d/manifest'"
check "no-mpi job: restart.sh runs mpirun -n 2 dmtcp_mpi_restart" \
	grep -q "mpirun.* -n 2 .*/dmtcp_mpi_restart" "$d/restart.sh"
kill -KILL $JOB 2>/dev/null
wait $JOB 2>/dev/null
for p in $(pgrep -f "$T/rcount"); do kill -KILL "$p"; done
sleep 0.3
# last count of each rank before the kill
last0=$(awk '$2 == 0 { c = $3 } END { print c }' "$OUTF")
last1=$(awk '$2 == 1 { c = $3 } END { print c }' "$OUTF")
old=$(awk '{ print $1 }' "$OUTF" | sort -u | tr '\n' ' ')

# No coordinator on the restart's port: the restored ranks start one.
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DMTCP_MPI_COORD_PORT=$PORT timeout -k 5 120 mpirun.openmpi -n 2 "$RS" "$T/ck/latest" \
	>/dev/null 2>"$T/run2.err" &
JOB=$!
check "restart under Open MPI: both ranks register with the new coordinator" \
	wait_for 15 nclients 2
sleep 1
clients >"$T/clients"
for r in 0 1; do
	pid=$(sed -n "s/^client rank=$r .* pid=\([0-9]*\) .*/\1/p" "$T/clients")
	check "restart: rank $r restored as a new process ($pid), restarts=1" \
		sh -c "[ -n '$pid' ] && ! echo '$old' | grep -qw '$pid' && grep -q '^client rank=$r .*restarts=1' '$T/clients'"
	mine=$(awk -v p="$pid" '$1 == p { print $2 }' "$OUTF" | sort -u)
	check "restart: rank $r's process runs rank $r's image" [ "$mine" = "$r" ]
	first=$(awk -v p="$pid" '$1 == p { print $3; exit }' "$OUTF")
	eval last=\$last$r
	check "restart: rank $r counts on from its image ($first after $last)" \
		sh -c "[ -n '$first' ] && [ '$first' -ge 2 ] && [ '$first' -le $((last + 1)) ]"
done
d2=$(command_ --checkpoint); rc=$?
check "restarted job: checkpoints again, next to the first" \
	[ $rc -eq 0 -a "$(dirname "$d2")" = "$T/ck" ]
check "restarted job: numbered on" sh -c "basename '$d2' | grep -q '^ckpt_2_'"
command_ --kill >/dev/null
wait $JOB 2>/dev/null
check "restart: nothing left behind" wait_for 10 no_leftovers
# --kill ends the ranks by SIGTERM, which their launchers report.
check "restart: no error output but the --kill" \
	sh -c "! grep -v 'application killed by signal 15' '$T/run1.err' '$T/run2.err' | grep -q '^dmtcp_mpi'"

exit $NFAIL
