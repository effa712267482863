/*
 * restart_nbc.c - the application of tests/ckpt-mpi/restart_nbc.sh.
 *
 *   restart_nbc DIR STEPS
 *
 * Step after step: start an Iallreduce on WORLD, an Ibcast on a dup of
 * WORLD from a root that moves, an Ialltoallv on WORLD whose counts
 * change with the step, and an Iallreduce with a non-commutative user
 * operation (composition of affine maps, folded in the application when
 * the request completes), then "compute" (sleep) with the four left
 * outstanding, poll them once with Testall, and Waitall.  Rank 1 starts
 * its collectives later than rank 0, so a checkpoint usually finds rank 0
 * with collectives pending that rank 1 has not started: rank 1 must catch
 * up to the targets, DRAIN must complete them, and the Waitall after a
 * resume or a restart (where the new proxy never saw them) must return
 * their results.  Each rank appends what it got to DIR/out.<rank>, as
 * restart_ring.c does, so a restarted run must leave the files of one
 * that never stopped.
 *
 * One step is the checkpoint's, so that the test does not depend on where
 * a random moment falls: at step STEPS/4 + 1, which adds an Ibcast of 32
 * MiB from rank 1 (too big to complete without many rounds of progress),
 * rank 0 starts its five collectives and then waits, outside MPI, until a checkpoint is over
 * (its resume or restart hook says so; it creates DIR/started first),
 * while rank 1 waits before starting them until DIR/go exists, which
 * restart_app.sh creates once the coordinator is in its TARGETS phase.  So the checkpoint begins with
 * the collectives started on rank 0 only; rank 1 starts them to reach its
 * targets; then DRAIN must complete them in the proxies (DRAIN_COLLS,
 * proxy/icoll.c) and copy the results into application memory
 * (shim_icoll_drained, shim/icoll.c): rank 0's Waitall after a restart
 * runs in a proxy that never saw them.  A native run (no engine) does not
 * wait.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "restart_app.h"

#define MAXR 8
#define BIG (4L << 20)      /* longs of the checkpoint step's Ibcast: 32 MiB */

/* inout = in o inout, for x -> m x + c kept as (m, c): associative, not
 * commutative, so the result shows the ranks' order. */
static void compose(void *in, void *inout, int *len, MPI_Datatype *dt)
{
	const long *f = in;
	long *g = inout;

	(void)dt;
	for (int i = 0; i < *len; i++, f += 2, g += 2) {
		g[1] = f[0] * g[1] + f[1];
		g[0] = f[0] * g[0];
	}
}

int main(int argc, char **argv)
{
	int rank, size;
	MPI_Comm dup;
	MPI_Datatype affine;
	MPI_Op comp;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	long steps = ra_steps(argc, argv, size <= MAXR,
			     "restart_nbc DIR STEPS (at most %d ranks)", MAXR);
	int fd = ra_open_out(argv[1], rank);
	MPI_Comm_dup(MPI_COMM_WORLD, &dup);
	MPI_Type_contiguous(2, MPI_LONG, &affine);
	MPI_Type_commit(&affine);
	MPI_Op_create(compose, 0, &comp);
	long big_step = steps / 4 + 1;
	int engine = ra_watch_checkpoints();
	long *big = malloc(BIG * sizeof(long));
	if (!big)
		MPI_Abort(MPI_COMM_WORLD, 1);
	for (long s = 1; s <= steps; s++) {
		long mine = s * (rank + 3), sum = 0, root_val = s * 11 + rank;
		int sc[MAXR], sd[MAXR], rc[MAXR], rd[MAXR], at = 0, rat = 0;
		long sbuf[3 * MAXR], rbuf[3 * MAXR];
		long map[2] = { rank + 2, s + rank }, maps[2] = { 0, 0 };
		MPI_Request rq[5];
		MPI_Status st[5];
		int nrq = s == big_step ? 5 : 4;

		/* to rank d: (s + rank + d) % 3 + 1 longs */
		for (int d = 0; d < size; d++) {
			sc[d] = (int)((s + rank + d) % 3) + 1;
			sd[d] = at;
			at += sc[d];
			rc[d] = (int)((s + d + rank) % 3) + 1;
			rd[d] = rat;
			rat += rc[d];
		}
		for (int i = 0; i < at; i++)
			sbuf[i] = s * 100 + rank * 10 + i;
		for (int i = 0; i < rat; i++)
			rbuf[i] = -1;
		if (rank == 1)
			ra_pause_ms(15);
		if (engine && rank == 1 && s == big_step)
			ra_wait_file(argv[1], "go");
		MPI_Iallreduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD, &rq[0]);
		MPI_Ibcast(&root_val, 1, MPI_LONG, (int)(s % size), dup, &rq[1]);
		MPI_Ialltoallv(sbuf, sc, sd, MPI_LONG, rbuf, rc, rd, MPI_LONG, MPI_COMM_WORLD,
			       &rq[2]);
		MPI_Iallreduce(map, maps, 1, affine, comp, MPI_COMM_WORLD, &rq[3]);
		if (nrq == 5) {
			for (long i = 0; i < BIG; i++)
				big[i] = rank == 1 ? i * 2654435761L + s : -1;
			MPI_Ibcast(big, (int)BIG, MPI_LONG, 1, dup, &rq[4]);
		}
		if (engine && rank == 0 && s == big_step)
			ra_hold_for_checkpoint(argv[1]);
		ra_pause_ms(rank == 1 ? 5 : 20);
		int flag = 0;
		MPI_Testall(nrq, rq, &flag, st);
		MPI_Waitall(nrq, rq, st);
		long h = 0;
		for (int i = 0; i < rat; i++)
			h = h * 31 + rbuf[i];
		for (long i = 0; nrq == 5 && i < BIG; i++)
			h = h * 31 + big[i];
		dprintf(fd, "step %ld sum %ld bcast %ld alltoallv %d %ld affine %ld %ld\n", s, sum,
			root_val, rat, h, maps[0], maps[1]);
	}
	MPI_Comm_free(&dup);
	MPI_Op_free(&comp);
	MPI_Type_free(&affine);
	free(big);
	close(fd);
	printf("rank %d of %d done\n", rank, size);
	MPI_Finalize();
	return 0;
}
