/*
 * restart_icc.c - the application of tests/ckpt-mpi/restart_icc.sh.
 *
 *   restart_icc DIR STEPS
 *
 * Two leaders reach MPI_Intercomm_create far apart, with a checkpoint in
 * between.  Each rank is its own local group (a split of WORLD by rank)
 * and WORLD is the peer communicator; the tag is TAG, which the
 * application also uses on WORLD itself.  Open MPI's Intercomm_create
 * sends the leaders' messages on the peer communicator with the
 * application's tag, where a wildcard probe (the checkpoint's DRAIN, or
 * the application's own) can see them.
 *
 * Steps before STEPS/4 + 1 run an Allreduce on WORLD.  At that step
 * rank 0 calls Intercomm_create at once; rank 1 first waits until rank
 * 0's message is visible on WORLD (Open MPI; under MPICH it never is,
 * and rank 1 gives up after a few seconds), creates DIR/started and
 * waits, outside MPI, for DIR/go, which restart_app.sh creates once the
 * checkpoint is in TARGETS.  So the checkpoint begins with rank 0 inside
 * the constructor and its message to rank 1 in flight, and rank 1 is
 * behind by it.  From then on every step also sends a value over the
 * intercommunicator and one on WORLD with TAG, received with
 * MPI_ANY_SOURCE and MPI_ANY_TAG: a leader's message taken into the
 * application's memory by the checkpoint would show up there (or the
 * constructor would never end).  A native run does not wait.
 *
 * Built with ICC_THREADS (restart_iccmt.c) it runs at
 * MPI_THREAD_MULTIPLE, where the proxy makes the intercommunicator on a
 * thread of its own (proxy/ctorbg.c) and keeps serving the checkpoint
 * meanwhile.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "restart_app.h"

#define TAG 77
#define SEE_MS 5000          /* how long rank 1 looks for rank 0's message */

/* Rank 1: until rank 0's part of the constructor shows on WORLD, if it
 * ever does; then DIR/seen says so. */
static void look_for_leader(const char *dir)
{
	int flag = 0;

	for (int ms = 0; !flag && ms < SEE_MS; ms += 10) {
		MPI_Iprobe(0, TAG, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
		if (!flag)
			ra_pause_ms(10);
	}
	if (flag)
		ra_touch(dir, "seen");
}

static MPI_Comm make_intercomm(int rank, const char *dir, int engine)
{
	MPI_Comm local, inter;

	MPI_Comm_split(MPI_COMM_WORLD, rank, 0, &local);
	if (engine && rank == 1) {
		look_for_leader(dir);
		ra_touch(dir, "started");
		ra_wait_file(dir, "go");
	}
	MPI_Intercomm_create(local, 0, MPI_COMM_WORLD, 1 - rank, TAG, &inter);
	MPI_Comm_free(&local);
	return inter;
}

/* One step over the intercommunicator and WORLD; what rank 1 got. */
static long exchange(MPI_Comm inter, int rank, long s)
{
	long out = s * 7 + rank, in = -1, w = s * 13, got = -1;
	MPI_Status st;

	MPI_Sendrecv(&out, 1, MPI_LONG, 0, 1, &in, 1, MPI_LONG, 0, 1, inter,
		     MPI_STATUS_IGNORE);
	if (rank == 0) {
		MPI_Send(&w, 1, MPI_LONG, 1, TAG, MPI_COMM_WORLD);
		return in;
	}
	MPI_Recv(&got, 1, MPI_LONG, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
	if (st.MPI_SOURCE != 0 || st.MPI_TAG != TAG || got != w) {
		fprintf(stderr, "restart_icc: step %ld: got %ld from %d tag %d\n", s, got,
			st.MPI_SOURCE, st.MPI_TAG);
		return -1;
	}
	return in * 1000 + got;
}

int main(int argc, char **argv)
{
	int rank, size;
	MPI_Comm inter = MPI_COMM_NULL;

#ifdef ICC_THREADS
	int provided;
	MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
#else
	MPI_Init(&argc, &argv);
#endif
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	long steps = ra_steps(argc, argv, size == 2, "restart_icc DIR STEPS (on 2 ranks)");
	int fd = ra_open_out(argv[1], rank);
	long icc_step = steps / 4 + 1;
	int engine = ra_watch_checkpoints();
	for (long s = 1; s <= steps; s++) {
		long mine = s * (rank + 3), sum = 0, got = 0;

		if (rank == 1)
			ra_pause_ms(20);
		if (s == icc_step)
			inter = make_intercomm(rank, argv[1], engine);
		if (inter != MPI_COMM_NULL)
			got = exchange(inter, rank, s);
		MPI_Allreduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
		dprintf(fd, "step %ld sum %ld got %ld\n", s, sum, got);
	}
	MPI_Comm_free(&inter);
	close(fd);
	printf("rank %d of %d done\n", rank, size);
	MPI_Finalize();
	return 0;
}
