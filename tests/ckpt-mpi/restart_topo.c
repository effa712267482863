/*
 * restart_topo.c - the application of tests/ckpt-mpi/restart_topo.sh.
 *
 *   restart_topo DIR STEPS
 *
 * What a communicator carries besides its members must survive a
 * checkpoint and a restart under either MPI: a periodic Cartesian ring
 * and a weighted dist-graph ring (neighbourhood collectives run in the
 * real MPI, so the new proxy must have the topologies again), an
 * intercommunicator between the even and the odd ranks (point-to-point
 * names remote ranks), an attribute, and a user reduction operation
 * (its function pointer lives in the image; reduced in the application).  Each step exchanges over all
 * three and appends what it saw, with the topology queries, to
 * DIR/out.<rank>; a restored process truncates its file back to its size
 * at the checkpoint, so an interrupted run must leave the same files as
 * one that never was.
 *
 * With RESTART_APP_GO=1 in the environment (restart_topohold.sh) the
 * checkpoint comes at step STEPS/4 with rank 0 inside the Cartesian
 * MPI_Neighbor_alltoall and rank 1 behind it: rank 0 tells rank 1 on
 * WORLD that it is about to enter, rank 1 gives it HOLD_MS to get there,
 * creates DIR/started and waits, outside MPI, for DIR/go (restart_app.sh
 * creates it once the coordinator waits in TARGETS).  On a periodic ring
 * of 2 the proxy exchanges the blocks itself (proxy/neighbor.c), and
 * PARK once made it give up that exchange: the call returned an error
 * after the resume and again after each restart.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "restart_app.h"

#define HOLD_MS 1000 /* rank 0's time to get from its Send into the call */

/* RESTART_APP_GO: rank 1 holds back before step s's neighbour calls
 * until the checkpoint waits for it in TARGETS, rank 0 being inside. */
static void hold_at_step(const char *dir, int rank)
{
	int token = 0;

	if (rank == 0) {
		MPI_Send(&token, 1, MPI_INT, 1, 3, MPI_COMM_WORLD);
		return;
	}
	MPI_Recv(&token, 1, MPI_INT, 0, 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	ra_pause_ms(HOLD_MS);
	ra_touch(dir, "started");
	ra_wait_file(dir, "go");
}

/* Composition of affine maps x -> a x + b modulo a prime, element-wise:
 * inout = in o inout, which does not commute. */
static void compose(void *in, void *inout, int *len, MPI_Datatype *t)
{
	const long p = 1000003;
	int *f = in, *g = inout;

	(void)t;
	for (int i = 0; i < *len; i++, f += 2, g += 2) {
		int a = (int)((long)f[0] * g[0] % p), b = (int)(((long)f[0] * g[1] + f[1]) % p);
		g[0] = a;
		g[1] = b;
	}
}

int main(int argc, char **argv)
{
	int rank, size, key, ir;
	int dims[1], periods[1] = { 1 }, w_in = 3, w_out = 4;
	MPI_Comm cart, dist, half, inter;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	long steps = ra_steps(argc, argv, size % 2 == 0,
			     "restart_topo DIR STEPS, on an even number of ranks");
	FILE *f = ra_fopen_out(argv[1], rank);
	dims[0] = size;
	MPI_Cart_create(MPI_COMM_WORLD, 1, dims, periods, 0, &cart);
	int left = (rank + size - 1) % size, right = (rank + 1) % size;
	MPI_Dist_graph_create_adjacent(MPI_COMM_WORLD, 1, &left, &w_in, 1, &right, &w_out,
				       MPI_INFO_NULL, 0, &dist);
	MPI_Comm_split(MPI_COMM_WORLD, rank % 2, rank, &half);
	MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, rank % 2 ? 0 : 1, 5, &inter);
	MPI_Comm_rank(inter, &ir);
	MPI_Comm_create_keyval(MPI_COMM_DUP_FN, MPI_COMM_NULL_DELETE_FN, &key, NULL);
	MPI_Comm_set_attr(cart, key, (void *)(long)(100 + rank));
	MPI_Datatype affine;
	MPI_Op op;
	MPI_Type_contiguous(2, MPI_INT, &affine);
	MPI_Type_commit(&affine);
	MPI_Op_create(compose, 0, &op);
	int hold = ra_watch_checkpoints() && getenv("RESTART_APP_GO");

	for (long s = 0; s < steps; s++) {
		int sb[2] = { rank * 1000 + (int)s, -rank }, rb[2] = { -1, -1 };
		int mine = rank + (int)s, got = -1, out = rank * 7 + (int)s, in = -1;
		int flag, src, dst, indeg, outdeg, weighted, sw, dw, nb_in, nb_out;
		void *v;

		if (hold && s == steps / 4)
			hold_at_step(argv[1], rank);
		MPI_Neighbor_alltoall(sb, 1, MPI_INT, rb, 1, MPI_INT, cart);
		MPI_Neighbor_allgather(&mine, 1, MPI_INT, &got, 1, MPI_INT, dist);
		MPI_Sendrecv(&out, 1, MPI_INT, ir, 9, &in, 1, MPI_INT, ir, 9, inter,
			     MPI_STATUS_IGNORE);
		MPI_Comm_get_attr(cart, key, &v, &flag);
		MPI_Cart_shift(cart, 0, 1, &src, &dst);
		MPI_Dist_graph_neighbors_count(dist, &indeg, &outdeg, &weighted);
		MPI_Dist_graph_neighbors(dist, 1, &nb_in, &sw, 1, &nb_out, &dw);
		int map[2] = { rank + 2, rank + (int)s }, all[2], pre[2];
		MPI_Allreduce(map, all, 1, affine, op, MPI_COMM_WORLD);
		MPI_Scan(map, pre, 1, affine, op, MPI_COMM_WORLD);
		fprintf(f, "%ld: cart %d %d, shift %d %d; dist %d from %d (w %d) to %d (w %d) "
			"deg %d %d %d; inter %d; attr %ld %d; op %d %d, %d %d\n", s, rb[0], rb[1],
			src, dst, got, nb_in, sw, nb_out, dw, indeg, outdeg, weighted, in, (long)v,
			flag, all[0], all[1], pre[0], pre[1]);
		fflush(f);
		ra_pause_ms(20);
	}
	fclose(f);
	printf("rank %d of %d done\n", rank, size);
	MPI_Finalize();
	return 0;
}
