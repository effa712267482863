#!/bin/sh
# demo.sh - the main job end to end (make demo):
#   1. compile scripts/demo/ring.c once with dmtcp_mpicc, and natively;
#   2. run it natively and through dmtcp_mpi under MPICH and Open MPI and
#      compare the outputs;
#   3. run it under MPICH through dmtcp_mpi, checkpoint it with
#      dmtcp_mpi_command, kill it, restart it under Open MPI from
#      ckpt/latest, and compare the final output with an uninterrupted run.
# Every step prints one line; the exit status is non-zero if any failed.
set -u

B=${B:-build}
BIN=$B/bin
W=$B/demo
PORT=${DMTCP_MPI_DEMO_PORT:-17900}
LAPS=${DMTCP_MPI_DEMO_LAPS:-40000}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
failed=0

step() { # step NAME STATUS
	if [ "$2" -eq 0 ]; then echo "demo: ok   $1"; else echo "demo: FAIL $1"; failed=1; fi
}

rm -rf "$W" && mkdir -p "$W" || exit 1
"$BIN/dmtcp_mpicc" -O2 scripts/demo/ring.c -o "$W/ring"
step "compile ring.c once with dmtcp_mpicc" $?

for mpi in mpich openmpi; do
	"mpicc.$mpi" -O2 scripts/demo/ring.c -o "$W/ring-$mpi" 2>/dev/null
	timeout 120 "mpirun.$mpi" -n 2 "$W/ring-$mpi" "$LAPS" > "$W/native-$mpi.out"
	step "native run under $mpi" $?
	timeout 120 "mpirun.$mpi" -n 2 "$BIN/dmtcp_mpi" --coord-port "$PORT" \
		"$W/ring" "$LAPS" > "$W/shim-$mpi.out"
	st=$?
	[ $st -eq 0 ] && cmp -s "$W/native-$mpi.out" "$W/shim-$mpi.out"
	step "same binary through dmtcp_mpi under $mpi, output identical to native" $?
done

# Checkpoint under MPICH while the job runs (a pause every 1000 laps
# keeps it alive long enough), kill it, restart under Open MPI.
timeout 300 mpirun.mpich -n 2 "$BIN/dmtcp_mpi" --coord-port "$PORT" \
	--ckptdir "$W/ckpt" "$W/ring" "$LAPS" 100000 > "$W/before.out" 2>&1 &
job=$!
sleep 3
timeout 60 "$BIN/dmtcp_mpi_command" --coord-port "$PORT" --checkpoint > "$W/ckpt.txt"
step "checkpoint of the running job under mpich: $(cat "$W/ckpt.txt")" $?
kill "$job" 2>/dev/null
wait "$job" 2>/dev/null
timeout 300 mpirun.openmpi -n 2 "$BIN/dmtcp_mpi_restart" "$W/ckpt/latest" \
	> "$W/after.out" 2>"$W/after.err"
step "restart from ckpt/latest under openmpi" $?
tail -n 2 "$W/native-mpich.out" > "$W/want"
tail -n 2 "$W/after.out" > "$W/got"
cmp -s "$W/want" "$W/got"
step "restarted job ends as an uninterrupted run: $(tr "\n" " " < "$W/got")" $?

[ $failed -eq 0 ] && echo "demo: all steps passed" || echo "demo: some steps failed (outputs in $W)"
exit $failed
