/*
 * type_coll.c - collectives with non-contiguous datatypes:
 *   - Bcast of an array of structs with holes (padding keeps its bytes);
 *   - Gather and Scatter of matrix columns with a vector resized to one
 *     element (rank i's data is column i of the root's matrix);
 *   - Gatherv of columns at chosen displacements;
 *   - Allgather of a struct with holes, resized to skip a field;
 *   - Alltoall exchanging columns (a distributed transpose).
 * (Predefined reduction operations on derived datatypes are refused by
 * both MPICH and Open MPI; reductions of derived types need user ops.)
 * Every receive buffer is prefilled with a marker and checked element by
 * element; rank 0 prints checksums that MPICH and Open MPI agree on.
 */
/* ranks: 3 */
#include <stddef.h>
#include "mt.h"

#define N 4                 /* rows of a column */
#define MARK 0xee

static int me, np;

static void show(const char *what, uint64_t h)
{
	uint64_t all[3] = { 0, 0, 0 };

	MPI_Gather(&h, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
	mt_say("%s: %016llx %016llx %016llx", what, (unsigned long long)all[0],
	       (unsigned long long)all[1], (unsigned long long)all[2]);
}

static int marked(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != MARK)
			return 0;
	return 1;
}

struct item {
	short tag;
	double x;
	char name[3];
	long long id;
};

static MPI_Datatype item_type(void)
{
	int bl[4] = { 1, 1, 3, 1 };
	MPI_Aint d[4] = { offsetof(struct item, tag), offsetof(struct item, x),
			  offsetof(struct item, name), offsetof(struct item, id) };
	MPI_Datatype t[4] = { MPI_SHORT, MPI_DOUBLE, MPI_CHAR, MPI_LONG_LONG }, r;

	MPI_Type_create_struct(4, bl, d, t, &r);
	MPI_Type_commit(&r);
	return r;
}

static void item_set(struct item *it, int k, int seed)
{
	it->tag = (short)(seed * 10 + k);
	it->x = seed + k * 0.5;
	it->name[0] = (char)('A' + k);
	it->name[1] = (char)('a' + seed);
	it->name[2] = 0;
	it->id = 1000000000000LL * seed + k;
}

static int item_ok(const struct item *it, int k, int seed)
{
	struct item w;

	item_set(&w, k, seed);
	return it->tag == w.tag && it->x == w.x && memcmp(it->name, w.name, 3) == 0 &&
	       it->id == w.id;
}

/* Struct padding is part of no message. */
static void test_bcast_struct(void)
{
	struct item v[5];
	MPI_Datatype t = item_type();
	uint64_t h = MT_HASH_INIT;

	memset(v, MARK, sizeof(v));
	if (me == 1)
		for (int k = 0; k < 5; k++)
			item_set(&v[k], k, 7);
	MPI_Bcast(v, 5, t, 1, MPI_COMM_WORLD);
	for (int k = 0; k < 5; k++) {
		MT_CHECK(item_ok(&v[k], k, 7), "bcast item %d", k);
		if (me != 1) {
			MT_CHECK(marked((char *)&v[k] + 2, offsetof(struct item, x) - 2),
				 "padding after tag of item %d", k);
			MT_CHECK(marked((char *)&v[k] + offsetof(struct item, name) + 3,
					offsetof(struct item, id) - offsetof(struct item, name) - 3),
				 "padding after name of item %d", k);
		}
		h = mt_hash(h, &v[k].x, sizeof(double));
		h = mt_hash(h, &v[k].id, sizeof(long long));
	}
	MPI_Type_free(&t);
	show("bcast of structs", h);
}

/* A column of an N x np matrix of doubles, one element wide. */
static MPI_Datatype column_type(int cols)
{
	MPI_Datatype v, c;

	MPI_Type_vector(N, 1, cols, MPI_DOUBLE, &v);
	MPI_Type_create_resized(v, 0, sizeof(double), &c);
	MPI_Type_commit(&c);
	MPI_Type_free(&v);
	return c;
}

static void test_gather_scatter_columns(void)
{
	double mine[N], m[N][8], back[N];
	MPI_Datatype col = column_type(np);
	uint64_t h = MT_HASH_INIT;

	for (int i = 0; i < N; i++)
		mine[i] = me * 100 + i;
	memset(m, MARK, sizeof(m));
	MPI_Gather(mine, N, MPI_DOUBLE, m, 1, col, 0, MPI_COMM_WORLD);
	if (me == 0) {
		for (int i = 0; i < N; i++)
			for (int j = 0; j < np; j++)
				MT_CHECK(((double *)m)[i * np + j] == j * 100 + i,
					 "gathered column %d row %d", j, i);
		MT_CHECK(marked((double *)m + N * np, sizeof(m) - N * np * sizeof(double)),
			 "bytes past the matrix");
		/* Scatter them back, reversed by Scatterv displacements. */
		h = mt_hash(h, m, N * np * sizeof(double));
	}
	int cnt[8], dsp[8];
	for (int j = 0; j < np; j++) {
		cnt[j] = 1;
		dsp[j] = np - 1 - j;
	}
	memset(back, MARK, sizeof(back));
	MPI_Scatterv(m, cnt, dsp, col, back, N, MPI_DOUBLE, 0, MPI_COMM_WORLD);
	for (int i = 0; i < N; i++)
		MT_CHECK(back[i] == (np - 1 - me) * 100 + i, "scattered row %d", i);
	memset(back, MARK, sizeof(back));
	MPI_Scatter(m, 1, col, back, N, MPI_DOUBLE, 0, MPI_COMM_WORLD);
	for (int i = 0; i < N; i++)
		MT_CHECK(back[i] == me * 100 + i, "scatter row %d", i);
	/* Gatherv of columns into a wider matrix at reversed places. */
	double w[N][8];
	int wc = 2 * np;
	MPI_Datatype wcol = column_type(wc);
	for (int j = 0; j < np; j++)
		dsp[j] = 2 * (np - 1 - j) + 1;
	memset(w, MARK, sizeof(w));
	MPI_Gatherv(mine, N, MPI_DOUBLE, w, cnt, dsp, wcol, 2, MPI_COMM_WORLD);
	if (me == 2) {
		for (int i = 0; i < N; i++)
			for (int j = 0; j < wc; j++) {
				double *e = (double *)w + i * wc + j;
				if (j % 2)
					MT_CHECK(*e == (np - 1 - j / 2) * 100 + i, "gatherv %d,%d", i, j);
				else
					MT_CHECK(marked(e, sizeof(*e)), "gatherv gap %d,%d", i, j);
			}
		h = mt_hash(h, w, N * wc * sizeof(double));
	}
	MPI_Type_free(&col);
	MPI_Type_free(&wcol);
	show("gather, scatter(v), gatherv of columns", h);
}

/* Allgather with a struct resized to skip its last field; Alltoall of
 * columns: element (i, j) of everyone's matrix ends up transposed. */
static void test_allgather_alltoall(void)
{
	struct item all[3], one;
	MPI_Datatype full = item_type(), head, col;
	uint64_t h = MT_HASH_INIT;
	int bl[2] = { 1, 1 };
	MPI_Aint d[2] = { offsetof(struct item, tag), offsetof(struct item, x) };
	MPI_Datatype t[2] = { MPI_SHORT, MPI_DOUBLE }, s;

	MPI_Type_create_struct(2, bl, d, t, &s);
	MPI_Type_create_resized(s, 0, sizeof(struct item), &head);
	MPI_Type_commit(&head);
	MPI_Type_free(&s);
	item_set(&one, me, 3);
	memset(all, MARK, sizeof(all));
	MPI_Allgather(&one, 1, head, all, 1, head, MPI_COMM_WORLD);
	for (int k = 0; k < np; k++) {
		MT_CHECK(all[k].tag == 30 + k && all[k].x == 3 + k * 0.5, "allgather %d", k);
		MT_CHECK(marked(all[k].name, sizeof(struct item) - offsetof(struct item, name)),
			 "fields after x of item %d untouched", k);
		h = mt_hash(h, &all[k].x, sizeof(double));
	}
	/* a[i][j] = 10 * me + j, np x np: column j goes to rank j. */
	double a[3][3], b[3][3];
	MPI_Datatype v;
	MPI_Type_vector(np, 1, np, MPI_DOUBLE, &v);
	MPI_Type_create_resized(v, 0, sizeof(double), &col);
	MPI_Type_commit(&col);
	MPI_Type_free(&v);
	for (int i = 0; i < np; i++)
		for (int j = 0; j < np; j++)
			a[i][j] = 100 * me + 10 * i + j;
	memset(b, MARK, sizeof(b));
	MPI_Alltoall(a, 1, col, b, np, MPI_DOUBLE, MPI_COMM_WORLD);
	for (int k = 0; k < np; k++)
		for (int i = 0; i < np; i++)
			MT_CHECK(b[k][i] == 100 * k + 10 * i + me, "alltoall from %d row %d", k, i);
	h = mt_hash(h, b, sizeof(b));
	MPI_Type_free(&col);
	MPI_Type_free(&head);
	MPI_Type_free(&full);
	show("allgather of a resized struct, alltoall of columns", h);
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	mt_begin("type_coll");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &np);
	if (np != 3) {
		MT_FAIL("needs 3 ranks, got %d", np);
		return mt_finish();
	}
	test_bcast_struct();
	test_gather_scatter_columns();
	test_allgather_alltoall();
	return mt_finish();
}
