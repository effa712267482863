/*
 * ring.c - the demo job: a token goes around the ring of ranks many
 * times, each rank adding its rank; every 1000 laps all ranks agree on a
 * checksum with MPI_Allreduce.  The output is deterministic, so a run
 * through dmtcp_mpi can be compared with a native run line by line.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int rank, size;
	long laps = argc > 1 ? atol(argv[1]) : 20000;
	useconds_t pause_us = argc > 2 ? (useconds_t)atol(argv[2]) : 0;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	long token = 0;
	for (long lap = 1; lap <= laps; lap++) {
		if (rank == 0) {
			token += rank;
			MPI_Send(&token, 1, MPI_LONG, (rank + 1) % size, 0, MPI_COMM_WORLD);
			MPI_Recv(&token, 1, MPI_LONG, size - 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		} else {
			MPI_Recv(&token, 1, MPI_LONG, rank - 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			token += rank;
			MPI_Send(&token, 1, MPI_LONG, (rank + 1) % size, 0, MPI_COMM_WORLD);
		}
		if (lap % 1000 == 0) {
			long sum;
			MPI_Allreduce(&token, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
			if (rank == 0)
				printf("lap %ld token %ld sum %ld\n", lap, token, sum);
			fflush(stdout);
			if (pause_us)
				usleep(pause_us);
		}
	}
	if (rank == 0)
		printf("done: %d ranks, %ld laps\n", size, laps);
	MPI_Finalize();
	return 0;
}
