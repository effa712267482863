/*
 * kernels.c - two communication-bound kernels for bench/job_ckpt.sh, to
 * price the checkpoint bookkeeping every call pays (collective sequence
 * numbers in the shim, send/receive counters in the proxy).
 *
 *   mpirun -n N dmtcp_mpi kernels coll|p2p ITERATIONS
 *
 * coll: an 8-byte Allreduce and a Bcast per iteration on MPI_COMM_WORLD.
 * p2p:  ranks in pairs (0-1, 2-3, ...) ping-pong 8 bytes per iteration.
 * Rank 0 prints `seconds=S` for the timed loop (after a warm-up of a
 * tenth of the iterations) and `check=...` so a broken run is noticed.
 */
#include <mpi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double coll(long iters)
{
	double x = 1.0, sum = 0.0;

	for (long i = 0; i < iters; i++) {
		MPI_Allreduce(&x, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
		MPI_Bcast(&sum, 1, MPI_DOUBLE, (int)(i % 2), MPI_COMM_WORLD);
	}
	return sum;
}

static double p2p(long iters, int rank, int size)
{
	int peer = rank ^ 1;
	double v = rank;

	if (peer >= size)
		return v;   /* an odd rank out has nobody to talk to */
	for (long i = 0; i < iters; i++) {
		if (rank % 2 == 0) {
			MPI_Send(&v, 1, MPI_DOUBLE, peer, 7, MPI_COMM_WORLD);
			MPI_Recv(&v, 1, MPI_DOUBLE, peer, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		} else {
			MPI_Recv(&v, 1, MPI_DOUBLE, peer, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			v += 1.0;
			MPI_Send(&v, 1, MPI_DOUBLE, peer, 7, MPI_COMM_WORLD);
		}
	}
	return v;
}

static double run(int is_coll, long iters, int rank, int size)
{
	return is_coll ? coll(iters) : p2p(iters, rank, size);
}

int main(int argc, char **argv)
{
	int rank, size;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (argc != 3 || (strcmp(argv[1], "coll") != 0 && strcmp(argv[1], "p2p") != 0)) {
		if (rank == 0)
			fprintf(stderr, "usage: kernels coll|p2p ITERATIONS\n");
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	int is_coll = strcmp(argv[1], "coll") == 0;
	long iters = atol(argv[2]);

	run(is_coll, iters / 10, rank, size);
	MPI_Barrier(MPI_COMM_WORLD);
	double t0 = MPI_Wtime();
	double check = run(is_coll, iters, rank, size);
	double t = MPI_Wtime() - t0;
	if (rank == 0)
		printf("seconds=%.6f check=%.0f\n", t, check);
	MPI_Finalize();
	return 0;
}
