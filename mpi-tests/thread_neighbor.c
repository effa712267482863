/*
 * thread_neighbor.c - MPI_THREAD_MULTIPLE: blocking neighbourhood
 * collectives of two threads on two topology communicators, entered in
 * crossed orders, must not wait for each other.
 *
 * The communicators: a distributed graph (each rank's in-neighbours are
 * the other rank, then itself; its out-neighbours itself, then the
 * other), a non-periodic 1-D Cartesian one (one real neighbour and one
 * MPI_PROC_NULL each) and a periodic one (the other rank is both
 * neighbours, where dmtcp_mpi's proxy exchanges the blocks itself).  On
 * all, receive block i comes from block 1 - i of its sender.  For each
 * collective (Neighbor_allgather, allgatherv, alltoall, alltoallv,
 * alltoallw), each pair (the graph, then the non-periodic one; the
 * periodic one, then the graph, without alltoallv and alltoallw, whose
 * blocks MPICH 4.0 pairs the other way round where one process is both
 * neighbours) and round, two threads per rank run it once on each communicator of
 * the pair: rank 0's first thread on the pair's first at once, rank 1's
 * first thread on the second at once; each rank's second thread runs the
 * other one, rank 1's only after a message from rank 0's second thread.
 * So rank 0 is inside the first communicator's collective while rank 1
 * is inside the second's, and each needs the other rank's second thread
 * to get into MPI: a collective that kept its rank's way into MPI (or
 * its proxy) while it waits hangs here.
 * Every received value is checked, and so are the gaps between blocks
 * and the blocks of MPI_PROC_NULL neighbours, which must keep their bytes.
 * Then the same crossing with MPI_Ineighbor_allgather(v) and MPI_Wait on
 * the periodic one and the graph: the start must not hold the way into
 * MPI either (allgathers only: Open MPI 4.1's Ineighbor_alltoall swaps
 * the blocks of a process that is both neighbours).
 *
 * Output: one line per collective and pair (rank 0).
 */
/* ranks: 2 */
#include "mt.h"

#include <pthread.h>

static pthread_mutex_t fail_mu = PTHREAD_MUTEX_INITIALIZER;
static int rank;

/* mt.h's records are not thread-safe. */
#define CHECK(cond, ...) do { if (!(cond)) { pthread_mutex_lock(&fail_mu); \
	mt_fail_at(__LINE__, __VA_ARGS__); pthread_mutex_unlock(&fail_mu); } } while (0)

enum kind { ALLGATHER, ALLGATHERV, ALLTOALL, ALLTOALLV, ALLTOALLW, NKINDS };
static const char *const names[NKINDS] = {
	"Neighbor_allgather", "Neighbor_allgatherv", "Neighbor_alltoall",
	"Neighbor_alltoallv", "Neighbor_alltoallw",
};

#define ROUNDS 3
#define SLOT 8          /* ints per block's place in a buffer */
#define UNTOUCHED (-7)  /* what a receive buffer holds where nothing lands */

static enum kind kind;
static int nonblocking;         /* MPI_Ineighbor_* and MPI_Wait */
static int round_no;
#define NCOMMS 3
static MPI_Comm comms[NCOMMS];  /* graph, non-periodic Cartesian, periodic one */
static int srcs[NCOMMS][2];     /* per communicator: in-neighbour i (or MPI_PROC_NULL) */
static int pair[2];             /* the two communicators the threads cross on */

/* Element e of the block that sender s sends as its block j on comm k. */
static int val(int s, int k, int j, int e)
{
	return 100000 * s + 10000 * k + 1000 * round_no + 100 * kind + 10 * j + e + 1;
}

/* How many elements sender s puts in its block j (the v variants). */
static int count_of(int s, int j)
{
	return 1 + s + 2 * j + round_no % 2;
}

/* Where block i of a v-variant buffer starts: in reverse order, a gap of
 * one element before each. */
static int displ_of(int i)
{
	return (1 - i) * SLOT + 1;
}

/* Sender s's block j: count elements.  The plain variants send as many
 * as both kinds agree on, the v ones count_of. */
static int block_count(int s, int j)
{
	return kind == ALLGATHER || kind == ALLTOALL ? 3 : count_of(s, j);
}

static int is_v(void)
{
	return kind != ALLGATHER && kind != ALLTOALL;
}

/* The nonblocking allgathers of run, then MPI_Wait. */
static int run_nonblocking(MPI_Comm comm, int *sbuf, int *rbuf, const int *rcnt,
			   const int *rdsp)
{
	MPI_Request r = MPI_REQUEST_NULL;
	int rc = kind == ALLGATHER
		 ? MPI_Ineighbor_allgather(sbuf, 3, MPI_INT, rbuf, 3, MPI_INT, comm, &r)
		 : MPI_Ineighbor_allgatherv(sbuf + displ_of(0), count_of(rank, 0), MPI_INT, rbuf,
					    rcnt, rdsp, MPI_INT, comm, &r);

	return rc == MPI_SUCCESS ? MPI_Wait(&r, MPI_STATUS_IGNORE) : rc;
}

/* Run the collective of this round on comm k with its buffers. */
static int run(int k, int *sbuf, int *rbuf)
{
	MPI_Comm comm = comms[k];
	int scnt[2], sdsp[2], rcnt[2], rdsp[2];
	MPI_Aint swd[2], rwd[2];
	MPI_Datatype types[2] = { MPI_INT, MPI_INT };

	for (int i = 0; i < 2; i++) {
		scnt[i] = count_of(rank, kind == ALLGATHERV ? 0 : i);
		sdsp[i] = displ_of(i);
		rcnt[i] = srcs[k][i] == MPI_PROC_NULL ? 0
			  : count_of(srcs[k][i], kind == ALLGATHERV ? 0 : 1 - i);
		rdsp[i] = displ_of(i);
		swd[i] = (MPI_Aint)sdsp[i] * (MPI_Aint)sizeof(int);
		rwd[i] = (MPI_Aint)rdsp[i] * (MPI_Aint)sizeof(int);
	}
	if (nonblocking)
		return run_nonblocking(comm, sbuf, rbuf, rcnt, rdsp);
	switch (kind) {
	case ALLGATHER:
		return MPI_Neighbor_allgather(sbuf, 3, MPI_INT, rbuf, 3, MPI_INT, comm);
	case ALLGATHERV:
		return MPI_Neighbor_allgatherv(sbuf + displ_of(0), scnt[0], MPI_INT, rbuf, rcnt,
					       rdsp, MPI_INT, comm);
	case ALLTOALL:
		return MPI_Neighbor_alltoall(sbuf, 3, MPI_INT, rbuf, 3, MPI_INT, comm);
	case ALLTOALLV:
		return MPI_Neighbor_alltoallv(sbuf, scnt, sdsp, MPI_INT, rbuf, rcnt, rdsp, MPI_INT,
					      comm);
	case ALLTOALLW:
		return MPI_Neighbor_alltoallw(sbuf, scnt, swd, types, rbuf, rcnt, rwd, types,
					      comm);
	default:
		return MPI_ERR_OTHER;
	}
}

/* Where block i of a buffer starts. */
static int block_at(int i)
{
	return is_v() ? displ_of(i) : i * 3;
}

/* One collective on comm k, checked. */
static void exchange(int k)
{
	int sbuf[2 * SLOT + 2], rbuf[2 * SLOT + 2];
	int n = (int)(sizeof(rbuf) / sizeof(rbuf[0]));

	for (int e = 0; e < n; e++)
		rbuf[e] = sbuf[e] = UNTOUCHED;
	for (int j = 0; j < 2; j++) {
		/* Allgather(v) sends one block: block 0 (at block 0's place). */
		int jj = kind == ALLGATHER || kind == ALLGATHERV ? 0 : j;
		for (int e = 0; e < block_count(rank, jj); e++)
			sbuf[block_at(jj) + e] = val(rank, k, jj, e);
	}
	int rc = run(k, sbuf, rbuf);
	CHECK(rc == MPI_SUCCESS, "%s on %d: error %d", names[kind], k, rc);
	int want[2 * SLOT + 2];
	for (int e = 0; e < n; e++)
		want[e] = UNTOUCHED;
	for (int i = 0; i < 2; i++) {
		int s = srcs[k][i];
		int j = kind == ALLGATHER || kind == ALLGATHERV ? 0 : 1 - i;
		if (s == MPI_PROC_NULL)
			continue;
		for (int e = 0; e < block_count(s, j); e++)
			want[block_at(i) + e] = val(s, k, j, e);
	}
	for (int e = 0; e < n; e++)
		CHECK(rbuf[e] == want[e], "%s on %d, round %d: rbuf[%d] = %d, expected %d",
		      names[kind], k, round_no, e, rbuf[e], want[e]);
}

/* Rank 0 runs on the pair's first communicator at once, rank 1 on its
 * second. */
static void *first(void *arg)
{
	(void)arg;
	exchange(pair[rank == 0 ? 0 : 1]);
	return NULL;
}

/* Rank 1 runs on the first only once rank 0's message came. */
static void *second(void *arg)
{
	int go = 1;

	(void)arg;
	if (rank == 0) {
		MPI_Send(&go, 1, MPI_INT, 1, 50, MPI_COMM_WORLD);
		exchange(pair[1]);
	} else {
		MPI_Recv(&go, 1, MPI_INT, 0, 50, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		exchange(pair[0]);
	}
	return NULL;
}

static void crossed(enum kind kd, int a, int b)
{
	static const char *const comm_names[NCOMMS] = { "graph", "line", "ring" };

	kind = kd;
	pair[0] = a;
	pair[1] = b;
	for (round_no = 0; round_no < ROUNDS; round_no++) {
		pthread_t ta, tb;
		pthread_create(&ta, NULL, first, NULL);
		pthread_create(&tb, NULL, second, NULL);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
	}
	mt_say("%s%s on %s and %s: %d rounds in crossed orders",
	       nonblocking ? "Ineighbor" : "Neighbor", names[kd] + strlen("Neighbor"),
	       comm_names[a], comm_names[b], ROUNDS);
}

static void make_comms(void)
{
	int other = 1 - rank, in[2] = { other, rank }, out[2] = { rank, other };
	int weights[2] = { 1, 1 }, dims[1] = { 2 }, open[1] = { 0 }, periodic[1] = { 1 };

	MPI_Dist_graph_create_adjacent(MPI_COMM_WORLD, 2, in, weights, 2, out, weights,
				       MPI_INFO_NULL, 0, &comms[0]);
	MPI_Cart_create(MPI_COMM_WORLD, 1, dims, open, 0, &comms[1]);
	MPI_Cart_create(MPI_COMM_WORLD, 1, dims, periodic, 0, &comms[2]);
	srcs[0][0] = other;
	srcs[0][1] = rank;
	for (int c = 1; c < NCOMMS; c++)
		MPI_Cart_shift(comms[c], 0, 1, &srcs[c][0], &srcs[c][1]);
}

int main(int argc, char **argv)
{
	int provided = -1, size = 0;

	MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
	mt_begin("thread_neighbor");
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	MT_EQ(provided, MPI_THREAD_MULTIPLE, "provided");
	MT_EQ(size, 2, "ranks");
	if (size == 2 && provided == MPI_THREAD_MULTIPLE) {
		make_comms();
		for (enum kind k = 0; k < NKINDS; k++)
			crossed(k, 0, 1);
		for (enum kind k = 0; k < ALLTOALLV; k++)
			crossed(k, 2, 0);
		nonblocking = 1;
		for (enum kind k = 0; k < ALLTOALL; k++)
			crossed(k, 2, 0);
		for (int c = 0; c < NCOMMS; c++)
			MPI_Comm_free(&comms[c]);
	}
	return mt_finish();
}
