/*
 * coll_edge.c - collectives at the edges of their argument rules:
 *   - arguments the standard makes insignificant on a rank (Gather's
 *     receive side off the root, Scatter's send side, Gatherv/Scatterv
 *     arrays, ...) passed as NULL or garbage must be ignored;
 *   - zero counts with NULL buffers, for every collective;
 *   - pair types whose extent exceeds their size (SHORT_INT,
 *     LONG_DOUBLE_INT, ...): received elements are right and the struct
 *     padding of the receive buffer keeps its bytes;
 *   - v-variants with negative displacements (the buffer pointer in the
 *     middle of an array), whose gaps must stay untouched;
 *   - Exscan leaves rank 0's buffer alone;
 *   - argument errors on which MPICH and Open MPI agree, each followed by
 *     a collective that must still work;
 *   - payloads of several MiB and a long run of 8-byte Allreduces.
 */
/* ranks: 4 */
#include <stddef.h>
#include "mt.h"

#define POISON 0xa5
#define BIG (1 << 20)          /* doubles in the large Allreduce */

static int me, np;

/* ------------------------------------------------ insignificant arguments */

static void test_significance(void)
{
	int sv[4] = { 0 }, rv[64], cnt[64], dsp[64], root = np - 1;

	for (int i = 0; i < np; i++) {
		cnt[i] = 1;
		dsp[i] = np - 1 - i;
	}
	/* Gather: the receive side is the root's alone. */
	sv[0] = 10 + me;
	memset(rv, 0, sizeof rv);
	if (me == root)
		MPI_Gather(sv, 1, MPI_INT, rv, 1, MPI_INT, root, MPI_COMM_WORLD);
	else
		MPI_Gather(sv, 1, MPI_INT, NULL, -7, MPI_DATATYPE_NULL, root, MPI_COMM_WORLD);
	for (int i = 0; me == root && i < np; i++)
		MT_EQ(rv[i], 10 + i, "gather with a NULL receive side off the root");

	/* Gatherv: counts and displacements too. */
	memset(rv, 0, sizeof rv);
	if (me == root)
		MPI_Gatherv(sv, 1, MPI_INT, rv, cnt, dsp, MPI_INT, root, MPI_COMM_WORLD);
	else
		MPI_Gatherv(sv, 1, MPI_INT, NULL, NULL, NULL, MPI_DATATYPE_NULL, root,
			    MPI_COMM_WORLD);
	for (int i = 0; me == root && i < np; i++)
		MT_EQ(rv[np - 1 - i], 10 + i, "gatherv with NULL arrays off the root");

	/* Scatter and Scatterv: the send side is the root's alone. */
	for (int i = 0; i < np; i++)
		rv[i] = 20 + i;
	sv[0] = -1;
	if (me == root)
		MPI_Scatter(rv, 1, MPI_INT, sv, 1, MPI_INT, root, MPI_COMM_WORLD);
	else
		MPI_Scatter(NULL, -3, MPI_DATATYPE_NULL, sv, 1, MPI_INT, root, MPI_COMM_WORLD);
	MT_EQ(sv[0], 20 + me, "scatter with a NULL send side off the root");
	sv[0] = -1;
	if (me == root)
		MPI_Scatterv(rv, cnt, dsp, MPI_INT, sv, 1, MPI_INT, root, MPI_COMM_WORLD);
	else
		MPI_Scatterv(NULL, NULL, NULL, MPI_DATATYPE_NULL, sv, 1, MPI_INT, root,
			     MPI_COMM_WORLD);
	MT_EQ(sv[0], 20 + np - 1 - me, "scatterv with NULL arrays off the root");

	/* Reduce: only the root receives. */
	sv[0] = me + 1;
	rv[0] = 0;
	MPI_Reduce(sv, me == root ? rv : NULL, 1, MPI_INT, MPI_SUM, root, MPI_COMM_WORLD);
	if (me == root)
		MT_EQ(rv[0], np * (np + 1) / 2, "reduce with a NULL buffer off the root");
	mt_say("insignificant arguments: NULL and garbage ignored off the root");
}

/* ------------------------------------------------------------ zero counts */

static void test_zero_counts(void)
{
	int zero[64] = { 0 }, before = 7, after = 0;
	MPI_Comm w = MPI_COMM_WORLD;

	MPI_Bcast(NULL, 0, MPI_INT, 0, w);
	MPI_Reduce(NULL, NULL, 0, MPI_INT, MPI_SUM, 0, w);
	MPI_Allreduce(NULL, NULL, 0, MPI_DOUBLE, MPI_MAX, w);
	MPI_Scan(NULL, NULL, 0, MPI_INT, MPI_SUM, w);
	MPI_Exscan(NULL, NULL, 0, MPI_INT, MPI_SUM, w);
	MPI_Gather(NULL, 0, MPI_INT, NULL, 0, MPI_INT, 0, w);
	MPI_Gatherv(NULL, 0, MPI_INT, NULL, zero, zero, MPI_INT, 0, w);
	MPI_Scatter(NULL, 0, MPI_INT, NULL, 0, MPI_INT, 0, w);
	MPI_Scatterv(NULL, zero, zero, MPI_INT, NULL, 0, MPI_INT, 0, w);
	MPI_Allgather(NULL, 0, MPI_INT, NULL, 0, MPI_INT, w);
	MPI_Allgatherv(NULL, 0, MPI_INT, NULL, zero, zero, MPI_INT, w);
	MPI_Alltoall(NULL, 0, MPI_INT, NULL, 0, MPI_INT, w);
	MPI_Alltoallv(NULL, zero, zero, MPI_INT, NULL, zero, zero, MPI_INT, w);
	MPI_Reduce_scatter(NULL, NULL, zero, MPI_INT, MPI_SUM, w);
	MPI_Reduce_scatter_block(NULL, NULL, 0, MPI_INT, MPI_SUM, w);
	MPI_Allreduce(&before, &after, 1, MPI_INT, MPI_SUM, w);
	MT_EQ(after, 7 * np, "allreduce after the zero-count calls");
	mt_say("zero counts: every collective accepts NULL buffers");
}

/* ---------------------------------------------------- pair types, padding */

struct p_fi { float v; int i; };
struct p_di { double v; int i; };
struct p_li { long v; int i; };
struct p_2i { int v; int i; };
struct p_si { short v; int i; };
struct p_ldi { long double v; int i; };

struct pair {
	const char *name;
	MPI_Datatype dt;
	size_t ext, vsize, ioff;   /* struct size, value bytes, offset of i */
	void (*set)(void *e, long v, int i);
	void (*get)(const void *e, long *v, int *i);
};

#define PAIR_FNS(tag, vt) \
	static void set_##tag(void *e, long v, int i) \
	{ struct p_##tag *p = e; p->v = (vt)v; p->i = i; } \
	static void get_##tag(const void *e, long *v, int *i) \
	{ const struct p_##tag *p = e; *v = (long)p->v; *i = p->i; }
PAIR_FNS(fi, float)
PAIR_FNS(di, double)
PAIR_FNS(li, long)
PAIR_FNS(2i, int)
PAIR_FNS(si, short)
PAIR_FNS(ldi, long double)

#define PAIR(mpi, tag, vt) { #mpi, mpi, sizeof(struct p_##tag), sizeof(vt), \
	offsetof(struct p_##tag, i), set_##tag, get_##tag }
static const struct pair pairs[] = {
	PAIR(MPI_FLOAT_INT, fi, float), PAIR(MPI_DOUBLE_INT, di, double),
	PAIR(MPI_LONG_INT, li, long), PAIR(MPI_2INT, 2i, int),
	PAIR(MPI_SHORT_INT, si, short), PAIR(MPI_LONG_DOUBLE_INT, ldi, long double),
};
#define NPAIRS ((int)(sizeof pairs / sizeof pairs[0]))
#define PN 3            /* pairs per rank */
#define PMAX (64 * 32)  /* bytes per buffer */

/* A buffer of n poisoned elements; e(k) sets element k with all the
 * struct's padding left poisoned. */
static void pair_fill(const struct pair *p, unsigned char *b, int n, int seed)
{
	memset(b, POISON, (size_t)n * p->ext);
	for (int k = 0; k < n; k++) {
		unsigned char tmp[64];
		memset(tmp, POISON, sizeof tmp);
		p->set(tmp, seed * 100 + k, seed + k);
		/* copy only the two fields, never the compiler's padding */
		memcpy(b + (size_t)k * p->ext, tmp, p->vsize);
		memcpy(b + (size_t)k * p->ext + p->ioff, tmp + p->ioff, sizeof(int));
	}
}

/* Element k must hold (want_v, want_i) and its padding must be poison. */
static void pair_check(const struct pair *p, const unsigned char *b, int k, long want_v,
		       int want_i, const char *what)
{
	const unsigned char *e = b + (size_t)k * p->ext;
	long v;
	int i;

	p->get(e, &v, &i);
	if (v != want_v || i != want_i)
		MT_FAIL("%s %s[%d]: got (%ld, %d), expected (%ld, %d)", what, p->name, k, v, i,
			want_v, want_i);
	for (size_t at = p->vsize; at < p->ioff; at++)
		MT_CHECK(e[at] == POISON, "%s %s[%d]: padding byte %zu overwritten", what,
			 p->name, k, at);
	for (size_t at = p->ioff + sizeof(int); at < p->ext; at++)
		MT_CHECK(e[at] == POISON, "%s %s[%d]: tail padding byte %zu overwritten", what,
			 p->name, k, at);
}

static void test_pairs(void)
{
	static unsigned char sb[PMAX], rb[PMAX];

	for (int t = 0; t < NPAIRS; t++) {
		const struct pair *p = &pairs[t];

		/* Bcast from the last rank. */
		pair_fill(p, rb, PN, me == np - 1 ? 7 : 0);
		if (me != np - 1)
			memset(rb, POISON, PN * p->ext);
		MPI_Bcast(rb, PN, p->dt, np - 1, MPI_COMM_WORLD);
		for (int k = 0; k < PN; k++)
			pair_check(p, rb, k, 700 + k, 7 + k, "bcast");

		/* Allgather: block r comes from rank r. */
		pair_fill(p, sb, PN, me + 1);
		memset(rb, POISON, (size_t)np * PN * p->ext);
		MPI_Allgather(sb, PN, p->dt, rb, PN, p->dt, MPI_COMM_WORLD);
		for (int r = 0; r < np; r++)
			for (int k = 0; k < PN; k++)
				pair_check(p, rb, r * PN + k, (r + 1) * 100 + k, r + 1 + k,
					   "allgather");

		/* Allreduce MAXLOC: rank np-1 holds the largest values. */
		pair_fill(p, sb, PN, me + 1);
		memset(rb, POISON, PN * p->ext);
		MPI_Allreduce(sb, rb, PN, p->dt, MPI_MAXLOC, MPI_COMM_WORLD);
		for (int k = 0; k < PN; k++)
			pair_check(p, rb, k, np * 100 + k, np + k, "allreduce maxloc");

		/* Gatherv to rank 0 with one poisoned element between blocks. */
		int cnt[64], dsp[64];
		for (int r = 0; r < np; r++) {
			cnt[r] = 1 + r % 2;
			dsp[r] = 3 * (np - 1 - r);
		}
		pair_fill(p, sb, cnt[me], me + 1);
		memset(rb, POISON, (size_t)3 * np * p->ext);
		MPI_Gatherv(sb, cnt[me], p->dt, rb, cnt, dsp, p->dt, 0, MPI_COMM_WORLD);
		for (int r = 0; me == 0 && r < np; r++) {
			for (int k = 0; k < cnt[r]; k++)
				pair_check(p, rb, dsp[r] + k, (r + 1) * 100 + k, r + 1 + k,
					   "gatherv");
			for (size_t b = (size_t)(dsp[r] + cnt[r]) * p->ext;
			     b < (size_t)(dsp[r] + 3) * p->ext; b++)
				MT_CHECK(rb[b] == POISON, "gatherv %s: gap byte %zu written",
					 p->name, b);
		}
	}
	mt_say("pair types: %d types through bcast, allgather, allreduce maxloc, gatherv; "
	       "padding untouched", NPAIRS);
}

/* ------------------------------------------------- negative displacements */

#define NEG_W 8                /* slots per rank, counts stay below */

static void test_negative_displs(void)
{
	int arr[64 * NEG_W + 8], src[64 * NEG_W + 8];
	int *mid = arr + np * NEG_W, *smid = src + np * NEG_W;
	int rcnt[64], rdsp[64], scnt[64], sdsp[64];

	/* Block r: r + 1 elements at -(r + 1) * NEG_W. */
	for (int r = 0; r < np; r++) {
		rcnt[r] = r + 1;
		rdsp[r] = -(r + 1) * NEG_W;
	}
	int mine[NEG_W];
	for (int k = 0; k < NEG_W; k++)
		mine[k] = me * 1000 + k;

	/* Allgatherv */
	for (size_t i = 0; i < sizeof arr / sizeof arr[0]; i++)
		arr[i] = -1;
	MPI_Allgatherv(mine, me + 1, MPI_INT, mid, rcnt, rdsp, MPI_INT, MPI_COMM_WORLD);
	for (int r = 0; r < np; r++)
		for (int k = 0; k < NEG_W; k++) {
			int got = mid[rdsp[r] + k];
			int want = k < rcnt[r] ? r * 1000 + k : -1;
			if (got != want)
				MT_FAIL("allgatherv negative displs: block %d slot %d: got %d, "
					"expected %d", r, k, got, want);
		}
	for (int i = 0; i < np * NEG_W; i++)
		MT_EQ(mid[i], -1, "allgatherv: bytes after the buffer pointer");

	/* Alltoallv: to rank r, me + 1 elements from smid at -(r+1)*NEG_W;
	 * from rank r, r + 1 elements into mid at -(r+1)*NEG_W. */
	for (int r = 0; r < np; r++) {
		scnt[r] = me + 1;
		sdsp[r] = -(r + 1) * NEG_W;
		for (int k = 0; k < NEG_W; k++)
			smid[sdsp[r] + k] = me * 10000 + r * 100 + k;
	}
	for (size_t i = 0; i < sizeof arr / sizeof arr[0]; i++)
		arr[i] = -1;
	MPI_Alltoallv(smid, scnt, sdsp, MPI_INT, mid, rcnt, rdsp, MPI_INT, MPI_COMM_WORLD);
	for (int r = 0; r < np; r++)
		for (int k = 0; k < NEG_W; k++) {
			int got = mid[rdsp[r] + k];
			int want = k < rcnt[r] ? r * 10000 + me * 100 + k : -1;
			if (got != want)
				MT_FAIL("alltoallv negative displs: from %d slot %d: got %d, "
					"expected %d", r, k, got, want);
		}

	/* Scatterv from rank 0 out of its negative blocks. */
	for (int r = 0; r < np; r++)
		for (int k = 0; k < NEG_W; k++)
			smid[rdsp[r] + k] = 50000 + r * 100 + k;
	int got[NEG_W];
	for (int k = 0; k < NEG_W; k++)
		got[k] = -1;
	MPI_Scatterv(smid, rcnt, rdsp, MPI_INT, got, me + 1, MPI_INT, 0, MPI_COMM_WORLD);
	for (int k = 0; k < NEG_W; k++)
		MT_EQ(got[k], k <= me ? 50000 + me * 100 + k : -1, "scatterv negative displs");
	mt_say("negative displacements: allgatherv, alltoallv, scatterv; gaps untouched");
}

/* ---------------------------------------------------------------- exscan */

static void test_exscan_rank0(void)
{
	int v[3] = { me + 1, 2 * me, 1 }, r[3] = { -5, -5, -5 };

	MPI_Exscan(v, r, 3, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	for (int k = 0; k < 3; k++) {
		int want = -5;
		if (me > 0)
			want = k == 0 ? me * (me + 1) / 2 : k == 1 ? me * (me - 1) : me;
		MT_EQ(r[k], want, me ? "exscan prefix" : "exscan keeps rank 0's buffer");
	}
	mt_say("exscan: prefixes right, rank 0's buffer untouched");
}

/* ---------------------------------------------------------- argument errors */

static void expect(int rc, int cls_want, const char *what)
{
	int cls = rc;

	if (rc != MPI_SUCCESS)
		MPI_Error_class(rc, &cls);
	MT_CHECK(cls == cls_want, "%s: expected %s, got %s", what, mt_class_name(cls_want),
		 mt_class_name(cls));
	mt_say("error: %s -> %s", what, mt_class_name(cls_want));
}

static void test_errors(void)
{
	int a[8] = { 1, 2, 3, 4 }, b[8], cnt[64], neg[64];
	MPI_Comm w = MPI_COMM_WORLD;

	for (int i = 0; i < np; i++) {
		cnt[i] = 1;
		neg[i] = i == 1 ? -1 : 1;
	}
	expect(MPI_Bcast(a, 1, MPI_DATATYPE_NULL, 0, w), MPI_ERR_TYPE, "bcast MPI_DATATYPE_NULL");
	expect(MPI_Gather(a, 1, MPI_INT, b, 1, MPI_INT, np, w), MPI_ERR_ROOT,
	       "gather root == size");
	expect(MPI_Gather(a, 1, MPI_DATATYPE_NULL, b, 1, MPI_INT, 0, w), MPI_ERR_TYPE,
	       "gather sendtype MPI_DATATYPE_NULL");
	expect(MPI_Alltoall(a, -1, MPI_INT, b, 1, MPI_INT, w), MPI_ERR_COUNT,
	       "alltoall sendcount -1");
	expect(MPI_Allreduce(a, b, 1, MPI_DATATYPE_NULL, MPI_SUM, w), MPI_ERR_OP,
	       "allreduce MPI_DATATYPE_NULL");
	expect(MPI_Allreduce(a, b, -1, MPI_INT, MPI_OP_NULL, w), MPI_ERR_OP,
	       "allreduce count -1 and MPI_OP_NULL");
	expect(MPI_Reduce(a, b, 1, MPI_INT, MPI_OP_NULL, 0, w), MPI_ERR_OP, "reduce MPI_OP_NULL");
	expect(MPI_Scan(a, b, 1, MPI_INT, MPI_OP_NULL, w), MPI_ERR_OP, "scan MPI_OP_NULL");
	expect(MPI_Exscan(a, b, 1, MPI_DATATYPE_NULL, MPI_SUM, w), MPI_ERR_OP,
	       "exscan MPI_DATATYPE_NULL");
	expect(MPI_Reduce_scatter_block(a, b, 1, MPI_DATATYPE_NULL, MPI_SUM, w), MPI_ERR_OP,
	       "reduce_scatter_block MPI_DATATYPE_NULL");
	expect(MPI_Reduce_scatter(a, b, neg, MPI_INT, MPI_SUM, w), MPI_ERR_COUNT,
	       "reduce_scatter negative count");
	expect(MPI_Reduce_scatter(a, b, cnt, MPI_DATATYPE_NULL, MPI_SUM, w), MPI_ERR_OP,
	       "reduce_scatter MPI_DATATYPE_NULL");
	expect(MPI_Allreduce(a, b, 1, MPI_2INT, MPI_SUM, w), MPI_ERR_OP, "allreduce SUM on 2INT");
	expect(MPI_Allreduce(a, b, 1, MPI_INT, MPI_MAXLOC, w), MPI_ERR_OP,
	       "allreduce MAXLOC on INT");
	b[0] = 0;
	MPI_Allreduce(a, b, 1, MPI_INT, MPI_SUM, w);
	MT_EQ(b[0], np, "allreduce after the argument errors");
}

/* ------------------------------------------------------------- big and many */

static void test_big(void)
{
	double *s = malloc(BIG * sizeof(double)), *r = malloc(BIG * sizeof(double));
	size_t blk = 256 << 10, bb = 16u << 20;
	unsigned char *a = malloc(blk * (size_t)np), *c = malloc(blk * (size_t)np);
	unsigned char *bc = malloc(bb);

	if (!s || !r || !a || !c || !bc) {
		MT_FAIL("out of memory");
		return;
	}
	for (int i = 0; i < BIG; i++)
		s[i] = (double)((i % 1000) * (me + 1));
	MPI_Allreduce(s, r, BIG, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
	int bad = 0;
	for (int i = 0; i < BIG; i++)
		bad += r[i] != (double)((i % 1000) * np * (np + 1) / 2);
	MT_EQ(bad, 0, "8 MiB allreduce: wrong elements");

	for (int d = 0; d < np; d++)
		mt_pattern(a + (size_t)d * blk, blk, (uint32_t)(me * 64 + d));
	MPI_Alltoall(a, (int)blk, MPI_BYTE, c, (int)blk, MPI_BYTE, MPI_COMM_WORLD);
	for (int src = 0; src < np; src++) {
		mt_pattern(a, blk, (uint32_t)(src * 64 + me));
		MT_CHECK(memcmp(a, c + (size_t)src * blk, blk) == 0,
			 "alltoall 256 KiB blocks: block from %d differs", src);
	}

	mt_pattern(bc, bb, me == 1 ? 99 : 5);
	MPI_Bcast(bc, (int)bb, MPI_BYTE, 1 % np, MPI_COMM_WORLD);
	uint64_t h = mt_hash(MT_HASH_INIT, bc, bb);
	mt_pattern(bc, bb, 99);
	MT_CHECK(h == mt_hash(MT_HASH_INIT, bc, bb), "16 MiB bcast: data differs");
	free(s);
	free(r);
	free(a);
	free(c);
	free(bc);
	mt_say("large: 8 MiB allreduce, 256 KiB alltoall blocks, 16 MiB bcast");
}

static void test_many_small(void)
{
	long sum = 0;

	for (int i = 0; i < 1000; i++) {
		long v = i + me, r = 0;
		MPI_Allreduce(&v, &r, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
		sum += r - ((long)i * np + (long)np * (np - 1) / 2);
	}
	MT_EQ(sum, 0, "1000 8-byte allreduces: accumulated error");
	mt_say("many small: 1000 8-byte allreduces");
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	mt_begin("coll_edge");
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &np);
	if (np > 64) {
		mt_say("needs at most 64 ranks");
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	test_significance();
	test_zero_counts();
	test_pairs();
	test_negative_displs();
	test_exscan_rank0();
	test_errors();
	test_big();
	test_many_small();
	return mt_finish();
}
