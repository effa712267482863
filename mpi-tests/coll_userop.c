/*
 * coll_userop.c - reductions with user-defined operations: a
 * non-commutative one (2x2 integer matrix product, M0 M1 ... M(n-1) in
 * rank order) on a contiguous matrix type and on a strided one whose
 * holes must stay untouched, a commutative one, and the MPI_Count
 * flavour (MPI_Op_create_c, where the MPI has it).  Every reduction: Reduce at each root (and
 * MPI_IN_PLACE), Allreduce (and MPI_IN_PLACE), Scan, Exscan,
 * Reduce_scatter_block (and MPI_IN_PLACE), Reduce_scatter with unequal
 * blocks, count 0, Reduce, Allreduce, Reduce_scatter and
 * Reduce_scatter_block on an intercommunicator; then
 * MPI_Reduce_local with user and predefined ops, MPI_Op_commutative and
 * MPI_Op_free's errors.  Expected values are products computed here,
 * directly, from the same inputs.  The user function also checks that it
 * is given the datatype handle the application passed.
 */
/* ranks: 3 */
#include "mt.h"

#define N 3            /* elements per rank in most calls */
#define MAXE 16        /* elements in any buffer */
#define SPREAD 8       /* ints per element of the strided type */
#define HOLE (-7)

static int me, np;
static MPI_Datatype mat_t, spread_t;

/* Rank r's matrix number i: [[r+1+i, 1], [1, i%2]]; products of these
 * differ with the order of the factors. */
static void input(int r, int i, int m[4])
{
	m[0] = r + 1 + i;
	m[1] = 1;
	m[2] = 1;
	m[3] = i % 2;
}

static void mul(const int a[4], const int b[4], int out[4])
{
	int t[4] = { a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3],
		     a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3] };

	memcpy(out, t, sizeof(t));
}

/* Ints per element and the step between a matrix's entries in type t. */
static int layout(MPI_Datatype t, int *stride, int *step)
{
	*stride = *step = 1;
	if (t == mat_t) {
		*stride = 4;
		*step = 1;
		return 1;
	}
	if (t == spread_t) {
		*stride = SPREAD;
		*step = 2;
		return 1;
	}
	return 0;
}

static void get(const int *buf, int stride, int step, int i, int m[4])
{
	for (int k = 0; k < 4; k++)
		m[k] = buf[i * stride + k * step];
}

static void put(int *buf, int stride, int step, int i, const int m[4])
{
	for (int k = 0; k < 4; k++)
		buf[i * stride + k * step] = m[k];
}

static void matmul_n(void *in, void *inout, long long len, MPI_Datatype *dt)
{
	int stride, step, a[4], b[4];

	if (!layout(*dt, &stride, &step)) {
		MT_FAIL("user function given an unknown datatype");
		return;
	}
	for (long long i = 0; i < len; i++) {
		get(in, stride, step, (int)i, a);
		get(inout, stride, step, (int)i, b);
		mul(a, b, b);
		put(inout, stride, step, (int)i, b);
	}
}

static void matmul(void *in, void *inout, int *len, MPI_Datatype *dt)
{
	matmul_n(in, inout, *len, dt);
}

#if MPI_VERSION >= 4
static void matmul_c(void *in, void *inout, MPI_Count *len, MPI_Datatype *dt)
{
	matmul_n(in, inout, *len, dt);
}
#endif

static void isum(void *in, void *inout, int *len, MPI_Datatype *dt)
{
	(void)dt;
	for (int i = 0; i < *len; i++)
		((int *)inout)[i] += ((int *)in)[i];
}

/* Product of ranks [first, last] of matrix number i. */
static void expect(int first, int last, int i, int m[4])
{
	int x[4];

	m[0] = m[3] = 1;
	m[1] = m[2] = 0;
	for (int r = first; r <= last; r++) {
		input(r, i, x);
		mul(m, x, m);
	}
}

static void fill_input(int *buf, MPI_Datatype t, int first, int n)
{
	int stride, step, m[4];

	layout(t, &stride, &step);
	for (int i = 0; i < MAXE * SPREAD; i++)
		buf[i] = HOLE;
	for (int i = 0; i < n; i++) {
		input(me, first + i, m);
		put(buf, stride, step, i, m);
	}
}

static void clear(int *buf)
{
	for (int i = 0; i < MAXE * SPREAD; i++)
		buf[i] = HOLE;
}

/* buf holds n products of ranks [first, last], numbers from i0, HOLE in
 * their holes and, unless tail is 0, everywhere after them. */
static void check_tail(const int *buf, MPI_Datatype t, int n, int i0, int first, int last,
		       int tail, const char *what)
{
	int stride, step, got[4], want[4];

	layout(t, &stride, &step);
	for (int i = 0; i < n; i++) {
		get(buf, stride, step, i, got);
		expect(first, last, i0 + i, want);
		MT_CHECK(!memcmp(got, want, sizeof(got)), "%s: element %d is [%d %d %d %d], "
			 "expected [%d %d %d %d]", what, i, got[0], got[1], got[2], got[3],
			 want[0], want[1], want[2], want[3]);
		for (int k = 0; k < stride; k++)
			MT_CHECK(k % step == 0 && k / step < 4 ? 1 : buf[i * stride + k] == HOLE,
				 "%s: element %d: hole %d written", what, i, k);
	}
	for (int k = n * stride; tail && k < MAXE * SPREAD; k++)
		MT_CHECK(buf[k] == HOLE, "%s: int %d past the result written", what, k);
}

static void check(const int *buf, MPI_Datatype t, int n, int i0, int first, int last,
		  const char *what)
{
	check_tail(buf, t, n, i0, first, last, 1, what);
}

static int sbuf[MAXE * SPREAD], rbuf[MAXE * SPREAD];

static void test_rooted(MPI_Datatype t, MPI_Op op, const char *name)
{
	char what[64];

	for (int root = 0; root < np; root++) {
		snprintf(what, sizeof(what), "%s reduce root %d", name, root);
		fill_input(sbuf, t, 0, N);
		clear(rbuf);
		MPI_Reduce(sbuf, rbuf, N, t, op, root, MPI_COMM_WORLD);
		if (me == root)
			check(rbuf, t, N, 0, 0, np - 1, what);
		else
			check(rbuf, t, 0, 0, 0, 0, what);
		snprintf(what, sizeof(what), "%s reduce in place root %d", name, root);
		fill_input(rbuf, t, 0, N);
		MPI_Reduce(me == root ? MPI_IN_PLACE : rbuf, rbuf, N, t, op, root,
			   MPI_COMM_WORLD);
		if (me == root)
			check(rbuf, t, N, 0, 0, np - 1, what);
	}
	mt_say("%s: reduce at every root, in place too", name);
}

static void test_all(MPI_Datatype t, MPI_Op op, const char *name)
{
	char what[64];

	snprintf(what, sizeof(what), "%s allreduce", name);
	fill_input(sbuf, t, 0, N);
	clear(rbuf);
	MPI_Allreduce(sbuf, rbuf, N, t, op, MPI_COMM_WORLD);
	check(rbuf, t, N, 0, 0, np - 1, what);
	fill_input(rbuf, t, 0, N);
	MPI_Allreduce(MPI_IN_PLACE, rbuf, N, t, op, MPI_COMM_WORLD);
	check(rbuf, t, N, 0, 0, np - 1, what);

	snprintf(what, sizeof(what), "%s scan", name);
	clear(rbuf);
	MPI_Scan(sbuf, rbuf, N, t, op, MPI_COMM_WORLD);
	check(rbuf, t, N, 0, 0, me, what);
	snprintf(what, sizeof(what), "%s exscan", name);
	clear(rbuf);
	MPI_Exscan(sbuf, rbuf, N, t, op, MPI_COMM_WORLD);
	if (me > 0)
		check(rbuf, t, N, 0, 0, me - 1, what);

	snprintf(what, sizeof(what), "%s count 0", name);
	clear(rbuf);
	MPI_Allreduce(sbuf, rbuf, 0, t, op, MPI_COMM_WORLD);
	MPI_Reduce(sbuf, rbuf, 0, t, op, 0, MPI_COMM_WORLD);
	MPI_Scan(sbuf, rbuf, 0, t, op, MPI_COMM_WORLD);
	check(rbuf, t, 0, 0, 0, 0, what);
	mt_say("%s: allreduce, scan, exscan, count 0", name);
}

static void test_scatter(MPI_Datatype t, MPI_Op op, const char *name)
{
	int counts[MAXE], at = 0;
	char what[64];

	snprintf(what, sizeof(what), "%s reduce_scatter_block", name);
	fill_input(sbuf, t, 0, 2 * np);
	clear(rbuf);
	MPI_Reduce_scatter_block(sbuf, rbuf, 2, t, op, MPI_COMM_WORLD);
	check(rbuf, t, 2, 2 * me, 0, np - 1, what);
	fill_input(rbuf, t, 0, 2 * np);
	MPI_Reduce_scatter_block(MPI_IN_PLACE, rbuf, 2, t, op, MPI_COMM_WORLD);
	check_tail(rbuf, t, 2, 2 * me, 0, np - 1, 0, what);

	snprintf(what, sizeof(what), "%s reduce_scatter", name);
	for (int i = 0; i < np; i++) {
		counts[i] = i == 1 ? 0 : i + 1;
		if (i < me)
			at += counts[i];
	}
	int total = at;
	for (int i = me; i < np; i++)
		total += counts[i];
	fill_input(sbuf, t, 0, total);
	clear(rbuf);
	MPI_Reduce_scatter(sbuf, rbuf, counts, t, op, MPI_COMM_WORLD);
	check(rbuf, t, counts[me], at, 0, np - 1, what);
	mt_say("%s: reduce_scatter_block (in place too), reduce_scatter", name);
}

/* World rank 0 against the others. */
static void test_inter(MPI_Op op)
{
	MPI_Comm local, inter;
	int lrank;

	MPI_Comm_split(MPI_COMM_WORLD, me == 0, me, &local);
	MPI_Comm_rank(local, &lrank);
	MPI_Intercomm_create(local, 0, MPI_COMM_WORLD, me == 0 ? 1 : 0, 7, &inter);
	/* Group A (rank 0) gets B's product; B's products are ranks 1..np-1. */
	fill_input(sbuf, mat_t, 0, N);
	clear(rbuf);
	if (me == 0)
		MPI_Reduce(sbuf, rbuf, N, mat_t, op, MPI_ROOT, inter);
	else
		MPI_Reduce(sbuf, rbuf, N, mat_t, op, 0, inter);
	check(rbuf, mat_t, me == 0 ? N : 0, 0, 1, np - 1, "intercomm reduce");
	clear(rbuf);
	MPI_Allreduce(sbuf, rbuf, N, mat_t, op, inter);
	if (me == 0)
		check(rbuf, mat_t, N, 0, 1, np - 1, "intercomm allreduce");
	else
		check(rbuf, mat_t, N, 0, 0, 0, "intercomm allreduce");
	/* Reduce_scatter: each group's recvcounts add up to the same total
	 * (4); A (one rank) keeps all of B's product, B's ranks split A's. */
	int counts[MAXE] = { 0 }, nb = np - 1;
	counts[0] = me == 0 ? 4 : 1;
	counts[1] = 3;
	fill_input(sbuf, mat_t, 0, 4);
	clear(rbuf);
	MPI_Reduce_scatter(sbuf, rbuf, counts, mat_t, op, inter);
	if (me == 0)
		check(rbuf, mat_t, 4, 0, 1, np - 1, "intercomm reduce_scatter");
	else
		check(rbuf, mat_t, counts[lrank], lrank ? 1 : 0, 0, 0, "intercomm reduce_scatter");
	/* Reduce_scatter_block: A's one block is as long as B's nb blocks. */
	fill_input(sbuf, mat_t, 0, 2 * nb);
	clear(rbuf);
	MPI_Reduce_scatter_block(sbuf, rbuf, me == 0 ? 2 * nb : 2, mat_t, op, inter);
	if (me == 0)
		check(rbuf, mat_t, 2 * nb, 0, 1, np - 1, "intercomm reduce_scatter_block");
	else
		check(rbuf, mat_t, 2, 2 * lrank, 0, 0, "intercomm reduce_scatter_block");
	MPI_Comm_free(&inter);
	MPI_Comm_free(&local);
	mt_say("intercommunicator: reduce, allreduce, reduce_scatter(_block)");
}

static void test_local(MPI_Op mat_op)
{
	int a[4], b[4], want[4];
	int x[3] = { 5, -2, 7 }, y[3] = { 1, 4, -9 };
	int p[4] = { 3, 8, 3, 1 }, q[4] = { 3, 2, 9, 0 };
	unsigned char u[2] = { 0xf0, 0x33 }, v[2] = { 0x0f, 0x35 };

	input(1, 0, a);
	input(2, 1, b);
	mul(a, b, want);
	MPI_Reduce_local(a, b, 1, mat_t, mat_op);
	MT_CHECK(!memcmp(b, want, sizeof(b)), "reduce_local user op");
	MPI_Reduce_local(x, y, 3, MPI_INT, MPI_SUM);
	MT_CHECK(y[0] == 6 && y[1] == 2 && y[2] == -2, "reduce_local SUM");
	MPI_Reduce_local(p, q, 2, MPI_2INT, MPI_MAXLOC);
	MT_CHECK(q[0] == 3 && q[1] == 2 && q[2] == 9 && q[3] == 0, "reduce_local MAXLOC");
	MPI_Reduce_local(p, q, 2, MPI_2INT, MPI_MINLOC);
	MT_CHECK(q[0] == 3 && q[1] == 2 && q[2] == 3 && q[3] == 1, "reduce_local MINLOC");
	MPI_Reduce_local(u, v, 2, MPI_BYTE, MPI_BXOR);
	MT_CHECK(v[0] == 0xff && v[1] == 0x06, "reduce_local BXOR");
	mt_say("reduce_local: user op, SUM, MAXLOC, MINLOC, BXOR");
}

static void test_op_objects(MPI_Op nc, MPI_Op c)
{
	int commute = -1, err, cls;
	MPI_Op op;

	MPI_Op_commutative(nc, &commute);
	MT_EQ(commute, 0, "non-commutative user op");
	MPI_Op_commutative(c, &commute);
	MT_EQ(commute, 1, "commutative user op");
	MPI_Op_commutative(MPI_SUM, &commute);
	MT_EQ(commute, 1, "MPI_SUM");
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	op = MPI_SUM;
	err = MPI_Op_free(&op);
	MPI_Error_class(err, &cls);
	MT_EQ(cls, MPI_ERR_OP, "Op_free(MPI_SUM)");
	op = MPI_OP_NULL;
	err = MPI_Op_free(&op);
	MPI_Error_class(err, &cls);
	MT_EQ(cls, MPI_ERR_OP, "Op_free(MPI_OP_NULL)");
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
	mt_say("op_commutative, op_free errors");
}

int main(int argc, char **argv)
{
	MPI_Op nc, nc_c, c;

	MPI_Init(&argc, &argv);
	mt_begin("coll_userop");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &np);
	MPI_Type_contiguous(4, MPI_INT, &mat_t);
	MPI_Type_commit(&mat_t);
	MPI_Datatype v;
	MPI_Type_vector(4, 1, 2, MPI_INT, &v);
	MPI_Type_create_resized(v, 0, SPREAD * sizeof(int), &spread_t);
	MPI_Type_commit(&spread_t);
	MPI_Type_free(&v);
	MPI_Op_create(matmul, 0, &nc);
#if MPI_VERSION >= 4
	MPI_Op_create_c(matmul_c, 0, &nc_c);
#else
	MPI_Op_create(matmul, 0, &nc_c);   /* Open MPI 4.1 has no MPI_Op_create_c */
#endif
	MPI_Op_create(isum, 1, &c);

	test_rooted(mat_t, nc, "matrix");
	test_rooted(spread_t, nc, "strided matrix");
	test_all(mat_t, nc, "matrix");
	test_all(spread_t, nc_c, "strided matrix");
	test_scatter(mat_t, nc, "matrix");
	test_scatter(spread_t, nc, "strided matrix");

	int one = me + 1, sum = 0;
	MPI_Allreduce(&one, &sum, 1, MPI_INT, c, MPI_COMM_WORLD);
	MT_EQ(sum, np * (np + 1) / 2, "commutative user op allreduce");
	mt_say("commutative user op: allreduce");

	if (np >= 2)
		test_inter(nc);
	test_local(nc);
	test_op_objects(nc, c);

	MPI_Op_free(&nc);
	MT_CHECK(nc == MPI_OP_NULL, "Op_free leaves MPI_OP_NULL");
	MPI_Op_free(&nc_c);
	MPI_Op_free(&c);
	MPI_Type_free(&mat_t);
	MPI_Type_free(&spread_t);
	return mt_finish();
}
