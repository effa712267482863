/*
 * topo_allocmem.c - neighbourhood collectives from and into MPI_Alloc_mem
 * memory, which dmtcp_mpi hands to the real MPI in place instead of
 * staging it (shim/neighbor.c, shim/mem.c): Neighbor_alltoall on a
 * periodic Cartesian communicator whose two neighbours are one process,
 * the receive block of an MPI_PROC_NULL neighbour (it must keep its
 * values), alltoallv into a vector type (its holes must keep theirs),
 * Ineighbor_allgather completed by Wait, alltoallw at MPI_BOTTOM with
 * absolute addresses inside a block, and a send in place with a receive
 * into plain heap memory (staged as usual).  Every value is computed here.
 */
/* ranks: 2 */
#include "mt.h"

static int me, other;
static MPI_Comm ring, line, graph;  /* periodic cart, non-periodic cart, dist graph */

/* Element e of the block that rank s sends as its block j in test t. */
static int val(int t, int s, int j, int e)
{
	return t * 1000003 + s * 100003 + j * 50021 + e * 7 + 1;
}

static void *alloc(MPI_Aint bytes)
{
	void *p = NULL;

	if (MPI_Alloc_mem(bytes, MPI_INFO_NULL, &p) != MPI_SUCCESS || !p)
		MT_FAIL("MPI_Alloc_mem(%ld) failed", (long)bytes);
	return p;
}

/* 1 MiB per block each way to the same process on both sides of a
 * periodic dimension of 2: receive block i is the other's block 1 - i. */
static void test_ring(void)
{
	enum { N = 1 << 18 };
	int *s = alloc(2 * N * sizeof(int)), *r = alloc(2 * N * sizeof(int)), bad = 0;

	for (int j = 0; j < 2; j++)
		for (int e = 0; e < N; e++) {
			s[j * N + e] = val(1, me, j, e);
			r[j * N + e] = -1;
		}
	MPI_Neighbor_alltoall(s, N, MPI_INT, r, N, MPI_INT, ring);
	for (int i = 0; i < 2; i++)
		for (int e = 0; e < N; e++)
			bad += r[i * N + e] != val(1, other, 1 - i, e);
	MT_EQ(bad, 0, "periodic Cartesian alltoall: wrong ints");
	MPI_Free_mem(s);
	MPI_Free_mem(r);
	mt_say("periodic Cartesian Neighbor_alltoall: ok");
}

/* Non-periodic: one neighbour is MPI_PROC_NULL, whose receive block
 * keeps what it held; the other's arrives. */
static void test_line(void)
{
	enum { N = 100 };
	int *s = alloc(2 * N * sizeof(int)), *r = alloc(2 * N * sizeof(int));
	int lo, hi, bad = 0;

	MPI_Cart_shift(line, 0, 1, &lo, &hi);
	for (int j = 0; j < 2; j++)
		for (int e = 0; e < N; e++) {
			s[j * N + e] = val(2, me, j, e);
			r[j * N + e] = -5;
		}
	MPI_Neighbor_alltoall(s, N, MPI_INT, r, N, MPI_INT, line);
	for (int i = 0; i < 2; i++) {
		int from = i == 0 ? lo : hi;
		for (int e = 0; e < N; e++)
			bad += r[i * N + e] != (from == MPI_PROC_NULL ? -5 : val(2, from, 1 - i, e));
	}
	MT_EQ(bad, 0, "non-periodic Cartesian alltoall: wrong ints");
	MPI_Free_mem(s);
	MPI_Free_mem(r);
	mt_say("non-periodic Cartesian Neighbor_alltoall: ok");
}

/* Dist graph (in: other, self; out: self, other, so receive block i is
 * block 1 - i of its sender): alltoallv of ints into every other int of
 * the receive buffer; the ints between keep their values. */
static void test_vector(void)
{
	enum { N = 300 };
	int *s = alloc(2 * N * sizeof(int)), *r = alloc(4 * N * sizeof(int));
	int scnt[2] = { N, N }, sdsp[2] = { 0, N }, rcnt[2] = { 1, 1 }, rdsp[2] = { 0, 1 };
	int bad = 0;
	MPI_Datatype every2, spaced;

	MPI_Type_vector(N, 1, 2, MPI_INT, &every2);
	MPI_Type_create_resized(every2, 0, (MPI_Aint)(2 * N * sizeof(int)), &spaced);
	MPI_Type_commit(&spaced);
	for (int j = 0; j < 2; j++)
		for (int e = 0; e < N; e++)
			s[j * N + e] = val(3, me, j, e);
	for (int k = 0; k < 4 * N; k++)
		r[k] = -3 - k;
	MPI_Neighbor_alltoallv(s, scnt, sdsp, MPI_INT, r, rcnt, rdsp, spaced, graph);
	for (int i = 0; i < 2; i++) {
		int from = i == 0 ? other : me;
		for (int e = 0; e < N; e++) {
			int at = i * 2 * N + 2 * e;
			bad += r[at] != val(3, from, 1 - i, e);
			bad += r[at + 1] != -3 - (at + 1);
		}
	}
	MT_EQ(bad, 0, "alltoallv into a vector: wrong ints");
	MPI_Type_free(&spaced);
	MPI_Type_free(&every2);
	MPI_Free_mem(s);
	MPI_Free_mem(r);
	mt_say("Neighbor_alltoallv into a vector type: ok");
}

/* Ineighbor_allgather: receive block 0 from the other, 1 from ourselves;
 * the send buffer is overwritten only after the Wait. */
static void test_nonblocking(void)
{
	enum { N = 5000 };
	int *s = alloc(N * sizeof(int)), *r = alloc(2 * N * sizeof(int)), bad = 0;
	MPI_Request q;

	for (int e = 0; e < N; e++)
		s[e] = val(4, me, 0, e);
	for (int k = 0; k < 2 * N; k++)
		r[k] = -1;
	MPI_Ineighbor_allgather(s, N, MPI_INT, r, N, MPI_INT, graph, &q);
	MPI_Wait(&q, MPI_STATUS_IGNORE);
	for (int e = 0; e < N; e++) {
		bad += r[e] != val(4, other, 0, e);
		bad += r[N + e] != val(4, me, 0, e);
		s[e] = -9;
	}
	MT_EQ(bad, 0, "Ineighbor_allgather: wrong ints");
	MPI_Free_mem(s);
	MPI_Free_mem(r);
	mt_say("Ineighbor_allgather: ok");
}

/* alltoallw at MPI_BOTTOM: byte displacements are the absolute addresses
 * of blocks inside one Alloc_mem block each way. */
static void test_bottom(void)
{
	enum { N = 64 };
	int *s = alloc(2 * N * sizeof(int)), *r = alloc(3 * N * sizeof(int)), bad = 0;
	int cnt[2] = { N, N };
	MPI_Aint sd[2], rd[2];
	MPI_Datatype t[2] = { MPI_INT, MPI_INT };

	for (int j = 0; j < 2; j++) {
		for (int e = 0; e < N; e++)
			s[j * N + e] = val(5, me, j, e);
		MPI_Get_address(s + j * N, &sd[j]);
	}
	for (int k = 0; k < 3 * N; k++)
		r[k] = -2;
	/* block 0 at the end, block 1 at the start, a gap between */
	MPI_Get_address(r + 2 * N, &rd[0]);
	MPI_Get_address(r, &rd[1]);
	MPI_Neighbor_alltoallw(MPI_BOTTOM, cnt, sd, t, MPI_BOTTOM, cnt, rd, t, graph);
	for (int e = 0; e < N; e++) {
		bad += r[2 * N + e] != val(5, other, 1, e);
		bad += r[e] != val(5, me, 0, e);
		bad += r[N + e] != -2;
	}
	MT_EQ(bad, 0, "alltoallw at MPI_BOTTOM: wrong ints");
	MPI_Free_mem(s);
	MPI_Free_mem(r);
	mt_say("Neighbor_alltoallw at MPI_BOTTOM: ok");
}

/* The send buffer is inside a block (in place), the receive buffer is
 * not (staged): each side decides alone. */
static void test_mixed(void)
{
	enum { N = 32 };
	int *s = alloc(2 * N * sizeof(int)), bad = 0;
	int *heap = malloc(2 * N * sizeof(int));

	for (int j = 0; j < 2; j++)
		for (int e = 0; e < N; e++)
			s[j * N + e] = val(6, me, j, e);
	for (int k = 0; k < 2 * N; k++)
		heap[k] = -1;
	MPI_Neighbor_alltoall(s, N, MPI_INT, heap, N, MPI_INT, graph);
	for (int e = 0; e < N; e++) {
		bad += heap[e] != val(6, other, 1, e);
		bad += heap[N + e] != val(6, me, 0, e);
	}
	MT_EQ(bad, 0, "heap receive from Alloc_mem send: wrong ints");
	free(heap);
	MPI_Free_mem(s);
	mt_say("send in place, receive staged: ok");
}

static void make_comms(void)
{
	int in[2] = { other, me }, out[2] = { me, other }, w[2] = { 1, 1 };
	int dims[1] = { 2 }, periodic[1] = { 1 }, open[1] = { 0 };

	MPI_Cart_create(MPI_COMM_WORLD, 1, dims, periodic, 0, &ring);
	MPI_Cart_create(MPI_COMM_WORLD, 1, dims, open, 0, &line);
	MPI_Dist_graph_create_adjacent(MPI_COMM_WORLD, 2, in, w, 2, out, w, MPI_INFO_NULL, 0,
				       &graph);
}

int main(int argc, char **argv)
{
	int size = 0;

	MPI_Init(&argc, &argv);
	mt_begin("topo_allocmem");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	MT_EQ(size, 2, "ranks");
	if (size == 2) {
		other = 1 - me;
		make_comms();
		test_ring();
		test_line();
		test_vector();
		test_nonblocking();
		test_bottom();
		test_mixed();
		MPI_Comm_free(&graph);
		MPI_Comm_free(&line);
		MPI_Comm_free(&ring);
	}
	return mt_finish();
}
