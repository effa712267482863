/*
 * restart_truncpark.c - the application of tests/ckpt-mpi/restart_truncpark.sh.
 *
 *   restart_truncpark DIR STEPS
 *
 * Rank 0's pending receive has completed in error (a truncated message)
 * inside its proxy when a checkpoint parks it.  Each step is a 64 KiB
 * Sendrecv ring and an Allreduce of checksums, one line per step in
 * DIR/out.<rank>.  At step STEPS/4 - 1 rank 0 posts an Irecv of one int,
 * rank 1 sends it four ints between two Barriers, and rank 0 waits
 * outside MPI, with that Irecv still to be completed by its Wait, until a
 * checkpoint is over.  PARK finds the receive complete with
 * MPI_ERR_TRUNCATE: it must report it done, with its error, for the Wait
 * after the checkpoint to return (until 2026-11-26 the error failed
 * PARK, so every checkpoint of this moment failed).  Rank 0's Wait must
 * return MPI_ERR_TRUNCATE after the resume and after restarts under both
 * MPIs, as it does natively.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "restart_app.h"

#define WORDS (64 * 1024 / sizeof(unsigned))

static unsigned out[WORDS], in[WORDS];

/* Rank 0: a receive of one int for a message of four.  The second
 * Barrier follows rank 1's send on the same path, so the message is in
 * rank 0's proxy, matched and truncated, when rank 0 writes its line
 * and the test asks for the checkpoint. */
static MPI_Request post_truncated(int rank)
{
	int four[4] = { 1, 2, 3, 4 };
	static int one;
	MPI_Request r = MPI_REQUEST_NULL;

	if (rank == 0)
		MPI_Irecv(&one, 1, MPI_INT, 1, 9, MPI_COMM_WORLD, &r);
	MPI_Barrier(MPI_COMM_WORLD);
	if (rank == 1)
		MPI_Send(four, 4, MPI_INT, 0, 9, MPI_COMM_WORLD);
	MPI_Barrier(MPI_COMM_WORLD);
	return r;
}

/* Rank 0, once the checkpoint is over: its Wait says MPI_ERR_TRUNCATE. */
static void take_truncated(FILE *f, MPI_Request *r)
{
	int cls;

	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Error_class(MPI_Wait(r, MPI_STATUS_IGNORE), &cls);
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
	fprintf(f, "truncated receive: %s\n",
		cls == MPI_ERR_TRUNCATE ? "MPI_ERR_TRUNCATE" : "not MPI_ERR_TRUNCATE");
	fflush(f);
}

int main(int argc, char **argv)
{
	int rank, size;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	long steps = ra_steps(argc, argv, 1, "restart_truncpark DIR STEPS");
	int engine = ra_watch_checkpoints();
	int left = (rank + size - 1) % size, right = (rank + 1) % size;
	FILE *f = ra_fopen_out(argv[1], rank);
	ra_ring_fill(out, WORDS, 0, rank);
	for (long s = 0; s < steps; s++) {
		unsigned all, mine = ra_ring_step(out, in, WORDS, left, right, &all);
		ra_pause_ms(5); /* so the killed run is still going when it is killed */
		ra_ring_fill(out, WORDS, s + 1, rank);
		MPI_Request r = s == steps / 4 - 1 ? post_truncated(rank) : MPI_REQUEST_NULL;
		/* The test asks for the checkpoint once it sees this line. */
		fprintf(f, "%ld: from %d %08x all %08x\n", s, left, mine, all);
		fflush(f);
		if (r == MPI_REQUEST_NULL)
			continue;
		if (engine)
			ra_wait_ckpt_over();
		take_truncated(f, &r);
	}
	fclose(f);
	printf("rank %d of %d done\n", rank, size);
	MPI_Finalize();
	return 0;
}
