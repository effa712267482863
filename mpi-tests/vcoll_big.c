/*
 * vcoll_big.c - the large-count v and w collectives (shim/vwbig.c) with
 * small buffers: the program sets DMTCP_MPI_TEST_REDUCE_CHUNK=100, so
 * dmtcp_mpi makes a type for every block of more than 100 elements or
 * at more than 100 bytes, as it does for those beyond INT_MAX; a native
 * MPI ignores it.  Blocks of 7 or 9 elements near the start of their
 * buffers stay within the limit, so calls mix both kinds of blocks.
 *
 * Gatherv_c and Scatterv_c at each root (MPI_IN_PLACE too), Allgatherv_c
 * (and in place), Alltoallv_c (and in place), Alltoallw_c with a
 * datatype per peer, Igatherv_c, Ialltoallv_c, Iallgatherv_c, the
 * persistent Alltoallv_init_c (new contents at each start) and
 * Gatherv_init_c (in place), counts and displacements beyond INT_MAX
 * for real (of a type of no bytes), Neighbor_alltoallv_c and Ineighbor_alltoallw_c on a distributed graph,
 * and Gatherv_c, Scatterv_c, Allgatherv_c on an intercommunicator.  Receive datatypes have holes
 * (an int every 8 bytes): every hole and every byte outside the blocks
 * must keep its sentinel.  Every expected buffer is computed here from
 * the pattern sent, never from what the MPI did.
 *
 * Open MPI 4.1 has no _c function: there the checks are skipped and the
 * same lines printed, so the native outputs agree; through dmtcp_mpi
 * the calls exist under both MPIs and must pass.
 */
/* ranks: 2 */
#include "mt.h"

#define LEN 4096        /* ints in each buffer */
#define HOLE (-7)

static int me, np;

#if MPI_VERSION >= 4
static MPI_Datatype gap;        /* one int in 8 bytes */
static int sbuf[LEN], rbuf[LEN], want[LEN];

/* Element k of the block src sends to dst. */
static int val(int src, int dst, int k)
{
	return src * 1000000 + dst * 10000 + k;
}

/* Elements src sends to dst: a short block to itself, long ones across. */
static int cnt(int src, int dst)
{
	return src == dst ? 7 : 150 + 31 * src + 13 * dst;
}

/* The same count both ways, as an in-place Alltoallv needs. */
static int sym(int src, int dst)
{
	return src == dst ? 7 : 190;
}

/* Where (in elements of its datatype) the block of peer q lies: peer 0's
 * near the start (within the limit for the gap type), the others far. */
static MPI_Aint at(int q)
{
	return q == 0 ? 3 : 50 + 700 * (MPI_Aint)q;
}

static void fill(int *v, int x)
{
	for (int i = 0; i < LEN; i++)
		v[i] = x;
}

/* n elements from src to dst, into v from int index first, every step ints. */
static void put(int *v, MPI_Aint first, int step, int n, int src, int dst)
{
	for (int k = 0; k < n; k++)
		v[first + (MPI_Aint)step * k] = val(src, dst, k);
}

static void check(const int *got, const char *what)
{
	for (int i = 0; i < LEN; i++)
		if (got[i] != want[i]) {
			MT_FAIL("%s: int %d: got %d, expected %d", what, i, got[i], want[i]);
			return;
		}
}

static void wait_if(MPI_Request *req)
{
	if (req)
		MPI_Wait(req, MPI_STATUS_IGNORE);
}

/* Gatherv_c at root into the gap type; in place: root's own block is there. */
static void gatherv(int root, int in_place, int nb)
{
	MPI_Count counts[2];
	MPI_Aint displs[2];
	MPI_Request req, *r = nb ? &req : NULL;

	fill(sbuf, HOLE);
	fill(rbuf, HOLE);
	fill(want, HOLE);
	put(sbuf, 0, 1, cnt(me, root), me, root);
	for (int q = 0; q < np; q++) {
		counts[q] = cnt(q, root);
		displs[q] = at(q);
		put(want, 2 * at(q), 2, cnt(q, root), q, root);
	}
	const void *sb = sbuf;
	if (in_place && me == root) {
		put(rbuf, 2 * at(me), 2, cnt(me, root), me, root);
		sb = MPI_IN_PLACE;
	}
	if (nb)
		MPI_Igatherv_c(sb, cnt(me, root), MPI_INT, rbuf, counts, displs, gap, root,
			       MPI_COMM_WORLD, r);
	else
		MPI_Gatherv_c(sb, cnt(me, root), MPI_INT, rbuf, counts, displs, gap, root,
			      MPI_COMM_WORLD);
	wait_if(r);
	if (me != root)
		fill(want, HOLE);
	check(rbuf, nb ? "Igatherv_c" : in_place ? "Gatherv_c in place" : "Gatherv_c");
}

/* Scatterv_c from the gap type at root into ints. */
static void scatterv(int root, int in_place)
{
	MPI_Count counts[2];
	MPI_Aint displs[2];

	fill(sbuf, HOLE);
	fill(rbuf, HOLE);
	fill(want, HOLE);
	for (int q = 0; q < np; q++) {
		counts[q] = cnt(root, q);
		displs[q] = at(q);
		put(sbuf, 2 * at(q), 2, cnt(root, q), root, q);
	}
	void *rb = in_place && me == root ? MPI_IN_PLACE : rbuf;
	MPI_Scatterv_c(sbuf, counts, displs, gap, rb, cnt(root, me), MPI_INT, root,
		       MPI_COMM_WORLD);
	if (!(in_place && me == root))
		put(want, 0, 1, cnt(root, me), root, me);
	check(rbuf, in_place ? "Scatterv_c in place" : "Scatterv_c");
}

/* Allgatherv_c into the gap type: rank q's block is cnt(q, q + 1). */
static void allgatherv(int in_place, int nb)
{
	MPI_Count counts[2];
	MPI_Aint displs[2];
	MPI_Request req, *r = nb ? &req : NULL;
	int mine = cnt(me, (me + 1) % np);

	fill(sbuf, HOLE);
	fill(rbuf, HOLE);
	fill(want, HOLE);
	put(sbuf, 0, 1, mine, me, 0);
	for (int q = 0; q < np; q++) {
		counts[q] = cnt(q, (q + 1) % np);
		displs[q] = at(q);
		put(want, 2 * at(q), 2, (int)counts[q], q, 0);
	}
	const void *sb = sbuf;
	if (in_place) {
		put(rbuf, 2 * at(me), 2, mine, me, 0);
		sb = MPI_IN_PLACE;
	}
	if (nb)
		MPI_Iallgatherv_c(sb, mine, MPI_INT, rbuf, counts, displs, gap, MPI_COMM_WORLD,
				  r);
	else
		MPI_Allgatherv_c(sb, mine, MPI_INT, rbuf, counts, displs, gap, MPI_COMM_WORLD);
	wait_if(r);
	check(rbuf, nb ? "Iallgatherv_c" : in_place ? "Allgatherv_c in place" : "Allgatherv_c");
}

/* Alltoallv_c from ints (block j at int 1 + 400 j) into the gap type. */
static void alltoallv(int nb)
{
	MPI_Count sc[2], rc[2];
	MPI_Aint sd[2], rd[2];
	MPI_Request req, *r = nb ? &req : NULL;

	fill(sbuf, HOLE);
	fill(rbuf, HOLE);
	fill(want, HOLE);
	for (int j = 0; j < np; j++) {
		sc[j] = cnt(me, j);
		sd[j] = 1 + 400 * j;
		put(sbuf, sd[j], 1, cnt(me, j), me, j);
		rc[j] = cnt(j, me);
		rd[j] = at(j);
		put(want, 2 * at(j), 2, cnt(j, me), j, me);
	}
	if (nb)
		MPI_Ialltoallv_c(sbuf, sc, sd, MPI_INT, rbuf, rc, rd, gap, MPI_COMM_WORLD, r);
	else
		MPI_Alltoallv_c(sbuf, sc, sd, MPI_INT, rbuf, rc, rd, gap, MPI_COMM_WORLD);
	wait_if(r);
	check(rbuf, nb ? "Ialltoallv_c" : "Alltoallv_c");
}

static void alltoallv_in_place(void)
{
	MPI_Count c[2];
	MPI_Aint d[2];

	fill(rbuf, HOLE);
	fill(want, HOLE);
	for (int j = 0; j < np; j++) {
		c[j] = sym(me, j);
		d[j] = at(j);
		put(rbuf, 2 * at(j), 2, sym(me, j), me, j);
		put(want, 2 * at(j), 2, sym(j, me), j, me);
	}
	MPI_Alltoallv_c(MPI_IN_PLACE, NULL, NULL, MPI_INT, rbuf, c, d, gap, MPI_COMM_WORLD);
	check(rbuf, "Alltoallv_c in place");
}

/* The int MPI_Alltoallw in place with the blocks an in-place
 * Alltoallv_c above makes under a limit of 100: 7 ints of the gap type
 * at byte 24 (rank 0's own) and structs of 190 at bytes 24 and 6000.
 * MPICH 4.0.2's in-place MPI_Ialltoallw loses the block at 6000. */
static void alltoallw_in_place(void)
{
	int c[2], d[2];
	MPI_Datatype t[2];

	fill(rbuf, HOLE);
	fill(want, HOLE);
	for (int j = 0; j < np; j++) {
		int n = sym(me, j);
		MPI_Aint at_byte = at(j) * 2 * (MPI_Aint)sizeof(int);
		put(rbuf, 2 * at(j), 2, n, me, j);
		put(want, 2 * at(j), 2, sym(j, me), j, me);
		if (n <= 100 && at_byte <= 100) {
			c[j] = n;
			d[j] = (int)at_byte;
			t[j] = gap;
			continue;
		}
		MPI_Type_create_struct(1, &n, &at_byte, &gap, &t[j]);
		MPI_Type_commit(&t[j]);
		c[j] = 1;
		d[j] = 0;
	}
	MPI_Alltoallw(MPI_IN_PLACE, NULL, NULL, NULL, rbuf, c, d, t, MPI_COMM_WORLD);
	check(rbuf, "Alltoallw in place");
	for (int j = 0; j < np; j++)
		if (t[j] != gap)
			MPI_Type_free(&t[j]);
}

/* Alltoallw_c: to peer j as ints (j even) or the gap type (j odd), from
 * peer j into the gap type (j even) or ints (j odd); byte displacements. */
static void alltoallw(void)
{
	MPI_Count sc[2], rc[2];
	MPI_Aint sd[2], rd[2];
	MPI_Datatype st[2], rt[2];

	fill(sbuf, HOLE);
	fill(rbuf, HOLE);
	fill(want, HOLE);
	for (int j = 0; j < np; j++) {
		int odd = j % 2, s0 = 2 + 1500 * j, r0 = 4 + 1500 * j;
		sc[j] = cnt(me, j);
		sd[j] = s0 * (MPI_Aint)sizeof(int);
		st[j] = odd ? gap : MPI_INT;
		put(sbuf, s0, odd ? 2 : 1, cnt(me, j), me, j);
		rc[j] = cnt(j, me);
		rd[j] = r0 * (MPI_Aint)sizeof(int);
		rt[j] = odd ? MPI_INT : gap;
		put(want, r0, odd ? 1 : 2, cnt(j, me), j, me);
	}
	MPI_Alltoallw_c(sbuf, sc, sd, st, rbuf, rc, rd, rt, MPI_COMM_WORLD);
	check(rbuf, "Alltoallw_c");
}

/* Alltoallv_init_c, started twice with new contents, then
 * Gatherv_init_c at root 1 in place. */
static void persistent(void)
{
	MPI_Count sc[2], rc[2], gc[2];
	MPI_Aint sd[2], rd[2], gd[2];
	MPI_Request req;

	for (int j = 0; j < np; j++) {
		sc[j] = cnt(me, j);
		sd[j] = 1 + 400 * j;
		rc[j] = cnt(j, me);
		rd[j] = at(j);
	}
	MPI_Alltoallv_init_c(sbuf, sc, sd, MPI_INT, rbuf, rc, rd, gap, MPI_COMM_WORLD,
			     MPI_INFO_NULL, &req);
	for (int round = 0; round < 2; round++) {
		fill(sbuf, HOLE);
		fill(rbuf, HOLE);
		fill(want, HOLE);
		for (int j = 0; j < np; j++) {
			put(sbuf, sd[j], 1, cnt(me, j), me + round, j);
			put(want, 2 * at(j), 2, cnt(j, me), j + round, me);
		}
		MPI_Start(&req);
		MPI_Wait(&req, MPI_STATUS_IGNORE);
		check(rbuf, round ? "Alltoallv_init_c, second start" : "Alltoallv_init_c");
	}
	MPI_Request_free(&req);
	for (int q = 0; q < np; q++) {
		gc[q] = cnt(q, 1);
		gd[q] = at(q);
	}
	MPI_Gatherv_init_c(me == 1 ? MPI_IN_PLACE : sbuf, cnt(me, 1), MPI_INT, rbuf, gc, gd,
			   gap, 1, MPI_COMM_WORLD, MPI_INFO_NULL, &req);
	fill(sbuf, HOLE);
	fill(rbuf, HOLE);
	fill(want, HOLE);
	put(me == 1 ? rbuf : sbuf, me == 1 ? 2 * at(1) : 0, me == 1 ? 2 : 1, cnt(me, 1), me, 1);
	if (me == 1)
		for (int q = 0; q < np; q++)
			put(want, 2 * at(q), 2, cnt(q, 1), q, 1);
	MPI_Start(&req);
	MPI_Wait(&req, MPI_STATUS_IGNORE);
	MPI_Request_free(&req);
	check(rbuf, "Gatherv_init_c in place");
}

/* Blocks beyond INT_MAX for real, of a type of no bytes and extent 4:
 * 2^31 + 3 elements at 2^31 and more elements; no byte moves, so every
 * buffer keeps its sentinels. */
static void empty_blocks(void)
{
	MPI_Datatype empty, wide;
	MPI_Count big = ((MPI_Count)1 << 31) + 3, c[2] = { big, big }, c2[2] = { big, 5 };
	MPI_Aint d[2] = { 0, (MPI_Aint)1 << 31 }, sd[2] = { (MPI_Aint)1 << 32, 0 };
	MPI_Aint rd[2] = { (MPI_Aint)3 << 31, 0 };

	MPI_Type_contiguous(0, MPI_INT, &empty);
	MPI_Type_create_resized(empty, 0, 4, &wide);
	MPI_Type_commit(&wide);
	fill(sbuf, HOLE);
	fill(rbuf, HOLE);
	fill(want, HOLE);
	MT_EQ(MPI_Gatherv_c(sbuf, big, wide, rbuf, c, d, wide, 0, MPI_COMM_WORLD), MPI_SUCCESS,
	      "Gatherv_c of 2^31 + 3 empty elements");
	MT_EQ(MPI_Alltoallv_c(sbuf, c2, sd, wide, rbuf, c2, rd, wide, MPI_COMM_WORLD),
	      MPI_SUCCESS, "Alltoallv_c of 2^31 + 3 empty elements");
	check(rbuf, "empty blocks beyond INT_MAX");
	check(sbuf, "empty blocks beyond INT_MAX, send buffer");
	MPI_Type_free(&wide);
	MPI_Type_free(&empty);
}

/* Each rank's one neighbour both ways is the other rank. */
static void neighbors(MPI_Comm graph)
{
	int other = 1 - me;
	MPI_Count sc[1] = { cnt(me, other) }, rc[1] = { cnt(other, me) };
	MPI_Aint sd[1] = { 5 }, rd[1] = { at(other) };
	MPI_Datatype st[1] = { MPI_INT }, rt[1] = { gap };
	MPI_Request req;

	fill(sbuf, HOLE);
	fill(rbuf, HOLE);
	fill(want, HOLE);
	put(sbuf, 5, 1, cnt(me, other), me, other);
	put(want, 2 * at(other), 2, cnt(other, me), other, me);
	MPI_Neighbor_alltoallv_c(sbuf, sc, sd, MPI_INT, rbuf, rc, rd, gap, graph);
	check(rbuf, "Neighbor_alltoallv_c");
	fill(rbuf, HOLE);
	sd[0] *= (MPI_Aint)sizeof(int);
	rd[0] *= 2 * (MPI_Aint)sizeof(int);
	MPI_Ineighbor_alltoallw_c(sbuf, sc, sd, st, rbuf, rc, rd, rt, graph, &req);
	MPI_Wait(&req, MPI_STATUS_IGNORE);
	check(rbuf, "Ineighbor_alltoallw_c");
}

/* Gatherv_c between two single-rank groups (world rank 0 is the root),
 * Scatterv_c, Allgatherv_c. */
static void inter(MPI_Comm ic)
{
	MPI_Count counts[1] = { cnt(1, 0) };
	MPI_Aint displs[1] = { at(1) };

	fill(sbuf, HOLE);
	fill(rbuf, HOLE);
	fill(want, HOLE);
	put(sbuf, 0, 1, cnt(1, 0), 1, 0);
	if (me == 0)
		put(want, 2 * at(1), 2, cnt(1, 0), 1, 0);
	MPI_Gatherv_c(sbuf, cnt(1, 0), MPI_INT, rbuf, counts, displs, gap,
		      me == 0 ? MPI_ROOT : 0, ic);
	check(rbuf, "Gatherv_c on an intercommunicator");

	/* Scatterv_c from world rank 0's gap type, then Allgatherv_c: each
	 * rank's block to the other group. */
	fill(sbuf, HOLE);
	fill(rbuf, HOLE);
	fill(want, HOLE);
	counts[0] = cnt(0, 1);
	put(sbuf, 2 * at(1), 2, cnt(0, 1), 0, 1);
	if (me == 1)
		put(want, 0, 1, cnt(0, 1), 0, 1);
	MPI_Scatterv_c(sbuf, counts, displs, gap, rbuf, cnt(0, 1), MPI_INT,
		       me == 0 ? MPI_ROOT : 0, ic);
	check(rbuf, "Scatterv_c on an intercommunicator");
	fill(sbuf, HOLE);
	fill(rbuf, HOLE);
	fill(want, HOLE);
	counts[0] = cnt(1 - me, me);
	put(sbuf, 0, 1, cnt(me, 1 - me), me, 1 - me);
	put(want, 2 * at(1), 2, cnt(1 - me, me), 1 - me, me);
	MPI_Allgatherv_c(sbuf, cnt(me, 1 - me), MPI_INT, rbuf, counts, displs, gap, ic);
	check(rbuf, "Allgatherv_c on an intercommunicator");
}
#endif

int main(int argc, char **argv)
{
	/* Only dmtcp_mpi reads it: blocks beyond 100 elements or bytes. */
	setenv("DMTCP_MPI_TEST_REDUCE_CHUNK", "100", 1);
	MPI_Init(&argc, &argv);
	mt_begin("vcoll_big");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &np);
	if (np != 2) {
		mt_say("needs 2 ranks");
		return mt_finish();
	}
#if MPI_VERSION >= 4
	MPI_Type_create_resized(MPI_INT, 0, 2 * sizeof(int), &gap);
	MPI_Type_commit(&gap);
	for (int root = 0; root < np; root++) {
		gatherv(root, 0, 0);
		gatherv(root, 1, 0);
		scatterv(root, 0);
		scatterv(root, 1);
	}
#endif
	mt_say("Gatherv_c and Scatterv_c at each root, in place too");
#if MPI_VERSION >= 4
	allgatherv(0, 0);
	allgatherv(1, 0);
	alltoallv(0);
	alltoallv_in_place();
	alltoallw();
	alltoallw_in_place();
#endif
	mt_say("Allgatherv_c, Alltoallv_c (in place too), Alltoallw_c; Alltoallw in place");
#if MPI_VERSION >= 4
	gatherv(1, 0, 1);
	allgatherv(0, 1);
	alltoallv(1);
#endif
	mt_say("Igatherv_c, Iallgatherv_c, Ialltoallv_c");
#if MPI_VERSION >= 4
	persistent();
	empty_blocks();
#endif
	mt_say("Alltoallv_init_c started twice, Gatherv_init_c in place; 2^31 + 3 empty "
	       "elements at displacements beyond INT_MAX");
#if MPI_VERSION >= 4
	MPI_Comm graph, half, ic;
	int other = 1 - me, weight = 1;
	MPI_Dist_graph_create_adjacent(MPI_COMM_WORLD, 1, &other, &weight, 1, &other, &weight,
				       MPI_INFO_NULL, 0, &graph);
	neighbors(graph);
	MPI_Comm_free(&graph);
	MPI_Comm_split(MPI_COMM_WORLD, me, 0, &half);
	MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, other, 7, &ic);
	inter(ic);
	MPI_Comm_free(&ic);
	MPI_Comm_free(&half);
	MPI_Type_free(&gap);
#endif
	mt_say("Neighbor_alltoallv_c, Ineighbor_alltoallw_c; Gatherv_c, Scatterv_c, "
	       "Allgatherv_c on an intercommunicator");
	return mt_finish();
}
