/*
 * reduce_big.c - the large-count reductions in chunks (shim/redbig.c),
 * with small buffers: the program sets DMTCP_MPI_TEST_REDUCE_CHUNK=1000,
 * so that dmtcp_mpi cuts every reduction of more than 1000 elements into
 * chunks as it cuts those beyond INT_MAX; a native MPI ignores it.
 *
 * Blocking and nonblocking Reduce_c (and MPI_IN_PLACE), Allreduce_c,
 * Scan_c, Exscan_c, Reduce_scatter_block_c and Reduce_scatter_c (blocks
 * above and below the limit, and MPI_IN_PLACE) on MPI_INT, MPI_BYTE
 * (MPI_BOR), MPI_SIGNED_CHAR (MPI_MAX), and a non-commutative user
 * operation on a datatype with holes (the holes must stay as they were,
 * the chunks must keep rank order); Reduce_local_c with that operation.
 * The nonblocking ones are completed by Waitall, Wait, a Test loop and
 * Waitany, mixed with a point-to-point request.  Every expected value is
 * computed here, directly, from the inputs.
 *
 * Open MPI 4.1 has no _c function: there the checks are skipped and the
 * same lines printed, so the native outputs agree; through dmtcp_mpi
 * the calls exist under both MPIs and must pass.
 */
/* ranks: 2 */
#include "mt.h"

#define N 10007         /* elements per reduction: 11 chunks of <= 1000 */
#define HOLE 0x5a5a5a5au

static int me, np;

#if MPI_VERSION >= 4
/* Rank r's int number i. */
static int val(int r, int i)
{
	return (r + 1) * (i % 977) - r * 3;
}

static void fill_ints(int *v, int n, int r, int shift)
{
	for (int i = 0; i < n; i++)
		v[i] = val(r, i + shift);
}

/* Sum over ranks lo..hi-1 of their number i. */
static int sum_of(int lo, int hi, int i)
{
	int s = 0;

	for (int r = lo; r < hi; r++)
		s += val(r, i);
	return s;
}

static void check_ints(const int *got, int n, int lo, int hi, int shift, const char *what)
{
	int bad = 0;

	for (int i = 0; i < n && bad < 3; i++)
		if (got[i] != sum_of(lo, hi, i + shift)) {
			MT_FAIL("%s: element %d: got %d, expected %d", what, i, got[i],
				sum_of(lo, hi, i + shift));
			bad++;
		}
}

static void predefined_ints(void)
{
	static int in[2 * N], out[2 * N];

	fill_ints(in, N, me, 0);
	memset(out, 0, sizeof out);
	MPI_Allreduce_c(in, out, N, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	check_ints(out, N, 0, np, 0, "Allreduce_c");
	for (int root = 0; root < np; root++) {
		memset(out, 0, sizeof out);
		MPI_Reduce_c(in, out, N, MPI_INT, MPI_SUM, root, MPI_COMM_WORLD);
		if (me == root)
			check_ints(out, N, 0, np, 0, "Reduce_c");
	}
	fill_ints(out, N, me, 0);
	MPI_Reduce_c(me == 0 ? MPI_IN_PLACE : out, out, N, MPI_INT, MPI_SUM, 0,
		     MPI_COMM_WORLD);
	if (me == 0)
		check_ints(out, N, 0, np, 0, "Reduce_c in place");
	fill_ints(out, N, me, 0);
	MPI_Allreduce_c(MPI_IN_PLACE, out, N, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	check_ints(out, N, 0, np, 0, "Allreduce_c in place");
	MPI_Scan_c(in, out, N, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	check_ints(out, N, 0, me + 1, 0, "Scan_c");
	MPI_Exscan_c(in, out, N, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	if (me > 0)
		check_ints(out, N, 0, me, 0, "Exscan_c");
}

static void bytes(void)
{
	static unsigned char b[N], bor[N];
	static signed char s[N], smax[N];

	for (int i = 0; i < N; i++) {
		b[i] = (unsigned char)(1u << ((i + me) % 8));
		s[i] = (signed char)((i * (me + 3)) % 251 - 125);
	}
	MPI_Allreduce_c(b, bor, N, MPI_BYTE, MPI_BOR, MPI_COMM_WORLD);
	MPI_Allreduce_c(s, smax, N, MPI_SIGNED_CHAR, MPI_MAX, MPI_COMM_WORLD);
	for (int i = 0, bad = 0; i < N && bad < 3; i++) {
		unsigned want = 0;
		int m = -128;
		for (int r = 0; r < np; r++) {
			int v = (i * (r + 3)) % 251 - 125;
			want |= 1u << ((i + r) % 8);
			m = v > m ? v : m;
		}
		if (bor[i] != want || smax[i] != m) {
			MT_FAIL("byte %d: BOR %u (expected %u), MAX %d (expected %d)", i, bor[i],
				want, smax[i], m);
			bad++;
		}
	}
}

static void scatters(void)
{
	enum { B = 2500 };               /* a block above the limit */
	static int in[2 * B * 2], out[2 * B * 2];
	MPI_Count counts[2] = { 1500, 700 };  /* one above, one below */
	int shift = me == 0 ? 0 : 1500;

	fill_ints(in, np * B, me, 0);
	MPI_Reduce_scatter_block_c(in, out, B, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	check_ints(out, B, 0, np, me * B, "Reduce_scatter_block_c");
	fill_ints(out, np * B, me, 0);
	MPI_Reduce_scatter_block_c(MPI_IN_PLACE, out, B, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	check_ints(out, B, 0, np, me * B, "Reduce_scatter_block_c in place");
	MPI_Reduce_scatter_c(in, out, counts, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	check_ints(out, (int)counts[me], 0, np, shift, "Reduce_scatter_c");
	fill_ints(out, 2200, me, 0);
	MPI_Reduce_scatter_c(MPI_IN_PLACE, out, counts, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	check_ints(out, (int)counts[me], 0, np, shift, "Reduce_scatter_c in place");
}

/* ---- a non-commutative user operation on a datatype with holes ---- */

/* Element: the map x -> m*x + c (mod 2^32) in the first two of three
 * unsigned ints; the third is a hole.  in op inout = in after inout. */
static void compose(void *in, void *inout, int *len, MPI_Datatype *t)
{
	const unsigned *u = in;
	unsigned *v = inout;

	(void)t;
	for (int i = 0; i < *len; i++, u += 3, v += 3) {
		unsigned m = u[0] * v[0], c = u[0] * v[1] + u[1];
		v[0] = m;
		v[1] = c;
	}
}

static void affine(int r, int i, unsigned e[3])
{
	e[0] = (unsigned)(2 * (i % 13) + r + 1);
	e[1] = (unsigned)(i * 7 + r * 101);
	e[2] = HOLE;
}

static void affine_fill(unsigned *v, int n, int r)
{
	for (int i = 0; i < n; i++)
		affine(r, i, &v[3 * i]);
}

/* x(lo) op ... op x(hi-1), composed here. */
static void affine_want(int lo, int hi, int i, unsigned w[2])
{
	unsigned e[3];

	affine(hi - 1, i, e);
	w[0] = e[0];
	w[1] = e[1];
	for (int r = hi - 2; r >= lo; r--) {
		affine(r, i, e);
		unsigned m = e[0] * w[0], c = e[0] * w[1] + e[1];
		w[0] = m;
		w[1] = c;
	}
}

static void affine_check(const unsigned *got, int n, int lo, int hi, const char *what)
{
	for (int i = 0, bad = 0; i < n && bad < 3; i++) {
		unsigned w[2];
		affine_want(lo, hi, i, w);
		if (got[3 * i] != w[0] || got[3 * i + 1] != w[1] || got[3 * i + 2] != HOLE) {
			MT_FAIL("%s: element %d: (%u, %u, hole %#x), expected (%u, %u)", what, i,
				got[3 * i], got[3 * i + 1], got[3 * i + 2], w[0], w[1]);
			bad++;
		}
	}
}

static void user_op(MPI_Datatype t, MPI_Op op)
{
	static unsigned in[3 * N], out[3 * N];

	affine_fill(in, N, me);
	affine_fill(out, N, 0); /* holes HOLE, the rest overwritten */
	MPI_Allreduce_c(in, out, N, t, op, MPI_COMM_WORLD);
	affine_check(out, N, 0, np, "Allreduce_c user op");
	affine_fill(out, N, 0);
	MPI_Scan_c(in, out, N, t, op, MPI_COMM_WORLD);
	affine_check(out, N, 0, me + 1, "Scan_c user op");
	/* Reduce_local_c: inout = in op inout, rank 0's after rank 1's. */
	affine_fill(in, N, 0);
	affine_fill(out, N, 1);
	MPI_Reduce_local_c(in, out, N, t, op);
	affine_check(out, N, 0, 2, "Reduce_local_c user op");
}

static void nonblocking(MPI_Datatype t, MPI_Op op)
{
	static int in[N], sum[N], red[N], scan[N], rsb[3000];
	static unsigned uin[3 * N], uout[3 * N];
	MPI_Request r[4];
	int flag = 0, idx = -1, token = me, got = -1;

	fill_ints(in, N, me, 0);
	affine_fill(uin, N, me);
	affine_fill(uout, N, 0);
	MPI_Iallreduce_c(in, sum, N, MPI_INT, MPI_SUM, MPI_COMM_WORLD, &r[0]);
	MPI_Ireduce_c(in, red, N, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD, &r[1]);
	MPI_Irecv(&got, 1, MPI_INT, (me + 1) % np, 5, MPI_COMM_WORLD, &r[2]);
	MPI_Iscan_c(in, scan, N, MPI_INT, MPI_SUM, MPI_COMM_WORLD, &r[3]);
	MPI_Send(&token, 1, MPI_INT, (me + np - 1) % np, 5, MPI_COMM_WORLD);
	MPI_Waitall(4, r, MPI_STATUSES_IGNORE);
	check_ints(sum, N, 0, np, 0, "Iallreduce_c");
	if (me == 0)
		check_ints(red, N, 0, np, 0, "Ireduce_c");
	check_ints(scan, N, 0, me + 1, 0, "Iscan_c");
	MT_EQ(got, (me + 1) % np, "Irecv among chunked requests");

	MPI_Iallreduce_c(uin, uout, N, t, op, MPI_COMM_WORLD, &r[0]);
	MPI_Wait(&r[0], MPI_STATUS_IGNORE);
	MT_CHECK(r[0] == MPI_REQUEST_NULL, "Wait left the request");
	affine_check(uout, N, 0, np, "Iallreduce_c user op");

	fill_ints(in, np * 1500, me, 0);
	MPI_Ireduce_scatter_block_c(in, rsb, 1500, MPI_INT, MPI_SUM, MPI_COMM_WORLD, &r[0]);
	while (!flag)
		MPI_Test(&r[0], &flag, MPI_STATUS_IGNORE);
	MT_CHECK(r[0] == MPI_REQUEST_NULL, "Test left the request");
	check_ints(rsb, 1500, 0, np, me * 1500, "Ireduce_scatter_block_c");

	fill_ints(in, N, me, 0);
	MPI_Iexscan_c(in, scan, N, MPI_INT, MPI_SUM, MPI_COMM_WORLD, &r[0]);
	r[1] = MPI_REQUEST_NULL;
	MPI_Waitany(2, r, &idx, MPI_STATUS_IGNORE);
	MT_EQ(idx, 0, "Waitany index");
	if (me > 0)
		check_ints(scan, N, 0, me, 0, "Iexscan_c");
}
#endif

int main(int argc, char **argv)
{
	/* Only dmtcp_mpi reads it: chunks of 1000 elements. */
	setenv("DMTCP_MPI_TEST_REDUCE_CHUNK", "1000", 1);
	MPI_Init(&argc, &argv);
	mt_begin("reduce_big");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &np);
#if MPI_VERSION >= 4
	predefined_ints();
	bytes();
	scatters();
#endif
	mt_say("Reduce_c, Allreduce_c, Scan_c, Exscan_c of %d ints; BOR on MPI_BYTE, MAX on "
	       "MPI_SIGNED_CHAR; Reduce_scatter_block_c, Reduce_scatter_c", N);
#if MPI_VERSION >= 4
	MPI_Datatype pair, t;
	MPI_Op op;
	MPI_Type_contiguous(2, MPI_UNSIGNED, &pair);
	MPI_Type_create_resized(pair, 0, 3 * sizeof(unsigned), &t);
	MPI_Type_commit(&t);
	MPI_Op_create(compose, 0, &op);
	user_op(t, op);
	nonblocking(t, op);
	MPI_Op_free(&op);
	MPI_Type_free(&t);
	MPI_Type_free(&pair);
#endif
	mt_say("user operation on a type with holes; Reduce_local_c; nonblocking ones by "
	       "Waitall, Wait, Test, Waitany");
	return mt_finish();
}
