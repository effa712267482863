/*
 * restart_gidroot.c - the application of tests/ckpt-mpi/restart_gidroot.sh.
 *
 *   restart_gidroot DIR STEPS
 *
 * An idup'd communicator outlives its parent across restarts, and the
 * parent's global id is not handed out again.  At the start P is made by
 * MPI_Comm_dup (its id drawn from rank 0's counter, proxy/gid.c), A by
 * MPI_Comm_idup from P (its id computed from P's id and P's sequence
 * number, shim/commdup.c), and P is freed at once.  Every step runs an
 * Allreduce and a Bcast on A.  At step STEPS/2 the same recipe runs
 * again: N by MPI_Comm_dup of WORLD, D by MPI_Comm_idup from N right
 * away, and E by MPI_Comm_idup from A; from then on every step also runs
 * an Allreduce on D and one on E.
 *
 * A restart starts a new proxy whose counter starts over; were P's id not
 * kept from reuse (COMM_REBUILD's arg[4]), N would get it, and D, made
 * from it at the same sequence number, A's id.  Two communicators under
 * one id count their collectives together: D would always look behind
 * A's count, and a checkpoint would wait in TARGETS for ever.  So a run
 * that was restarted (the engine says so) stops at step STEPS/2 + 10,
 * both ranks outside MPI after a Barrier, creates DIR/again and waits for
 * DIR/again-go, which restart_app.sh (RESTART_APP_AGAIN) creates after it
 * has taken a second checkpoint, which must succeed.  What each step got
 * goes to DIR/out.<rank>; a native run does not stop.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "restart_app.h"

/* Both ranks outside MPI until the second checkpoint is over. */
static void stop_for_checkpoint(int rank, const char *dir)
{
	MPI_Barrier(MPI_COMM_WORLD);
	if (rank == 0)
		ra_touch(dir, "again");
	ra_wait_file(dir, "again-go");
}

static void idup_wait(MPI_Comm parent, MPI_Comm *out)
{
	MPI_Request r;

	MPI_Comm_idup(parent, out, &r);
	MPI_Wait(&r, MPI_STATUS_IGNORE);
}

/* Dup of WORLD, an idup from it, the dup freed: the idup'd one. */
static MPI_Comm orphan_idup(void)
{
	MPI_Comm p, a;

	MPI_Comm_dup(MPI_COMM_WORLD, &p);
	idup_wait(p, &a);
	MPI_Comm_free(&p);
	return a;
}

static long sum_on(MPI_Comm comm, long v)
{
	long sum = 0;

	MPI_Allreduce(&v, &sum, 1, MPI_LONG, MPI_SUM, comm);
	return sum;
}

int main(int argc, char **argv)
{
	int rank, size;
	MPI_Comm n, d = MPI_COMM_NULL, e = MPI_COMM_NULL;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	long steps = ra_steps(argc, argv, size == 2, "restart_gidroot DIR STEPS (on 2 ranks)");
	int fd = ra_open_out(argv[1], rank);
	ra_watch_checkpoints();
	MPI_Comm a = orphan_idup();
	long again_step = steps / 2 + 10;
	for (long s = 1; s <= steps; s++) {
		long root_val = s * 11 + rank, sd = 0, se = 0;

		if (rank == 1)
			ra_pause_ms(20);
		if (s == steps / 2) {
			MPI_Comm_dup(MPI_COMM_WORLD, &n);
			idup_wait(n, &d);
			MPI_Comm_free(&n);
			idup_wait(a, &e);
		}
		if (s == again_step && atomic_load(&ra_restarted))
			stop_for_checkpoint(rank, argv[1]);
		long sa = sum_on(a, s * (rank + 3));
		MPI_Bcast(&root_val, 1, MPI_LONG, (int)(s % size), a);
		if (d != MPI_COMM_NULL) {
			sd = sum_on(d, s * (rank + 5));
			se = sum_on(e, s * (rank + 7));
		}
		dprintf(fd, "step %ld a %ld bcast %ld d %ld e %ld\n", s, sa, root_val, sd, se);
	}
	MPI_Comm_free(&e);
	MPI_Comm_free(&d);
	MPI_Comm_free(&a);
	close(fd);
	printf("rank %d of %d done\n", rank, size);
	MPI_Finalize();
	return 0;
}
