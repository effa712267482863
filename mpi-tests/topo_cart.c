/*
 * topo_cart.c - Cartesian topologies.  MPI_Dims_create on inputs where
 * MPICH and Open MPI agree (they differ on a few, such as 72 in 2-D);
 * MPI_Cart_create of a periodic 2 x 2 grid and a non-periodic 4 x 1 line;
 * coordinates and ranks both ways, MPI_Cart_shift with wrap-around and
 * with MPI_PROC_NULL at an edge, MPI_Cart_get, MPI_Cartdim_get,
 * MPI_Topo_test, MPI_Cart_sub into rows and columns, MPI_Cart_map, and a
 * dup that keeps the topology.  Then a halo exchange of a 2-D field on
 * the periodic grid, twice: with MPI_Cart_shift + MPI_Sendrecv, and with
 * MPI_Neighbor_alltoall; every ghost cell is checked against the value
 * its owner holds.  MPI_Neighbor_allgather on the line checks that
 * blocks of MPI_PROC_NULL neighbours are left alone.  Error classes both
 * MPIs agree on: topology queries on MPI_COMM_WORLD, a grid larger than
 * the communicator, a coordinate off a non-periodic edge.
 */
/* ranks: 4 */
#include "mt.h"

#define NP 4
#define NX 5            /* interior cells per process, dimension 0 */
#define NY 3            /* and dimension 1 */
#define BLK (NX > NY ? NX : NY)

static int world_rank;

static void show_dims(int nnodes, int ndims, int *dims)
{
	char line[128];
	int n = snprintf(line, sizeof line, "dims_create %d in %d:", nnodes, ndims);

	MT_EQ(MPI_Dims_create(nnodes, ndims, dims), MPI_SUCCESS, "MPI_Dims_create");
	for (int i = 0; i < ndims; i++)
		n += snprintf(line + n, sizeof line - n, " %d", dims[i]);
	mt_say("%s", line);
}

static void test_dims(void)
{
	int d[4];

	memset(d, 0, sizeof d);
	show_dims(4, 2, d);
	memset(d, 0, sizeof d);
	show_dims(12, 3, d);
	memset(d, 0, sizeof d);
	show_dims(30, 3, d);
	memset(d, 0, sizeof d);
	show_dims(36, 2, d);
	memset(d, 0, sizeof d);
	show_dims(7, 2, d);
	memset(d, 0, sizeof d);
	show_dims(64, 4, d);
	d[0] = 0, d[1] = 3, d[2] = 0;
	show_dims(12, 3, d);
	d[0] = 2, d[1] = 0, d[2] = 0, d[3] = 5;
	show_dims(60, 4, d);
	/* Products that do not divide nnodes, negative entries. */
	d[0] = 5, d[1] = 0;
	MT_EQ(MPI_Dims_create(12, 2, d) != MPI_SUCCESS, 1, "Dims_create 12 with a 5");
	d[0] = -1, d[1] = 0;
	MT_EQ(MPI_Dims_create(12, 2, d) != MPI_SUCCESS, 1, "Dims_create with -1");
	mt_say("dims_create rejects 5 x ? = 12 and negative entries");
}

static int error_class(int rc)
{
	int cls = -1;

	MPI_Error_class(rc, &cls);
	return cls;
}

static void test_grid(MPI_Comm grid)
{
	int coords[2], r, t = -1, nd = -1, dims[2], periods[2], me[2];

	MPI_Topo_test(grid, &t);
	MT_CHECK(t == MPI_CART, "Topo_test of the grid is not MPI_CART");
	MPI_Cartdim_get(grid, &nd);
	MT_EQ(nd, 2, "Cartdim_get");
	for (int rank = 0; rank < NP; rank++) {
		MPI_Cart_coords(grid, rank, 2, coords);
		MPI_Cart_rank(grid, coords, &r);
		MT_EQ(r, rank, "Cart_rank(Cart_coords(rank))");
		mt_say("grid rank %d at (%d, %d)", rank, coords[0], coords[1]);
	}
	MPI_Comm_rank(grid, &r);
	MPI_Cart_get(grid, 2, dims, periods, me);
	MPI_Cart_coords(grid, r, 2, coords);
	MT_CHECK(dims[0] == 2 && dims[1] == 2 && periods[0] && periods[1],
		 "Cart_get: dims %d x %d periods %d %d", dims[0], dims[1], periods[0], periods[1]);
	MT_CHECK(me[0] == coords[0] && me[1] == coords[1], "Cart_get coordinates");
	/* Periodic: coordinates wrap in both directions. */
	coords[0] = -1, coords[1] = 5;
	MPI_Cart_rank(grid, coords, &r);
	MT_EQ(r, 3, "Cart_rank(-1, 5) on a periodic 2 x 2 grid");
	mt_say("Cart_rank(-1, 5) = %d", r);
}

static void test_shift(MPI_Comm grid, MPI_Comm line)
{
	int src, dst, r;

	for (int dim = 0; dim < 2; dim++) {
		MPI_Cart_shift(grid, dim, 1, &src, &dst);
		int all[2 * NP], mine[2] = { src, dst };
		MPI_Allgather(mine, 2, MPI_INT, all, 2, MPI_INT, grid);
		for (r = 0; r < NP; r++)
			mt_say("grid shift dim %d by 1 at rank %d: source %d, dest %d", dim, r,
			       all[2 * r], all[2 * r + 1]);
	}
	MPI_Comm_rank(line, &r);
	MPI_Cart_shift(line, 0, 2, &src, &dst);
	MT_EQ(src, r >= 2 ? r - 2 : MPI_PROC_NULL, "line shift by 2: source");
	MT_EQ(dst, r + 2 < NP ? r + 2 : MPI_PROC_NULL, "line shift by 2: dest");
	mt_say("line shift by 2: MPI_PROC_NULL off both ends");
}

/* Rows (dimension 1 kept) and columns (dimension 0 kept) of the grid. */
static void test_sub(MPI_Comm grid)
{
	int keep_row[2] = { 0, 1 }, keep_col[2] = { 1, 0 }, size, nd, members[2];
	MPI_Comm row, col;

	MPI_Cart_sub(grid, keep_row, &row);
	MPI_Cart_sub(grid, keep_col, &col);
	for (int i = 0; i < 2; i++) {
		MPI_Comm c = i ? col : row;
		int t = -1;
		MPI_Comm_size(c, &size);
		MPI_Cartdim_get(c, &nd);
		MPI_Topo_test(c, &t);
		MT_EQ(size, 2, "Cart_sub size");
		MT_EQ(nd, 1, "Cart_sub ndims");
		MT_CHECK(t == MPI_CART, "Cart_sub result is not Cartesian");
		MPI_Allgather(&world_rank, 1, MPI_INT, members, 1, MPI_INT, c);
		int all[2 * NP];
		MPI_Gather(members, 2, MPI_INT, all, 2, MPI_INT, 0, MPI_COMM_WORLD);
		for (int r = 0; r < NP; r++)
			mt_say("%s of world rank %d: %d %d", i ? "column" : "row", r, all[2 * r],
			       all[2 * r + 1]);
		MPI_Comm_free(&c);
	}
}

/* The field value at global cell (gx, gy) of the periodic global grid. */
static int field(int gx, int gy)
{
	gx = (gx + 2 * NX) % (2 * NX);
	gy = (gy + 2 * NY) % (2 * NY);
	return 1000 * gx + gy;
}

struct halo {
	int a[NX + 2][NY + 2];   /* interior [1..NX][1..NY], ghosts around */
	int cx, cy;              /* my grid coordinates */
};

static void halo_init(struct halo *h, MPI_Comm grid)
{
	int r, c[2];

	MPI_Comm_rank(grid, &r);
	MPI_Cart_coords(grid, r, 2, c);
	h->cx = c[0];
	h->cy = c[1];
	for (int i = 0; i < NX + 2; i++)
		for (int j = 0; j < NY + 2; j++)
			h->a[i][j] = -1;
	for (int i = 1; i <= NX; i++)
		for (int j = 1; j <= NY; j++)
			h->a[i][j] = field(h->cx * NX + i - 1, h->cy * NY + j - 1);
}

/* Every ghost cell (corners excepted) holds its owner's value. */
static int halo_check(const struct halo *h, const char *how)
{
	int bad = 0;

	for (int i = 0; i < NX + 2; i++)
		for (int j = 0; j < NY + 2; j++) {
			int ghost_x = i == 0 || i == NX + 1, ghost_y = j == 0 || j == NY + 1;
			if (ghost_x == ghost_y)
				continue;
			int want = field(h->cx * NX + i - 1, h->cy * NY + j - 1);
			if (h->a[i][j] != want && bad++ == 0)
				MT_FAIL("%s: ghost (%d, %d) = %d, expected %d", how, i, j, h->a[i][j],
					want);
		}
	return bad;
}

/* Interior edge k of the field into buf: 0/1 the first/last row (dim 0),
 * 2/3 the first/last column (dim 1); ghost edge k from buf likewise. */
static void edge_out(const struct halo *h, int k, int *buf)
{
	for (int t = 0; t < (k < 2 ? NY : NX); t++)
		buf[t] = k < 2 ? h->a[k == 0 ? 1 : NX][t + 1] : h->a[t + 1][k == 2 ? 1 : NY];
}

static void ghost_in(struct halo *h, int k, const int *buf)
{
	for (int t = 0; t < (k < 2 ? NY : NX); t++) {
		if (k < 2)
			h->a[k == 0 ? 0 : NX + 1][t + 1] = buf[t];
		else
			h->a[t + 1][k == 2 ? 0 : NY + 1] = buf[t];
	}
}

static void halo_sendrecv(MPI_Comm grid)
{
	struct halo h;
	int sbuf[BLK], rbuf[BLK], src, dst;

	halo_init(&h, grid);
	for (int dim = 0; dim < 2; dim++) {
		int n = dim == 0 ? NY : NX;
		MPI_Cart_shift(grid, dim, 1, &src, &dst);
		/* Up: my last edge to dst, the ghost before my first from src. */
		edge_out(&h, 2 * dim + 1, sbuf);
		MPI_Sendrecv(sbuf, n, MPI_INT, dst, 10 + dim, rbuf, n, MPI_INT, src, 10 + dim, grid,
			     MPI_STATUS_IGNORE);
		ghost_in(&h, 2 * dim, rbuf);
		edge_out(&h, 2 * dim, sbuf);
		MPI_Sendrecv(sbuf, n, MPI_INT, src, 20 + dim, rbuf, n, MPI_INT, dst, 20 + dim, grid,
			     MPI_STATUS_IGNORE);
		ghost_in(&h, 2 * dim + 1, rbuf);
	}
	int bad = halo_check(&h, "Sendrecv halo"), all = 0;
	MPI_Allreduce(&bad, &all, 1, MPI_INT, MPI_SUM, grid);
	mt_say("halo exchange with Cart_shift + Sendrecv: %d bad ghost cells", all);
}

/* Neighbour order on a Cartesian grid: for each dimension, the neighbour
 * at -1 then the one at +1; block k goes to neighbour k and comes from it. */
static void halo_neighbor(MPI_Comm grid)
{
	struct halo h;
	int sbuf[4][BLK], rbuf[4][BLK];

	halo_init(&h, grid);
	memset(sbuf, 0, sizeof sbuf);
	for (int k = 0; k < 4; k++)
		edge_out(&h, k, sbuf[k]);
	MPI_Neighbor_alltoall(sbuf, BLK, MPI_INT, rbuf, BLK, MPI_INT, grid);
	for (int k = 0; k < 4; k++)
		ghost_in(&h, k, rbuf[k]);
	int bad = halo_check(&h, "Neighbor_alltoall halo"), all = 0;
	MPI_Allreduce(&bad, &all, 1, MPI_INT, MPI_SUM, grid);
	mt_say("halo exchange with Neighbor_alltoall: %d bad ghost cells", all);
}

/* On the line, end ranks have MPI_PROC_NULL neighbours: those receive
 * blocks must keep what was there. */
static void allgather_line(MPI_Comm line)
{
	int r, got[2] = { -7, -7 }, want[2];

	MPI_Comm_rank(line, &r);
	int mine = 100 + r;
	MPI_Neighbor_allgather(&mine, 1, MPI_INT, got, 1, MPI_INT, line);
	want[0] = r > 0 ? 100 + r - 1 : -7;
	want[1] = r < NP - 1 ? 100 + r + 1 : -7;
	MT_CHECK(got[0] == want[0] && got[1] == want[1], "line allgather: got %d %d, want %d %d",
		 got[0], got[1], want[0], want[1]);
	int all[2 * NP];
	MPI_Gather(got, 2, MPI_INT, all, 2, MPI_INT, 0, line);
	for (int i = 0; i < NP; i++)
		mt_say("line Neighbor_allgather at %d: %d %d", i, all[2 * i], all[2 * i + 1]);
}

static void test_errors(MPI_Comm grid)
{
	int nd, dims[2] = { NP + 1, 1 }, periods[2] = { 0, 0 }, coords[2] = { 0, 2 }, r;
	MPI_Comm c;

	MT_EQ(error_class(MPI_Cartdim_get(MPI_COMM_WORLD, &nd)), MPI_ERR_TOPOLOGY,
	      "Cartdim_get on MPI_COMM_WORLD");
	MT_EQ(error_class(MPI_Cart_coords(MPI_COMM_WORLD, 0, 2, coords)), MPI_ERR_TOPOLOGY,
	      "Cart_coords on MPI_COMM_WORLD");
	MT_EQ(error_class(MPI_Cart_create(MPI_COMM_WORLD, 2, dims, periods, 0, &c)), MPI_ERR_ARG,
	      "Cart_create of 5 processes on 4");
	MPI_Comm line;
	dims[0] = NP;
	MPI_Cart_create(MPI_COMM_WORLD, 1, dims, periods, 0, &line);
	coords[0] = NP;
	MT_EQ(error_class(MPI_Cart_rank(line, coords, &r)), MPI_ERR_ARG,
	      "Cart_rank off a non-periodic edge");
	MPI_Comm_free(&line);
	int t = 0;
	MPI_Topo_test(MPI_COMM_WORLD, &t);
	MT_CHECK(t == MPI_UNDEFINED, "Topo_test of MPI_COMM_WORLD is not MPI_UNDEFINED");
	(void)grid;
	mt_say("errors: MPI_ERR_TOPOLOGY, MPI_ERR_ARG, MPI_ERR_ARG; world has no topology");
}

int main(int argc, char **argv)
{
	int size, dims[2] = { 0, 0 }, periods[2] = { 1, 1 }, t = -1, r, newrank;
	MPI_Comm grid, line, dup;

	MPI_Init(&argc, &argv);
	mt_begin("topo_cart");
	MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != NP) {
		MT_FAIL("needs %d ranks, got %d", NP, size);
		return mt_finish();
	}
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
	test_dims();

	MPI_Dims_create(NP, 2, dims);
	MPI_Cart_create(MPI_COMM_WORLD, 2, dims, periods, 0, &grid);
	int line_dims[1] = { NP }, line_periods[1] = { 0 };
	MPI_Cart_create(MPI_COMM_WORLD, 1, line_dims, line_periods, 0, &line);
	MPI_Comm_set_errhandler(grid, MPI_ERRORS_RETURN);

	test_grid(grid);
	test_shift(grid, line);
	test_sub(grid);
	halo_sendrecv(grid);
	halo_neighbor(grid);
	allgather_line(line);

	MPI_Comm_dup(grid, &dup);
	MPI_Topo_test(dup, &t);
	MPI_Cartdim_get(dup, &r);
	MT_CHECK(t == MPI_CART && r == 2, "the dup of the grid lost its topology");
	halo_neighbor(dup);
	MPI_Comm_free(&dup);
	mt_say("a dup keeps the topology");

	/* Cart_map puts the first ranks on the grid, in order.  (Open MPI 4.1
	 * gives the process left out its own rank, not MPI_UNDEFINED.) */
	line_dims[0] = NP - 1;
	MPI_Cart_map(MPI_COMM_WORLD, 1, line_dims, line_periods, &newrank);
	if (world_rank < NP - 1)
		MT_EQ(newrank, world_rank, "Cart_map");
	/* A 3-process grid leaves the last process out. */
	MPI_Comm three;
	MPI_Cart_create(MPI_COMM_WORLD, 1, line_dims, line_periods, 0, &three);
	MT_EQ(three == MPI_COMM_NULL, world_rank == NP - 1, "3-process grid membership");
	if (three != MPI_COMM_NULL)
		MPI_Comm_free(&three);
	mt_say("Cart_map and a 3-process grid leave rank 3 out");

	test_errors(grid);
	MPI_Comm_free(&line);
	MPI_Comm_free(&grid);
	return mt_finish();
}
