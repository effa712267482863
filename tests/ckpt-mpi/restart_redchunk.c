/*
 * restart_redchunk.c - the application of tests/ckpt-mpi/restart_redchunk.sh.
 *
 *   restart_redchunk DIR STEPS
 *
 * The program sets DMTCP_MPI_TEST_REDUCE_CHUNK=1000 before MPI_Init, as
 * mpi-tests/reduce_big.c does, so dmtcp_mpi cuts each MPI_Allreduce_c of
 * N ints into chunks of 1000 (shim/redbig.c).  A restart replaces the
 * image's DMTCP_MPI_* variables with those of its own command, which does
 * not have this one: the ranks must still cut every reduction alike.
 *
 * Step after step both ranks Allreduce_c N ints and append a checksum of
 * the sums to DIR/out.<rank>.  At step STEPS/4 + 1 the checkpoint comes
 * with rank 0 inside that step's Allreduce_c and rank 1 not yet in it:
 * rank 0 starts an Ibarrier, says DIR/started, and once DIR/go exists
 * (restart_app.sh creates it when the coordinator waits in TARGETS for
 * rank 1, which has not started the Ibarrier) enters the Allreduce_c,
 * whose first chunk the checkpoint holds back at its gate; a thread of
 * rank 0 says DIR/held a moment later.  Rank 1 then starts the Ibarrier,
 * waits for it and, outside MPI, until the checkpoint is over, and only
 * then enters the Allreduce_c.  Restarted with the variable read at each
 * call, rank 0 went on in chunks and rank 1 made one call of N: the
 * restart failed (MPI_ERR_TRUNCATE) or hung.  A native run (no engine)
 * waits for nothing.
 */
#include <mpi.h>
#include <pthread.h>
#include <stdlib.h>

#include "restart_app.h"

#define N 2500            /* ints per Allreduce_c: chunks of 1000, 1000, 500 */
#define HELD_AFTER_MS 300

/* The step's reduction: sums of both ranks' ints, checksummed. */
static unsigned reduce_step(long s, int rank)
{
	static int in[N], out[N];

	for (int i = 0; i < N; i++)
		in[i] = (int)((s * 7 + i) % 1009) * (rank + 1) - rank;
	MPI_Allreduce_c(in, out, N, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	return ra_checksum((const unsigned *)out, N);
}

/* Say "held" once rank 0's main thread has surely reached the gate of
 * its first chunk: it cannot say so itself from there. */
static void *say_held(void *dir)
{
	ra_pause_ms(HELD_AFTER_MS);
	ra_touch(dir, "held");
	return NULL;
}

/* The step with the checkpoint inside (see the top of the file). */
static unsigned checkpoint_step(const char *dir, long s, int rank, int engine)
{
	MPI_Request r;
	pthread_t t;
	unsigned h;

	if (rank == 0) {
		MPI_Ibarrier(MPI_COMM_WORLD, &r);
		if (engine) {
			ra_touch(dir, "started");
			ra_wait_file(dir, "go");
			if (pthread_create(&t, NULL, say_held, (void *)dir) != 0)
				MPI_Abort(MPI_COMM_WORLD, 3);
		}
		h = reduce_step(s, rank);
		if (engine)
			pthread_join(t, NULL);
		MPI_Wait(&r, MPI_STATUS_IGNORE);
		return h;
	}
	if (engine)
		ra_wait_file(dir, "held");
	MPI_Ibarrier(MPI_COMM_WORLD, &r);
	MPI_Wait(&r, MPI_STATUS_IGNORE);
	if (engine)
		ra_wait_ckpt_over();
	return reduce_step(s, rank);
}

int main(int argc, char **argv)
{
	int rank, size;

	/* Only dmtcp_mpi reads it: chunks of 1000 elements. */
	setenv("DMTCP_MPI_TEST_REDUCE_CHUNK", "1000", 1);
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	long steps = ra_steps(argc, argv, size == 2, "restart_redchunk DIR STEPS (2 ranks)");
	int fd = ra_open_out(argv[1], rank);
	int engine = ra_watch_checkpoints();

	for (long s = 1; s <= steps; s++) {
		unsigned h = s == steps / 4 + 1 ? checkpoint_step(argv[1], s, rank, engine)
						: reduce_step(s, rank);
		dprintf(fd, "step %ld sums %08x\n", s, h);
		ra_pause_ms(rank == 1 ? 10 : 5);
	}
	close(fd);
	MPI_Finalize();
	return 0;
}
