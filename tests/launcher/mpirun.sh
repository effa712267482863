#!/bin/sh
# mpirun.sh - the launcher under the real mpirun of each MPI, with a fake
# proxy: it detects the MPI and the rank, the proxy keeps what mpirun gave
# the rank (PMI_FD) with stdin from /dev/null, the app keeps only stdio and
# the channel, placement follows mpirun's binding, and each rank is a
# session of its own.
. "$(dirname "$0")/lib.sh"

export DMTCP_MPI_PROXY=$T/proxy DMTCP_MPI_VERBOSE=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# Both record: the rank from mpirun's variables, the rank in the channel
# header, open fds, stdin, CPU list and same_cpu, and what the launcher
# exported about the rank and the channel.
record='r=${PMI_RANK:-$OMPI_COMM_WORLD_RANK}
{ echo "rank $r $($PEEK rank)"
  echo "env $DMTCP_MPI_RANK $DMTCP_MPI_NRANKS $DMTCP_MPI_MPI $DMTCP_MPI_CHAN_FD"
  echo "fds $($PEEK fds)"
  echo "stdin $(readlink /proc/$$/fd/0)"
  echo "pmifd ${PMI_FD:+$( [ -e /proc/$$/fd/$PMI_FD ] && echo open || echo closed)}"
  echo "cpus $(sed -n "s/^Cpus_allowed_list:[[:space:]]*//p" /proc/$$/status) $($PEEK same_cpu)"
  echo "session $(ps -o sid= -p $$ | tr -d " ") $PPID"
} >$OUT/$WHO.$r'
fake proxy "WHO=proxy; $record; exit 0"
fake app "WHO=app; $record; exec \$PEEK finalize"

field() { sed -n "s/^$2 //p" "$T/$1"; }

for mpi in mpich openmpi; do
	if ! command -v "mpirun.$mpi" >/dev/null; then
		echo "SKIP: mpirun: mpirun.$mpi not installed"
		continue
	fi
	rm -f "$T"/app.* "$T"/proxy.*
	timeout -k 5 60 "mpirun.$mpi" -n 2 "$DM" "$T/app" \
		>"$T/$mpi.out" 2>"$T/$mpi.err"
	rc=$?
	check "$mpi: mpirun -n 2 dmtcp_mpi exits 0" [ $rc -eq 0 ]
	marker=PMI_RANK
	[ $mpi = openmpi ] && marker=OMPI_COMM_WORLD_RANK
	for r in 0 1; do
		check "$mpi rank $r: detected $mpi from $marker" grep -q \
			"^dmtcp_mpi: rank $r (local $r of 2): $mpi from $marker; proxy $T/proxy" \
			"$T/$mpi.err"
		check "$mpi rank $r: channel header carries the rank" \
			[ "$(field app.$r rank)" = "$r $r" ]
		check "$mpi rank $r: proxy stdin is /dev/null" \
			[ "$(field proxy.$r stdin)" = /dev/null ]
		# mpirun forwards its stdin to rank 0 only.
		[ $r = 0 ] && check "$mpi rank 0: app keeps stdin" \
			[ "$(field app.0 stdin)" != /dev/null ]
		check "$mpi rank $r: app has only stdio and the channel at fd 1000" \
			[ "$(field app.$r fds)" = "0 1 2 1000" ]
		check "$mpi rank $r: app and proxy told rank, size, MPI, channel fd" \
			[ "$(field app.$r env)" = "$r 2 $mpi 1000" -a \
			  "$(field proxy.$r env)" = "$r 2 $mpi 1000" ]
		if [ $mpi = mpich ]; then
			check "$mpi rank $r: proxy keeps PMI_FD" \
				[ "$(field proxy.$r pmifd)" = open ]
			check "$mpi rank $r: app does not" \
				[ "$(field app.$r pmifd)" = closed ]
		fi
		# One scheduler share (autogroup) per rank under either MPI:
		# Hydra makes each rank a session, our launcher does under
		# Open MPI (launcher/session.c).
		set -- $(field app.$r session)
		check "$mpi rank $r: app in its launcher's own session ($1 / $2)" \
			[ -n "$1" -a "$1" = "$2" ]
		# Whatever mpirun did with the binding, same_cpu must be 1
		# exactly when the two share a single CPU.
		set -- $(field app.$r cpus) $(field proxy.$r cpus)
		shared=0
		[ "$1" = "$3" ] && [ "${1#*[-,]}" = "$1" ] && shared=1
		check "$mpi rank $r: same_cpu ($2) matches placement ($1 / $3)" \
			[ "$2" = "$shared" -a "$4" = "$shared" ]
	done
done
check "nothing left behind" no_leftovers

# One rank's app is killed: its launcher ends the rank with 128+9 (under
# MPICH, by dying of SIGKILL itself, since Hydra ends a job on a death by
# signal or an MPI_Abort, not on an exit status) and mpirun reports it;
# nothing hangs and nothing stays.
fake proxy '$PEEK wait-state 1 100; exit 3'
fake app 'r=${PMI_RANK:-$OMPI_COMM_WORLD_RANK}
[ "$r" = 1 ] && kill -KILL $$
exec $SLEEP 4'
unset DMTCP_MPI_VERBOSE
for mpi in mpich openmpi; do
	command -v "mpirun.$mpi" >/dev/null || continue
	t0=$(date +%s)
	timeout -k 5 60 "mpirun.$mpi" -n 2 "$DM" "$T/app" \
		>"$T/$mpi.out" 2>"$T/$mpi.err"
	rc=$?
	elapsed=$(( $(date +%s) - t0 ))
	# Hydra does not end a job on an exit status: the launcher of a
	# rank whose app died before any MPI call dies of the same signal,
	# and mpiexec reports the signal's number.
	want=137
	[ $mpi = mpich ] && want=9
	check "$mpi: a killed rank fails the job with $want (exit $rc)" [ $rc -eq $want ]
	check "$mpi: the job ends within 15 s (took $elapsed)" [ $elapsed -le 15 ]
	check "$mpi: the launcher names the signal" grep -q \
		"dmtcp_mpi: error: rank 1: application killed by signal 9 (SIGKILL)" \
		"$T/$mpi.err"
	check "$mpi: nothing left behind after the failure" no_leftovers
done

exit $NFAIL
