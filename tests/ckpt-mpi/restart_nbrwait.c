/*
 * restart_nbrwait.c - the application of tests/ckpt-mpi/restart_nbrwait.sh.
 *
 *   restart_nbrwait DIR STEPS
 *
 * Step after step, on Cartesian communicators where one process is both
 * neighbours of a dimension (whose blocks dmtcp_mpi's proxy exchanges
 * itself, proxy/neighbor.c): start an MPI_Ineighbor_alltoall on a
 * periodic ring of 2 (the other rank is both neighbours) and MPI_Start a
 * persistent MPI_Neighbor_alltoallv on a 2 x 1 slab whose second
 * dimension is periodic (the rank itself is both neighbours there),
 * "compute" (sleep) with both outstanding, poll them once with Testall,
 * and Waitall.  A sender sends the same data to both sides of a
 * dimension whose neighbours are one process (the native MPIs pair those
 * blocks differently); the slab's other blocks differ.  Each rank
 * appends what it got to DIR/out.<rank>, so a restarted run must leave
 * the files of one that never stopped.
 *
 * The checkpoint comes at step STEPS/4 + 1, as in restart_nbc.c: rank 0
 * starts both collectives and waits, outside MPI, until a checkpoint is
 * over (DIR/started first), while rank 1 starts them only once DIR/go
 * exists (the coordinator waits in TARGETS).  So the checkpoint finds
 * rank 0's exchanges started in its proxy and not finished: rank 1 starts
 * its own to reach the targets, and DRAIN must step and complete them.
 * After a restart the persistent request is started again in a proxy that
 * never saw it.  A native run (no engine) does not wait; the native
 * reference (MPICH 4.0, without working persistent collectives) runs the
 * persistent one as its nonblocking twin, which delivers the same.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "restart_app.h"

#if MPI_VERSION > 4 || (MPI_VERSION == 4 && !(defined(MPICH_VERSION) && MPI_SUBVERSION == 0))
#define PERSISTENT_COLLECTIVES 1
#endif

#define K 3             /* longs per ring block */
#define SLOT 6          /* longs per slab block's place */

/* The slab's neighbours and, per block, the first block going to the
 * same process (blocks to one process carry the same data). */
static int nb[4], same[4];

/* Elements of (canonical) slab block j. */
static int slab_count(int j)
{
	return 2 + j;
}

static long slab_val(int rank, long s, int j, int e)
{
	return s * 1000 + rank * 100 + j * 10 + e;
}

int main(int argc, char **argv)
{
	int rank, size, dims[2] = { 2, 1 }, ring_per[1] = { 1 }, slab_per[2] = { 0, 1 };
	MPI_Comm ring, slab;
	long rs[2 * K], rr[2 * K], ss[4 * SLOT], sr[4 * SLOT];
	int scnt[4], sdsp[4], rcnt[4], rdsp[4];
	MPI_Request rq[2];

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	long steps = ra_steps(argc, argv, size == 2, "restart_nbrwait DIR STEPS (2 ranks)");
	int fd = ra_open_out(argv[1], rank);
	MPI_Cart_create(MPI_COMM_WORLD, 1, dims, ring_per, 0, &ring);
	MPI_Cart_create(MPI_COMM_WORLD, 2, dims, slab_per, 0, &slab);
	for (int d = 0; d < 2; d++) {
		MPI_Cart_shift(slab, d, 1, &nb[2 * d], &nb[2 * d + 1]);
		same[2 * d] = 2 * d;
		same[2 * d + 1] = nb[2 * d] == nb[2 * d + 1] ? 2 * d : 2 * d + 1;
	}
	for (int j = 0; j < 4; j++) {
		scnt[j] = slab_count(same[j]);
		sdsp[j] = rdsp[j] = j * SLOT;
		/* block i comes as the neighbour's block i ^ 1 */
		rcnt[j] = nb[j] == MPI_PROC_NULL ? 0 : slab_count(same[j ^ 1]);
	}
#ifdef PERSISTENT_COLLECTIVES
	MPI_Request slab_req;
	MPI_Neighbor_alltoallv_init(ss, scnt, sdsp, MPI_LONG, sr, rcnt, rdsp, MPI_LONG, slab,
				    MPI_INFO_NULL, &slab_req);
#endif
	long ck_step = steps / 4 + 1;
	int engine = ra_watch_checkpoints();
	for (long s = 1; s <= steps; s++) {
		MPI_Status st[2];

		for (int e = 0; e < 2 * K; e++) {
			rs[e] = s * 100 + rank * 10 + e % K;
			rr[e] = -1;
		}
		for (int e = 0; e < 4 * SLOT; e++)
			sr[e] = -1;
		for (int j = 0; j < 4; j++)
			for (int e = 0; e < scnt[j]; e++)
				ss[sdsp[j] + e] = slab_val(rank, s, same[j], e);
		if (rank == 1)
			ra_pause_ms(15);
		if (engine && rank == 1 && s == ck_step)
			ra_wait_file(argv[1], "go");
		MPI_Ineighbor_alltoall(rs, K, MPI_LONG, rr, K, MPI_LONG, ring, &rq[0]);
#ifdef PERSISTENT_COLLECTIVES
		MPI_Start(&slab_req);
		rq[1] = slab_req;
#else
		MPI_Ineighbor_alltoallv(ss, scnt, sdsp, MPI_LONG, sr, rcnt, rdsp, MPI_LONG, slab,
					&rq[1]);
#endif
		if (engine && rank == 0 && s == ck_step)
			ra_hold_for_checkpoint(argv[1]);
		ra_pause_ms(rank == 1 ? 5 : 20);
		int flag = 0;
		MPI_Testall(2, rq, &flag, st);
		MPI_Waitall(2, rq, st);
		long h = 0;
		for (int e = 0; e < 2 * K; e++)
			h = h * 31 + rr[e];
		dprintf(fd, "step %ld ring %ld %ld %ld", s, rr[0], rr[K + K - 1], h);
		for (int e = 0; e < 4 * SLOT; e++)
			dprintf(fd, " %ld", sr[e]);
		dprintf(fd, "\n");
	}
#ifdef PERSISTENT_COLLECTIVES
	MPI_Request_free(&slab_req);
#endif
	MPI_Comm_free(&slab);
	MPI_Comm_free(&ring);
	close(fd);
	printf("rank %d of %d done\n", rank, size);
	MPI_Finalize();
	return 0;
}
