#!/bin/sh
# e2e.sh - the launcher with the real proxies and shim, under both mpiruns:
# a normal run, an app that dies on one rank, a proxy killed on one rank.
# Each failure must end the whole job within seconds and leave nothing.
# And MPI_Abort in a 1-rank job: the job's status is its error code, as
# natively (MPICH's Hydra reports the launcher's status there).
# Skipped when the proxies or the shim are not built.
. "$(dirname "$0")/lib.sh"

if [ ! -e "$BLD/lib/libmpi_abi.so" ] || [ ! -x "$BLD/bin/dmtcp_mpicc" ]; then
	echo "SKIP: e2e: shim or dmtcp_mpicc not built in $BLD"
	exit 0
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
unset DMTCP_MPI_PROXY DMTCP_MPI_VERBOSE

# A private prefix under $T, so every process of ours carries MARK.
mkdir -p "$T/pfx/bin" "$T/pfx/libexec/dmtcp_mpi"
cp "$DM" "$T/pfx/bin/"
cp "$BLD"/libexec/dmtcp_mpi/proxy-* "$T/pfx/libexec/dmtcp_mpi/" 2>/dev/null
DM=$T/pfx/bin/dmtcp_mpi

cat >"$T/prog.c" <<'EOF'
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* prog [abort|sleep|mpiabort CODE]: allreduce of the ranks; "abort"
 * makes rank 1 die first, "sleep" keeps every rank waiting 30 s before
 * finalizing, "mpiabort" makes rank 0 call MPI_Abort with CODE. */
int main(int argc, char **argv)
{
	int rank, size, sum = 0;
	const char *mode = argc > 1 ? argv[1] : "";

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (strcmp(mode, "abort") == 0 && rank == 1)
		abort();
	MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	printf("rank %d of %d sum %d\n", rank, size, sum);
	fflush(stdout);
	if (strcmp(mode, "mpiabort") == 0 && rank == 0)
		MPI_Abort(MPI_COMM_WORLD, atoi(argv[2]));
	if (strcmp(mode, "sleep") == 0)
		sleep(30);
	MPI_Finalize();
	return 0;
}
EOF
"$BLD/bin/dmtcp_mpicc" -o "$T/prog" "$T/prog.c" ||
	{ fail "cannot compile the test program"; exit 1; }

both_printed() { [ "$(grep -c '^rank ' "$1" 2>/dev/null)" -ge 2 ]; }

for mpi in mpich openmpi; do
	if [ ! -x "$T/pfx/libexec/dmtcp_mpi/proxy-$mpi" ] ||
	   ! command -v "mpirun.$mpi" >/dev/null; then
		echo "SKIP: e2e: proxy-$mpi or mpirun.$mpi missing"
		continue
	fi
	run="timeout -k 5 60 mpirun.$mpi -n 2 $DM $T/prog"

	$run >"$T/ok.out" 2>"$T/ok.err"
	rc=$?
	check "$mpi: normal run exits 0 (got $rc)" [ $rc -eq 0 ]
	check "$mpi: both ranks computed the sum" \
		[ "$(sort "$T/ok.out" | tr '\n' ' ')" = "rank 0 of 2 sum 1 rank 1 of 2 sum 1 " ]
	check "$mpi: normal run prints no error" \
		sh -c "! grep -q 'dmtcp_mpi: error' '$T/ok.err'"

	t0=$(date +%s)
	$run abort >"$T/ab.out" 2>"$T/ab.err"
	rc=$?
	el=$(( $(date +%s) - t0 ))
	check "$mpi: app abort on rank 1 fails the job (exit $rc)" [ $rc -ne 0 ]
	check "$mpi: ... within 15 s (took $el)" [ $el -le 15 ]
	check "$mpi: ... the launcher names the signal" grep -q \
		"rank 1: application killed by signal 6 (SIGABRT)" "$T/ab.err"
	check "$mpi: ... nothing left behind" no_leftovers

	# 0 too: the proxy then ends with 0, as when it has finalized.
	for code in 42 0; do
		timeout -k 5 60 "mpirun.$mpi" -n 1 "$DM" "$T/prog" mpiabort $code \
			>"$T/ma.out" 2>"$T/ma.err"
		rc=$?
		check "$mpi: MPI_Abort(WORLD, $code) in a 1-rank job exits $code (got $rc)" \
			[ $rc -eq $code ]
		check "$mpi: ... the launcher prints no error" \
			sh -c "! grep -q 'dmtcp_mpi: error' '$T/ma.err'"
		check "$mpi: ... nothing left behind" no_leftovers
	done

	t0=$(date +%s)
	$run sleep >"$T/px.out" 2>"$T/px.err" &
	job=$!
	# Both ranks printed: both proxies are up and past MPI_Init.
	i=0
	while ! both_printed "$T/px.out" && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	victim=$(pgrep -f "$T/pfx/libexec/dmtcp_mpi/proxy-$mpi" | sed -n 2p)
	if [ -n "$victim" ]; then
		kill -KILL "$victim"
	else
		echo "e2e: $mpi: no second proxy; processes of the test:"
		ps -eo pid,ppid,stat,args | grep -F "$T/" | grep -v grep
	fi
	wait $job
	rc=$?
	el=$(( $(date +%s) - t0 ))
	check "$mpi: a killed proxy (pid ${victim:-none found}) fails the job (exit $rc)" \
		[ -n "$victim" -a $rc -ne 0 ]
	check "$mpi: ... within 15 s (took $el)" [ $el -le 15 ]
	check "$mpi: ... the launcher says so" \
		grep -q "proxy killed by signal 9 (SIGKILL); ending the rank" "$T/px.err"
	check "$mpi: ... nothing left behind" no_leftovers
done

exit $NFAIL
