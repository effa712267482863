#!/bin/sh
# restart_f90lock.sh - a checkpoint with rank 1 inside
# MPI_Type_create_f90_real, holding the shim's f90 lock, restarted under
# the other MPI; after the restart rank 1 asks for every type again,
# which takes the lock again.
#
#   sh tests/ckpt-mpi/restart_f90lock.sh [BUILD_DIR]
#
# restart_f90lock.c says how the moment is made.  The lock was a glibc
# recursive mutex, which knows its owner by kernel thread id; a restart
# gives every thread a new one, so the restored thread could neither
# release the lock nor take it again, and the restart hung at its next
# f90 call (ckpt_all type_f90, Open MPI -> MPICH).  One job under MPICH
# and one under Open MPI, one checkpoint each, each restarted under the
# other MPI within 30 s.  About 20 s.
set -u

NAME=restart_f90lock
B=${1:-${B:-build}}
TMO=60
. "$(dirname -- "$0")/restart_env.sh"

timeout "$TMO" mpirun.mpich -n 2 "$T/app-native" "$T/ref" 2>"$T/ref.err" | sort >"$T/ref.out"
check "native reference run" [ "$(grep -c ': ok$' "$T/ref.out")" -eq 1 ]

start_coord 20

for mpi in mpich openmpi; do
	run=$T/run.$mpi
	mkdir -p "$run"
	timeout "$TMO" "mpirun.$mpi" -n 2 "$B/bin/dmtcp_mpi" "$T/app" "$run" \
		>"$T/$mpi.out" 2>"$T/$mpi.err" &
	job=$!
	wait_file "$run/started" 60
	ck=$(cmd --checkpoint 2>>"$T/cmd.err")
	check "$mpi: checkpoint while rank 1 makes f90 types" [ -n "$ck" ]
	wait $job
	rc=$?
	check "$mpi: the checkpointed job ends normally (exit $rc)" [ $rc -eq 0 ]
	check "... its output is the native run's" [ "$(sort "$T/$mpi.out")" = "$(cat "$T/ref.out")" ]
	[ -n "$ck" ] || continue
	to=$(other_mpi "$mpi")
	out=$T/restart.$mpi
	timeout 30 "mpirun.$to" -n 2 "$B/bin/dmtcp_mpi_restart" "$ck" >"$out.out" 2>"$out.err"
	rc=$?
	check "$mpi checkpoint restarted under $to (exit $rc; 124: hung)" [ $rc -eq 0 ]
	check "... prints the native run's lines" [ "$(sort "$out.out")" = "$(cat "$T/ref.out")" ]
	if grep -q '^dmtcp_mpi: error' "$out.err"; then
		check "... prints no errors" false
		sed 's/^/    | /' "$out.err" | head -10
	fi
done
echo "$NAME: $NFAIL failed"
exit "$NFAIL"
