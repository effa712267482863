/*
 * type_halo.c - the halo exchange of a 2-D domain decomposition, done
 * with subarray datatypes the way stencil codes do it: a 2 x 2 process
 * grid, each rank owning NX x NY interior points of a global field plus
 * one ghost layer all around.  Four subarrays describe the interior rows
 * and columns next to each edge and four the ghost rows and columns;
 * Sendrecv swaps them with the neighbours (MPI_PROC_NULL at the domain
 * boundary, so those ghosts keep their marker).  A second round does the
 * same with Isend/Irecv/Waitall and vector types for the columns, a third
 * with one MPI_Neighbor_alltoallw on a Cartesian communicator, the
 * subarrays as send and receive types, and a fourth with a darray
 * describing each rank's block of the global field (packed and compared
 * with the block).  Corner ghosts are never sent.
 * Every ghost cell is checked against the global field's formula.
 */
/* ranks: 4 */
#include "mt.h"

#define NX 5   /* interior rows per rank */
#define NY 7   /* interior columns per rank */
#define PX 2
#define PY 2
#define MARK -1.0

static int me, cx, cy;
static double f[NX + 2][NY + 2];

/* The global field at global row gi, column gj. */
static double field(int gi, int gj)
{
	return gi * 1000.0 + gj;
}

static int rank_of(int x, int y)
{
	if (x < 0 || x >= PX || y < 0 || y >= PY)
		return MPI_PROC_NULL;
	return x * PY + y;
}

static void init(void)
{
	for (int i = 0; i < NX + 2; i++)
		for (int j = 0; j < NY + 2; j++)
			f[i][j] = MARK;
	for (int i = 1; i <= NX; i++)
		for (int j = 1; j <= NY; j++)
			f[i][j] = field(cx * NX + i - 1, cy * NY + j - 1);
}

/* Check every ghost: the neighbour's value, or the marker at the
 * boundary and in the corners. */
static void check_ghosts(const char *what)
{
	for (int i = 0; i < NX + 2; i++) {
		for (int j = 0; j < NY + 2; j++) {
			int edge_i = i == 0 || i == NX + 1, edge_j = j == 0 || j == NY + 1;
			if (!edge_i && !edge_j)
				continue;
			int gi = cx * NX + i - 1, gj = cy * NY + j - 1;
			int inside = gi >= 0 && gi < PX * NX && gj >= 0 && gj < PY * NY;
			double want = edge_i && edge_j ? MARK : inside ? field(gi, gj) : MARK;
			if (f[i][j] != want) {
				MT_FAIL("%s: ghost (%d,%d) is %g, expected %g", what, i, j, f[i][j],
					want);
				return;
			}
		}
	}
}

static uint64_t ghost_hash(void)
{
	uint64_t h = MT_HASH_INIT;

	for (int i = 0; i < NX + 2; i++)
		for (int j = 0; j < NY + 2; j++)
			if (i == 0 || i == NX + 1 || j == 0 || j == NY + 1)
				h = mt_hash(h, &f[i][j], sizeof(double));
	return h;
}

static void show(const char *what)
{
	uint64_t h = ghost_hash(), all[4];

	MPI_Gather(&h, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
	mt_say("%s: %016llx %016llx %016llx %016llx", what, (unsigned long long)all[0],
	       (unsigned long long)all[1], (unsigned long long)all[2],
	       (unsigned long long)all[3]);
}

static MPI_Datatype box(int r0, int c0, int nr, int nc)
{
	int sizes[2] = { NX + 2, NY + 2 }, sub[2] = { nr, nc }, st[2] = { r0, c0 };
	MPI_Datatype t;

	MPI_Type_create_subarray(2, sizes, sub, st, MPI_ORDER_C, MPI_DOUBLE, &t);
	MPI_Type_commit(&t);
	return t;
}

/* Directions: 0 up (x-1), 1 down (x+1), 2 left (y-1), 3 right (y+1). */
static const int dx[4] = { -1, 1, 0, 0 }, dy[4] = { 0, 0, -1, 1 };

static void test_subarray_sendrecv(void)
{
	MPI_Datatype send[4], recv[4];

	send[0] = box(1, 1, 1, NY);
	send[1] = box(NX, 1, 1, NY);
	send[2] = box(1, 1, NX, 1);
	send[3] = box(1, NY, NX, 1);
	recv[0] = box(0, 1, 1, NY);
	recv[1] = box(NX + 1, 1, 1, NY);
	recv[2] = box(1, 0, NX, 1);
	recv[3] = box(1, NY + 1, NX, 1);
	init();
	/* What goes up comes from below: direction d sends to d's neighbour
	 * and receives from the opposite one into the opposite ghosts. */
	for (int d = 0; d < 4; d++) {
		int to = rank_of(cx + dx[d], cy + dy[d]), from = rank_of(cx - dx[d], cy - dy[d]);
		int opp = d ^ 1;
		MPI_Sendrecv(f, 1, send[d], to, d, f, 1, recv[opp], from, d, MPI_COMM_WORLD,
			     MPI_STATUS_IGNORE);
	}
	check_ghosts("subarray sendrecv");
	for (int d = 0; d < 4; d++) {
		MPI_Type_free(&send[d]);
		MPI_Type_free(&recv[d]);
	}
	show("subarray halo");
}

static void test_vector_nonblocking(void)
{
	MPI_Datatype col;
	MPI_Request r[8];
	int n = 0;

	MPI_Type_vector(NX, 1, NY + 2, MPI_DOUBLE, &col);
	MPI_Type_commit(&col);
	init();
	/* Rows are contiguous; columns are a vector. */
	double *sendp[4] = { &f[1][1], &f[NX][1], &f[1][1], &f[1][NY] };
	double *recvp[4] = { &f[0][1], &f[NX + 1][1], &f[1][0], &f[1][NY + 1] };
	for (int d = 0; d < 4; d++) {
		int nb = rank_of(cx + dx[d], cy + dy[d]);
		int cnt = d < 2 ? NY : 1;
		MPI_Datatype t = d < 2 ? MPI_DOUBLE : col;
		MPI_Irecv(recvp[d], cnt, t, nb, d ^ 1, MPI_COMM_WORLD, &r[n++]);
	}
	/* The column type may go before the exchange completes. */
	MPI_Datatype keep = col;
	for (int d = 0; d < 4; d++) {
		int nb = rank_of(cx + dx[d], cy + dy[d]);
		int cnt = d < 2 ? NY : 1;
		MPI_Isend(sendp[d], cnt, d < 2 ? MPI_DOUBLE : keep, nb, d, MPI_COMM_WORLD,
			  &r[n++]);
	}
	MPI_Type_free(&col);
	MPI_Waitall(n, r, MPI_STATUSES_IGNORE);
	check_ghosts("vector isend/irecv");
	show("vector halo, nonblocking");
}

/* The whole exchange in one call: Cartesian neighbours come in the order
 * of the directions above (per dimension, the lower one first). */
static void test_neighbor_alltoallw(void)
{
	MPI_Datatype send[4], recv[4];
	MPI_Comm cart;
	int dims[2] = { PX, PY }, periods[2] = { 0, 0 }, one[4] = { 1, 1, 1, 1 };
	MPI_Aint zero[4] = { 0, 0, 0, 0 };

	MPI_Cart_create(MPI_COMM_WORLD, 2, dims, periods, 0, &cart);
	send[0] = box(1, 1, 1, NY);
	send[1] = box(NX, 1, 1, NY);
	send[2] = box(1, 1, NX, 1);
	send[3] = box(1, NY, NX, 1);
	recv[0] = box(0, 1, 1, NY);
	recv[1] = box(NX + 1, 1, 1, NY);
	recv[2] = box(1, 0, NX, 1);
	recv[3] = box(1, NY + 1, NX, 1);
	init();
	MPI_Neighbor_alltoallw(f, one, zero, send, f, one, zero, recv, cart);
	check_ghosts("neighbor alltoallw");
	/* A datatype whose data lies before the buffer pointer: one double
	 * at byte -8, extent 8.  Neighbour k's value lands in got[k]. */
	MPI_Datatype before, t;
	int bl = 1;
	MPI_Aint at = -8;
	double mine[2] = { 10.0 + me, -1 }, got[5] = { MARK, MARK, MARK, MARK, MARK };
	MPI_Type_create_hindexed(1, &bl, &at, MPI_DOUBLE, &before);
	MPI_Type_create_resized(before, -8, 8, &t);
	MPI_Type_commit(&t);
	MPI_Neighbor_allgather(&mine[1], 1, t, &got[1], 1, t, cart);
	for (int d = 0; d < 4; d++) {
		int nb = rank_of(cx + dx[d], cy + dy[d]);
		MT_CHECK(got[d] == (nb == MPI_PROC_NULL ? MARK : 10.0 + nb),
			 "neighbour %d's value through a negative lower bound: %g", d, got[d]);
	}
	MT_CHECK(got[4] == MARK, "past the last neighbour");
	MPI_Type_free(&t);
	MPI_Type_free(&before);
	for (int d = 0; d < 4; d++) {
		MPI_Type_free(&send[d]);
		MPI_Type_free(&recv[d]);
	}
	MPI_Comm_free(&cart);
	show("subarray halo by Neighbor_alltoallw");
}

/* The darray of this rank's block of the global field, applied to the
 * global array, picks exactly this rank's interior. */
static void test_darray_block(void)
{
	int g[2] = { PX * NX, PY * NY };
	int dist[2] = { MPI_DISTRIBUTE_BLOCK, MPI_DISTRIBUTE_BLOCK };
	int darg[2] = { MPI_DISTRIBUTE_DFLT_DARG, MPI_DISTRIBUTE_DFLT_DARG };
	int ps[2] = { PX, PY };
	static double global[PX * NX][PY * NY];
	double mine[NX * NY];
	MPI_Datatype t;
	int size, pos = 0;

	for (int i = 0; i < PX * NX; i++)
		for (int j = 0; j < PY * NY; j++)
			global[i][j] = field(i, j);
	MPI_Type_create_darray(PX * PY, me, 2, g, dist, darg, ps, MPI_ORDER_C, MPI_DOUBLE, &t);
	MPI_Type_commit(&t);
	MPI_Type_size(t, &size);
	MT_EQ(size, NX * NY * (int)sizeof(double), "darray block size");
	MPI_Pack(global, 1, t, mine, sizeof(mine), &pos, MPI_COMM_WORLD);
	MT_EQ(pos, size, "packed darray");
	for (int i = 0; i < NX; i++)
		for (int j = 0; j < NY; j++)
			MT_CHECK(mine[i * NY + j] == field(cx * NX + i, cy * NY + j),
				 "darray element (%d,%d)", i, j);
	/* Cyclic over columns: every PY-th column from cy. */
	int dist2[2] = { MPI_DISTRIBUTE_BLOCK, MPI_DISTRIBUTE_CYCLIC };
	int darg2[2] = { MPI_DISTRIBUTE_DFLT_DARG, 1 };
	MPI_Datatype c;
	uint64_t h = MT_HASH_INIT;
	MPI_Type_create_darray(PX * PY, me, 2, g, dist2, darg2, ps, MPI_ORDER_C, MPI_DOUBLE,
			       &c);
	MPI_Type_commit(&c);
	pos = 0;
	MPI_Pack(global, 1, c, mine, sizeof(mine), &pos, MPI_COMM_WORLD);
	for (int i = 0, k = 0; i < NX; i++)
		for (int j = cy; j < PY * NY; j += PY, k++)
			MT_CHECK(mine[k] == field(cx * NX + i, j), "cyclic darray (%d,%d)", i, j);
	h = mt_hash(h, mine, (size_t)pos);
	uint64_t all[4];
	MPI_Gather(&h, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
	mt_say("darray blocks: %016llx %016llx %016llx %016llx", (unsigned long long)all[0],
	       (unsigned long long)all[1], (unsigned long long)all[2],
	       (unsigned long long)all[3]);
	MPI_Type_free(&t);
	MPI_Type_free(&c);
}

int main(int argc, char **argv)
{
	int size = 0;

	MPI_Init(&argc, &argv);
	mt_begin("type_halo");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != PX * PY) {
		MT_FAIL("needs %d ranks, got %d", PX * PY, size);
		return mt_finish();
	}
	cx = me / PY;
	cy = me % PY;
	test_subarray_sendrecv();
	test_vector_nonblocking();
	test_neighbor_alltoallw();
	test_darray_block();
	return mt_finish();
}
