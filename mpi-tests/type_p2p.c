/*
 * type_p2p.c - point-to-point with non-contiguous datatypes: a matrix
 * column (vector), a struct with holes and an array of them, one field of
 * each record (struct resized to the record's size), a lower triangle
 * (indexed), pair types with padding, a negative stride, a subarray sent
 * twice in one message, and the transposition done by sending with one
 * type and receiving with another.  Receivers fill their buffers with a
 * marker first and check that exactly the typemap's bytes changed: holes
 * between and after the elements keep the marker.  Nonblocking receives
 * free their datatype before the wait.  Rank 0 prints checksums.
 */
/* ranks: 2 */
#include <stddef.h>
#include "mt.h"

#define ROWS 8
#define COLS 6
#define MARK 0xee

static int me;

/* The sum of every rank's hash, one line per phase. */
static void show(const char *what, uint64_t h)
{
	uint64_t all[2] = { 0, 0 };

	MPI_Gather(&h, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
	mt_say("%s: %016llx %016llx", what, (unsigned long long)all[0],
	       (unsigned long long)all[1]);
}

static int count_marked(const void *p, size_t n)
{
	const unsigned char *b = p;
	int k = 0;

	for (size_t i = 0; i < n; i++)
		k += b[i] == MARK;
	return k;
}

/* Column 2 of rank 0's matrix lands in column 4 of rank 1's. */
static void test_column(void)
{
	double a[ROWS][COLS], col[ROWS];
	MPI_Datatype column;
	uint64_t h = MT_HASH_INIT;

	MPI_Type_vector(ROWS, 1, COLS, MPI_DOUBLE, &column);
	MPI_Type_commit(&column);
	if (me == 0) {
		for (int i = 0; i < ROWS; i++)
			for (int j = 0; j < COLS; j++)
				a[i][j] = i * 10 + j + 0.5;
		MPI_Send(&a[0][2], 1, column, 1, 1, MPI_COMM_WORLD);
		MPI_Send(&a[0][3], 1, column, 1, 2, MPI_COMM_WORLD);
	} else {
		memset(a, MARK, sizeof(a));
		MPI_Recv(&a[0][4], 1, column, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		MPI_Recv(col, ROWS, MPI_DOUBLE, 0, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		for (int i = 0; i < ROWS; i++) {
			MT_CHECK(a[i][4] == i * 10 + 2 + 0.5, "column row %d: %g", i, a[i][4]);
			MT_CHECK(col[i] == i * 10 + 3 + 0.5, "column as doubles %d: %g", i, col[i]);
		}
		for (int i = 0; i < ROWS; i++)
			for (int j = 0; j < COLS; j++)
				if (j != 4)
					MT_EQ(count_marked(&a[i][j], 8), 8,
					      "bytes outside the column keep the marker");
		h = mt_hash(h, col, sizeof(col));
	}
	MPI_Type_free(&column);
	show("vector column", h);
}

struct rec {
	char c;
	double d;
	int i[3];
	short s;
};

static MPI_Datatype rec_type(void)
{
	int bl[4] = { 1, 1, 3, 1 };
	MPI_Aint disp[4] = { offsetof(struct rec, c), offsetof(struct rec, d),
			     offsetof(struct rec, i), offsetof(struct rec, s) };
	MPI_Datatype types[4] = { MPI_CHAR, MPI_DOUBLE, MPI_INT, MPI_SHORT }, t;

	MPI_Type_create_struct(4, bl, disp, types, &t);
	return t;
}

static void rec_fill(struct rec *r, int n, int seed)
{
	memset(r, MARK, (size_t)n * sizeof(*r));
	for (int k = 0; k < n; k++) {
		r[k].c = (char)('a' + k + seed);
		r[k].d = seed * 1000.25 + k;
		for (int j = 0; j < 3; j++)
			r[k].i[j] = seed * 100 + k * 10 + j;
		r[k].s = (short)(-seed - k);
	}
}

/* Records' fields travel, their padding does not. */
static void test_struct_holes(void)
{
	struct rec r[5], want[5];
	MPI_Datatype t = rec_type(), one_d;
	MPI_Aint lb, ext;
	uint64_t h = MT_HASH_INIT;

	MPI_Type_commit(&t);
	MPI_Type_get_extent(t, &lb, &ext);
	MT_EQ(ext, sizeof(struct rec), "struct extent is the C struct's size");
	/* Only field d of each record, one record apart. */
	MPI_Type_create_resized(MPI_DOUBLE, 0, sizeof(struct rec), &one_d);
	MPI_Type_commit(&one_d);
	if (me == 0) {
		rec_fill(r, 5, 3);
		MPI_Send(r, 5, t, 1, 3, MPI_COMM_WORLD);
		MPI_Send(&r[0].d, 5, one_d, 1, 4, MPI_COMM_WORLD);
	} else {
		double d[5];
		memset(r, MARK, sizeof(r));
		MPI_Recv(r, 5, t, 0, 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		rec_fill(want, 5, 3);
		MT_CHECK(memcmp(r, want, sizeof(r)) == 0,
			 "records differ (fields or padding) after a struct receive");
		MPI_Recv(d, 5, MPI_DOUBLE, 0, 4, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		for (int k = 0; k < 5; k++) {
			MT_CHECK(d[k] == want[k].d, "field d of record %d: %g", k, d[k]);
			h = mt_hash(h, &r[k].d, sizeof(double));
			h = mt_hash(h, r[k].i, sizeof(r[k].i));
		}
	}
	MPI_Type_free(&one_d);
	MPI_Type_free(&t);
	show("struct with holes, one field per record", h);
}

/* Lower triangle of a 6x6 matrix, sent packed and received packed. */
static void test_triangle(void)
{
	enum { N = 6 };
	int m[N][N], packed[N * (N + 1) / 2], bl[N], disp[N];
	MPI_Datatype lower;
	uint64_t h = MT_HASH_INIT;

	for (int i = 0; i < N; i++) {
		bl[i] = i + 1;
		disp[i] = i * N;
	}
	MPI_Type_indexed(N, bl, disp, MPI_INT, &lower);
	MPI_Type_commit(&lower);
	if (me == 0) {
		for (int i = 0; i < N; i++)
			for (int j = 0; j < N; j++)
				m[i][j] = 100 * i + j;
		MPI_Send(m, 1, lower, 1, 5, MPI_COMM_WORLD);
		for (int k = 0; k < N * (N + 1) / 2; k++)
			packed[k] = -k;
		MPI_Send(packed, N * (N + 1) / 2, MPI_INT, 1, 6, MPI_COMM_WORLD);
	} else {
		MPI_Status st;
		int n;
		MPI_Recv(packed, N * (N + 1) / 2, MPI_INT, 0, 5, MPI_COMM_WORLD, &st);
		MPI_Get_count(&st, MPI_INT, &n);
		MT_EQ(n, N * (N + 1) / 2, "triangle arrives as 21 ints");
		for (int i = 0, k = 0; i < N; i++)
			for (int j = 0; j <= i; j++, k++)
				MT_EQ(packed[k], 100 * i + j, "triangle element");
		memset(m, MARK, sizeof(m));
		MPI_Recv(m, 1, lower, 0, 6, MPI_COMM_WORLD, &st);
		MPI_Get_elements(&st, lower, &n);
		MT_EQ(n, N * (N + 1) / 2, "elements of the triangle");
		for (int i = 0, k = 0; i < N; i++)
			for (int j = 0; j <= i; j++, k++)
				MT_EQ(m[i][j], -k, "unpacked triangle element");
		for (int i = 0; i < N; i++)
			for (int j = i + 1; j < N; j++)
				MT_EQ(count_marked(&m[i][j], 4), 4, "upper triangle keeps the marker");
		h = mt_hash(h, packed, sizeof(packed));
	}
	MPI_Type_free(&lower);
	show("indexed triangle", h);
}

/* Pair types have padding: several of them in one message. */
static void test_pairs(void)
{
	struct { short v; int i; } si[4];
	struct { double v; int i; } di[3];
	uint64_t h = MT_HASH_INIT;

	if (me == 0) {
		for (int k = 0; k < 4; k++) {
			si[k].v = (short)(7 * k - 3);
			si[k].i = 1000 + k;
		}
		for (int k = 0; k < 3; k++) {
			di[k].v = k + 0.125;
			di[k].i = -k;
		}
		MPI_Send(si, 4, MPI_SHORT_INT, 1, 7, MPI_COMM_WORLD);
		MPI_Send(di, 3, MPI_DOUBLE_INT, 1, 8, MPI_COMM_WORLD);
	} else {
		memset(si, MARK, sizeof(si));
		memset(di, MARK, sizeof(di));
		MPI_Recv(si, 4, MPI_SHORT_INT, 0, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		MPI_Recv(di, 3, MPI_DOUBLE_INT, 0, 8, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		for (int k = 0; k < 4; k++) {
			MT_EQ(si[k].v, 7 * k - 3, "short_int value");
			MT_EQ(si[k].i, 1000 + k, "short_int index");
			h = mt_hash(h, &si[k].v, 2);
			h = mt_hash(h, &si[k].i, 4);
		}
		for (int k = 0; k < 3; k++) {
			MT_CHECK(di[k].v == k + 0.125 && di[k].i == -k, "double_int %d", k);
			h = mt_hash(h, &di[k].v, 8);
		}
		for (int k = 0; k < 4; k++)
			MT_EQ(count_marked((char *)&si[k] + 2, 2), 2,
			      "short_int padding keeps the marker");
		for (int k = 0; k < 3; k++)
			MT_EQ(count_marked((char *)&di[k] + 12, 4), 4,
			      "double_int padding keeps the marker");
	}
	show("pair types", h);
}

/* A vector with a negative stride starts at the end of the buffer;
 * a subarray twice in one message; transposition by types. */
static void test_layouts(void)
{
	double v[10], got[10];
	int g[4][5], sub[2][2][3];
	MPI_Datatype back, box, row, col, colr;
	uint64_t h = MT_HASH_INIT;
	int sizes[2] = { 4, 5 }, subs[2] = { 2, 3 }, starts[2] = { 1, 2 };

	MPI_Type_create_hvector(5, 1, -2 * (MPI_Aint)sizeof(double), MPI_DOUBLE, &back);
	MPI_Type_commit(&back);
	MPI_Type_create_subarray(2, sizes, subs, starts, MPI_ORDER_C, MPI_INT, &box);
	MPI_Type_commit(&box);
	MPI_Type_contiguous(5, MPI_INT, &row);
	MPI_Type_commit(&row);
	MPI_Type_vector(5, 1, 4, MPI_INT, &col);
	MPI_Type_create_resized(col, 0, sizeof(int), &colr);
	MPI_Type_commit(&colr);
	if (me == 0) {
		for (int k = 0; k < 10; k++)
			v[k] = k * 1.5;
		MPI_Send(&v[8], 1, back, 1, 9, MPI_COMM_WORLD);
		int two[2][4][5];
		for (int k = 0; k < 2; k++)
			for (int i = 0; i < 4; i++)
				for (int j = 0; j < 5; j++)
					two[k][i][j] = k * 1000 + i * 10 + j;
		MPI_Ssend(two, 2, box, 1, 10, MPI_COMM_WORLD);
		for (int i = 0; i < 4; i++)
			for (int j = 0; j < 5; j++)
				g[i][j] = i * 5 + j;
		MPI_Send(g, 4, row, 1, 11, MPI_COMM_WORLD);
	} else {
		memset(got, MARK, sizeof(got));
		MPI_Recv(&got[8], 1, back, 0, 9, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		for (int k = 0; k < 10; k++) {
			if (k % 2 == 0)
				MT_CHECK(got[k] == k * 1.5, "negative stride element %d", k);
			else
				MT_EQ(count_marked(&got[k], 8), 8, "negative stride gap");
		}
		MPI_Recv(sub, 12, MPI_INT, 0, 10, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		for (int k = 0; k < 2; k++)
			for (int i = 0; i < 2; i++)
				for (int j = 0; j < 3; j++)
					MT_EQ(sub[k][i][j], k * 1000 + (i + 1) * 10 + j + 2,
					      "subarray element");
		/* Rows sent, columns received: the transpose. */
		memset(g, MARK, sizeof(g));
		int t[5][4];
		MPI_Recv(t, 4, colr, 0, 11, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		for (int i = 0; i < 5; i++)
			for (int j = 0; j < 4; j++)
				MT_EQ(t[i][j], j * 5 + i, "transposed element");
		h = mt_hash(h, got, sizeof(got));
		h = mt_hash(h, sub, sizeof(sub));
		h = mt_hash(h, t, sizeof(t));
	}
	MPI_Type_free(&back);
	MPI_Type_free(&box);
	MPI_Type_free(&row);
	MPI_Type_free(&col);
	MPI_Type_free(&colr);
	show("negative stride, subarray, transpose", h);
}

/* Nonblocking, datatypes freed before completion, Sendrecv_replace. */
static void test_nonblocking(void)
{
	double a[ROWS][COLS];
	MPI_Datatype column, every_other;
	MPI_Request r[2];
	uint64_t h = MT_HASH_INIT;
	int peer = 1 - me;

	MPI_Type_vector(ROWS, 1, COLS, MPI_DOUBLE, &column);
	MPI_Type_commit(&column);
	MPI_Type_create_hvector(COLS / 2, 1, 2 * sizeof(double), MPI_DOUBLE, &every_other);
	MPI_Type_commit(&every_other);
	for (int i = 0; i < ROWS; i++)
		for (int j = 0; j < COLS; j++)
			a[i][j] = me * 100 + i * COLS + j;
	double in[ROWS][COLS];
	memset(in, MARK, sizeof(in));
	MPI_Irecv(&in[0][1], 1, column, peer, 12, MPI_COMM_WORLD, &r[0]);
	MPI_Isend(&a[0][0], 1, column, peer, 12, MPI_COMM_WORLD, &r[1]);
	MPI_Type_free(&column);
	MPI_Waitall(2, r, MPI_STATUSES_IGNORE);
	for (int i = 0; i < ROWS; i++)
		MT_CHECK(in[i][1] == peer * 100 + i * COLS, "column row %d", i);
	for (int i = 0; i < ROWS; i++)
		for (int j = 0; j < COLS; j++)
			if (j != 1)
				MT_EQ(count_marked(&in[i][j], 8), 8, "only the column was written");
	/* Replace every other element of row 2 with the peer's. */
	MPI_Sendrecv_replace(&a[2][0], 1, every_other, peer, 13, peer, 13, MPI_COMM_WORLD,
			     MPI_STATUS_IGNORE);
	for (int j = 0; j < COLS; j++)
		MT_CHECK(a[2][j] == (j % 2 ? me : peer) * 100 + 2 * COLS + j,
			 "replaced row element %d", j);
	MPI_Type_free(&every_other);
	h = mt_hash(h, a, sizeof(a));
	h = mt_hash(h, &in[0][1], 8);
	show("nonblocking and replace", h);
}

int main(int argc, char **argv)
{
	int size = 0;

	MPI_Init(&argc, &argv);
	mt_begin("type_p2p");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != 2) {
		MT_FAIL("needs 2 ranks, got %d", size);
		return mt_finish();
	}
	test_column();
	test_struct_holes();
	test_triangle();
	test_pairs();
	test_layouts();
	test_nonblocking();
	return mt_finish();
}
