/*
 * restart_ring.c - the application of tests/ckpt-mpi/restart_ring.sh.
 *
 *   restart_ring DIR STEPS
 *
 * Step after step, slowly enough for a checkpoint to land anywhere: a
 * token goes round the ring (blocking Send/Recv), a stream message goes
 * to the right neighbour through Isend/Irecv left pending over the
 * step's pause (so a checkpoint finds posted receives and messages in
 * flight) as one element of a derived datatype made before the first
 * step (a restart must make it again in the new proxy), then an
 * Allreduce and a Bcast from a root that moves.  Each
 * rank appends what it saw to DIR/out.<rank>, opened once: a restored
 * process truncates the file back to its size at the checkpoint and goes
 * on from there, so a run that was checkpointed, killed and restarted
 * must leave the same files as one that never was.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "restart_app.h"

#define TAG_TOKEN 1
#define TAG_STREAM 7

/* Rank 0 starts the token at step; each rank mixes its rank in. */
static long ring(int rank, int size, long step)
{
	int left = (rank + size - 1) % size, right = (rank + 1) % size;
	long token = step;

	if (rank != 0)
		MPI_Recv(&token, 1, MPI_LONG, left, TAG_TOKEN, MPI_COMM_WORLD,
			 MPI_STATUS_IGNORE);
	token = token * 31 + rank;
	MPI_Send(&token, 1, MPI_LONG, right, TAG_TOKEN, MPI_COMM_WORLD);
	if (rank == 0)
		MPI_Recv(&token, 1, MPI_LONG, left, TAG_TOKEN, MPI_COMM_WORLD,
			 MPI_STATUS_IGNORE);
	return token;
}

int main(int argc, char **argv)
{
	int rank, size;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	long steps = ra_steps(argc, argv, 1, "restart_ring DIR STEPS");
	int fd = ra_open_out(argv[1], rank);
	int left = (rank + size - 1) % size, right = (rank + 1) % size;
	MPI_Datatype pair;  /* every other long, two of them */
	MPI_Type_vector(2, 1, 2, MPI_LONG, &pair);
	MPI_Type_commit(&pair);
	for (long s = 1; s <= steps; s++) {
		long in[3] = { -1, -2, -1 }, out[3] = { s * 1000 + rank, 0, -s };
		long sum = 0, mine = s * rank + 1;
		long root_val = s * 7 + rank;
		MPI_Request rq[2];
		MPI_Status st;

		MPI_Irecv(in, 1, pair, left, TAG_STREAM, MPI_COMM_WORLD, &rq[0]);
		MPI_Isend(out, 1, pair, right, TAG_STREAM, MPI_COMM_WORLD, &rq[1]);
		long token = ring(rank, size, s);
		ra_pause_ms(20);
		MPI_Wait(&rq[0], &st);
		MPI_Wait(&rq[1], MPI_STATUS_IGNORE);
		MPI_Allreduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
		MPI_Bcast(&root_val, 1, MPI_LONG, (int)(s % size),
			  MPI_COMM_WORLD);
		dprintf(fd, "step %ld token %ld stream %ld %ld %ld from %d sum %ld "
			"bcast %ld\n", s, token, in[0], in[1], in[2], st.MPI_SOURCE, sum,
			root_val);
	}
	MPI_Type_free(&pair);
	close(fd);
	printf("rank %d of %d done\n", rank, size);
	MPI_Finalize();
	return 0;
}
