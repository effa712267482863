/*
 * restart_xorder.c - the application of tests/ckpt-mpi/restart_xorder.sh.
 *
 *   restart_xorder DIR STEPS
 *
 * Two communicators made in a different order on each rank: rank 0
 * calls MPI_Comm_idup on parent 0 and then on parent 1, rank 1 on
 * parent 1 and then on parent 0 (nonblocking, so a native run does not
 * wait; MPI_THREAD_MULTIPLE constructors on different parents end in
 * such orders too, mpi-tests/thread_ctors).  Each step runs an
 * Allreduce on both and appends the sums to DIR/out.<rank>.  A restart
 * must make both again in an order every rank agrees on: made in each
 * rank's own creation order, rank 0 waited in the first one's
 * MPI_Comm_create_group and rank 1 in the second's, for ever.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "restart_app.h"

int main(int argc, char **argv)
{
	int rank, size;
	MPI_Comm plain[2], made[2];
	MPI_Request r[2];

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	long steps = ra_steps(argc, argv, size == 2, "restart_xorder DIR STEPS, on 2 ranks");
	FILE *f = ra_fopen_out(argv[1], rank);
	for (int k = 0; k < 2; k++)
		MPI_Comm_dup(MPI_COMM_WORLD, &plain[k]);
	for (int i = 0; i < 2; i++) {
		int k = rank == 0 ? i : 1 - i;
		MPI_Comm_idup(plain[k], &made[k], &r[i]);
	}
	for (int i = 0; i < 2; i++)
		MPI_Wait(&r[i], MPI_STATUS_IGNORE);

	for (long s = 0; s < steps; s++) {
		int in[2] = { rank + (int)s, 10 * rank + (int)s }, sum[2] = { -1, -1 };

		for (int k = 0; k < 2; k++)
			MPI_Allreduce(&in[k], &sum[k], 1, MPI_INT, MPI_SUM, made[k]);
		fprintf(f, "%ld: %d %d\n", s, sum[0], sum[1]);
		fflush(f);
		ra_pause_ms(20);
	}
	for (int k = 0; k < 2; k++) {
		MPI_Comm_free(&made[k]);
		MPI_Comm_free(&plain[k]);
	}
	fclose(f);
	MPI_Finalize();
	return 0;
}
