/*
 * exit_once.c - the application of tests/ckpt-mpi/exit_once.sh.
 *
 *   exit_once TICKS
 *
 * A thread that never calls MPI writes "rank R tick N" to stdout every
 * millisecond, N = 0 .. TICKS-1, while the main thread runs an Allreduce
 * every 5 ms until the ticker is done.  A job checkpointed with
 * --checkpoint-and-exit and restarted must together print every tick of
 * every rank exactly once: a tick printed twice ran past the image in
 * the job that was ending (the engine let its threads go between writing
 * the image and the kill).  Each line is one write(2), so stdio buffers
 * cannot print or lose one on their own.
 */
#include <mpi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int rank;
static long ticks;
static atomic_int ticker_done;

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void *ticker(void *arg)
{
	char line[64];

	(void)arg;
	for (long n = 0; n < ticks; n++) {
		int len = snprintf(line, sizeof(line), "rank %d tick %ld\n",
				   rank, n);
		if (write(1, line, (size_t)len) != len)
			abort();
		pause_ms(1);
	}
	atomic_store(&ticker_done, 1);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;
	int done = 0;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	ticks = argc > 1 ? atol(argv[1]) : 2000;
	if (pthread_create(&t, NULL, ticker, NULL) != 0)
		MPI_Abort(MPI_COMM_WORLD, 1);
	/* Every rank leaves the loop in the same iteration. */
	while (!done) {
		int mine = atomic_load(&ticker_done);
		MPI_Allreduce(&mine, &done, 1, MPI_INT, MPI_MIN,
			      MPI_COMM_WORLD);
		pause_ms(5);
	}
	pthread_join(t, NULL);
	MPI_Finalize();
	return 0;
}
