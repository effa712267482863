/*
 * restart_drainfit.c - the application of tests/ckpt-mpi/restart_drainfit.sh.
 *
 *   restart_drainfit DIR STEPS
 *
 * Messages in flight at a checkpoint whose channel arena is mostly taken:
 * restart_drainfit.sh runs it with a 64 MiB arena (DMTCP_MPI_ARENA_MB),
 * the shared heap on.  Each rank mallocs its receive buffers, NMSG of
 * MSG_MB MiB, and a filler after MPI_Init, so they are heap blocks in the
 * arena (28 of the 32 MiB the heap may take), and sends from static
 * buffers, which are staged in the arena while the sends are pending
 * (24 MiB more).  At step STEPS/4 + 1 both ranks start their NMSG sends,
 * and the checkpoint comes before any receive is posted: rank 0 starts an
 * Ibarrier, says DIR/started and waits, outside MPI, until a checkpoint
 * is over; rank 1 starts the Ibarrier only once DIR/go exists
 * (restart_app.sh creates it when the coordinator waits in TARGETS for
 * it), then waits the same way.  DRAIN must then take 4 messages of
 * 6 MiB each way with about 12 MiB of the arena free; when its block had
 * to be 16 MiB the checkpoint failed ("could not drain messages in
 * flight (round 1)").  Then the receives are posted and every byte is
 * checked into the step's line.  A native run (no engine) waits for
 * nothing.
 */
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "restart_app.h"

#define NMSG 4
#define MSG_MB 6
#define MSG_BYTES (MSG_MB << 20)
#define FILLER_BYTES (4 << 20)

static unsigned char sendbuf[NMSG][MSG_BYTES];

/* Byte j of message i of step s from rank r. */
static unsigned char pattern(long s, int r, int i, size_t j)
{
	return (unsigned char)(s * 131 + r * 71 + i * 17 + (long)(j % 251));
}

/* The step with the checkpoint inside (see the top of the file): how many
 * bytes came wrong. */
static long exchange(const char *dir, long s, int rank, int engine, unsigned char **rb)
{
	MPI_Request r[2 * NMSG], b;
	MPI_Status st[2 * NMSG];
	long bad = 0;

	for (int i = 0; i < NMSG; i++) {
		for (size_t j = 0; j < MSG_BYTES; j++)
			sendbuf[i][j] = pattern(s, rank, i, j);
		MPI_Isend(sendbuf[i], MSG_BYTES, MPI_BYTE, 1 - rank, i + 1, MPI_COMM_WORLD, &r[i]);
	}
	if (engine && rank == 1)
		ra_wait_file(dir, "go");
	MPI_Ibarrier(MPI_COMM_WORLD, &b);
	if (engine && rank == 0)
		ra_touch(dir, "started");
	if (engine)
		ra_wait_ckpt_over();
	for (int i = 0; i < NMSG; i++)
		MPI_Irecv(rb[i], MSG_BYTES, MPI_BYTE, 1 - rank, i + 1, MPI_COMM_WORLD,
			  &r[NMSG + i]);
	MPI_Waitall(2 * NMSG, r, st);
	MPI_Wait(&b, MPI_STATUS_IGNORE);
	for (int i = 0; i < NMSG; i++)
		for (size_t j = 0; j < MSG_BYTES; j++)
			bad += rb[i][j] != pattern(s, 1 - rank, i, j);
	return bad;
}

int main(int argc, char **argv)
{
	int rank, size;
	unsigned char *rb[NMSG];

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	long steps = ra_steps(argc, argv, size == 2, "restart_drainfit DIR STEPS (2 ranks)");
	int fd = ra_open_out(argv[1], rank);
	int engine = ra_watch_checkpoints();
	for (int i = 0; i < NMSG; i++)
		rb[i] = malloc(MSG_BYTES);
	unsigned char *filler = malloc(FILLER_BYTES);
	if (!filler)
		MPI_Abort(MPI_COMM_WORLD, 2);
	memset(filler, 1, FILLER_BYTES);

	for (long s = 1; s <= steps; s++) {
		long bad = s == steps / 4 + 1 ? exchange(argv[1], s, rank, engine, rb) : 0;
		long mine = s * (rank + 3), sum = 0;
		MPI_Allreduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
		dprintf(fd, "step %ld sum %ld bad bytes %ld\n", s, sum, bad);
		ra_pause_ms(rank == 1 ? 10 : 5);
	}
	free(filler);
	for (int i = 0; i < NMSG; i++)
		free(rb[i]);
	close(fd);
	MPI_Finalize();
	return 0;
}
