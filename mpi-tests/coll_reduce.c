/*
 * coll_reduce.c - the reducing collectives: Reduce (every root, and
 * MPI_IN_PLACE at the root), Allreduce, Reduce_scatter_block,
 * Reduce_scatter, Scan, Exscan (each also MPI_IN_PLACE), for every pair of
 * predefined type (mt_types.h) and predefined op that the standard allows:
 * SUM PROD MIN MAX on numbers (SUM PROD only on complex), the logical ops
 * on integers and C_BOOL, the bitwise ops on integers and BYTE.  Inputs
 * are small exact integers so every result is exact whatever the
 * reduction order; the expected value is folded here, rank by rank, from
 * the same inputs.  Runs on MPI_COMM_WORLD and on a split communicator in
 * reversed order (plus its size-1 leftover), where Scan order matters.
 */
/* ranks: 3 */
#include "mt_types.h"

#define N 7          /* elements per Reduce/Allreduce/Scan */
#define BLK 3        /* elements per rank in Reduce_scatter_block */
#define MAXE 64

enum { SUM, PROD, MIN, MAX, LAND, LOR, LXOR, BAND, BOR, BXOR, NOPS };

static const char *const op_names[NOPS] = {
	"SUM", "PROD", "MIN", "MAX", "LAND", "LOR", "LXOR", "BAND", "BOR", "BXOR",
};
static MPI_Op mpi_op[NOPS];

static int me, np, salt;
static uint64_t hash;
static unsigned char sbuf[MAXE * 32], rbuf[MAXE * 32];

static int op_valid(int op, enum mt_kind k)
{
	switch (k) {
	case MT_SIGNED:
	case MT_UNSIGNED:
		return 1;
	case MT_FLOAT:
		return op <= MAX;
	case MT_COMPLEX:
		return op == SUM || op == PROD;
	case MT_BOOL:
		return op == LAND || op == LOR || op == LXOR;
	case MT_BYTE:
		return op >= BAND;
	default:
		return 0;
	}
}

/* Rank r's input for element i under op: small, exact, in range for t. */
static void input(const struct mt_type *t, int op, int r, int i, long double *re, long double *im)
{
	static const int sprod[4] = { -2, -1, 1, 2 }, uprod[3] = { 1, 2, 3 }, cim[3] = { 0, 1, -1 };
	int neg = t->kind == MT_SIGNED || t->kind == MT_FLOAT || t->kind == MT_COMPLEX;
	long long x;

	*im = 0;
	if (op == PROD) {
		*re = neg ? sprod[(r + i) % 4] : uprod[(r + i) % 3];
		if (t->kind == MT_COMPLEX)
			*im = cim[(r + 2 * i) % 3];
	} else if (op == LAND || op == LOR || op == LXOR) {
		*re = (r + i + salt) % 3 == 0 ? 0 : t->kind == MT_BOOL ? 1 : 1 + 2 * (i % 3);
	} else if (op >= BAND) {
		x = (r * 37 + i * 11 + salt) & 0x7f;
		if (t->size >= 2)
			x = (x << (8 * (t->size - 2))) | ((r + i) & 3);
		*re = x;
	} else {
		*re = (r * 7 + i * 3 + salt) % 11 - (neg ? 5 : 0);
		if (t->kind == MT_COMPLEX)
			*im = (r * 5 + i) % 7 - 3;
	}
}

static void fold(int op, long double *re, long double *im, long double xr, long double xi)
{
	unsigned long long a = (unsigned long long)*re, b = (unsigned long long)xr;
	long double r0 = *re;

	switch (op) {
	case SUM: *re += xr; *im += xi; break;
	case PROD: *re = r0 * xr - *im * xi; *im = r0 * xi + *im * xr; break;
	case MIN: if (xr < *re) *re = xr; break;
	case MAX: if (xr > *re) *re = xr; break;
	case LAND: *re = (*re != 0) && (xr != 0); break;
	case LOR: *re = (*re != 0) || (xr != 0); break;
	case LXOR: *re = (*re != 0) != (xr != 0); break;
	case BAND: *re = a & b; break;
	case BOR: *re = a | b; break;
	case BXOR: *re = a ^ b; break;
	}
}

/* The reduction of element i over comm ranks [lo, hi]. */
static void expected(const struct mt_type *t, int op, int lo, int hi, int i, long double *re,
		     long double *im)
{
	long double xr, xi;

	input(t, op, lo, i, re, im);
	for (int r = lo + 1; r <= hi; r++) {
		input(t, op, r, i, &xr, &xi);
		fold(op, re, im, xr, xi);
	}
	if (t->kind == MT_BOOL)
		*re = *re != 0;
}

static void fill(const struct mt_type *t, int op, void *buf, int n)
{
	long double re, im;

	for (int i = 0; i < n; i++) {
		input(t, op, me, i, &re, &im);
		t->set(buf, i, re, im);
	}
}

/* Mismatches in buf[0..n) against elements first.. reduced over [lo, hi]. */
static int bad(const struct mt_type *t, int op, const void *buf, int first, int n, int lo, int hi)
{
	long double re, im, wre, wim;
	int errs = 0;

	for (int i = 0; i < n; i++) {
		t->get(buf, i, &re, &im);
		expected(t, op, lo, hi, first + i, &wre, &wim);
		errs += re != wre || im != wim;
		long long pair[2] = { (long long)re, (long long)im };
		hash = mt_hash(hash, pair, sizeof pair);
	}
	return errs;
}

static int run_reduce(const struct mt_type *t, int op, MPI_Comm comm)
{
	int errs = 0;

	for (int root = 0; root < np; root++) {
		fill(t, op, sbuf, N);
		MPI_Reduce(sbuf, rbuf, N, t->dt, mpi_op[op], root, comm);
		if (me == root)
			errs += bad(t, op, rbuf, 0, N, 0, np - 1);
	}
	/* In place at the last rank; the others pass no receive buffer. */
	fill(t, op, me == np - 1 ? rbuf : sbuf, N);
	if (me == np - 1)
		MPI_Reduce(MPI_IN_PLACE, rbuf, N, t->dt, mpi_op[op], np - 1, comm);
	else
		MPI_Reduce(sbuf, NULL, N, t->dt, mpi_op[op], np - 1, comm);
	if (me == np - 1)
		errs += bad(t, op, rbuf, 0, N, 0, np - 1);
	return errs;
}

static int run_allreduce(const struct mt_type *t, int op, MPI_Comm comm)
{
	int errs;

	fill(t, op, sbuf, N);
	MPI_Allreduce(sbuf, rbuf, N, t->dt, mpi_op[op], comm);
	errs = bad(t, op, rbuf, 0, N, 0, np - 1);
	fill(t, op, rbuf, N);
	MPI_Allreduce(MPI_IN_PLACE, rbuf, N, t->dt, mpi_op[op], comm);
	return errs + bad(t, op, rbuf, 0, N, 0, np - 1);
}

static int run_reduce_scatter_block(const struct mt_type *t, int op, MPI_Comm comm)
{
	int errs;

	fill(t, op, sbuf, BLK * np);
	MPI_Reduce_scatter_block(sbuf, rbuf, BLK, t->dt, mpi_op[op], comm);
	errs = bad(t, op, rbuf, me * BLK, BLK, 0, np - 1);
	fill(t, op, rbuf, BLK * np);
	MPI_Reduce_scatter_block(MPI_IN_PLACE, rbuf, BLK, t->dt, mpi_op[op], comm);
	return errs + bad(t, op, rbuf, me * BLK, BLK, 0, np - 1);
}

/* Rank r gets r + 1 elements, in rank order. */
static int run_reduce_scatter(const struct mt_type *t, int op, MPI_Comm comm)
{
	int counts[8], total = 0, first = 0, errs;

	for (int r = 0; r < np; r++) {
		counts[r] = r + 1;
		if (r < me)
			first += counts[r];
		total += counts[r];
	}
	fill(t, op, sbuf, total);
	MPI_Reduce_scatter(sbuf, rbuf, counts, t->dt, mpi_op[op], comm);
	errs = bad(t, op, rbuf, first, counts[me], 0, np - 1);
	fill(t, op, rbuf, total);
	MPI_Reduce_scatter(MPI_IN_PLACE, rbuf, counts, t->dt, mpi_op[op], comm);
	return errs + bad(t, op, rbuf, first, counts[me], 0, np - 1);
}

static int run_scan(const struct mt_type *t, int op, MPI_Comm comm)
{
	int errs;

	fill(t, op, sbuf, N);
	MPI_Scan(sbuf, rbuf, N, t->dt, mpi_op[op], comm);
	errs = bad(t, op, rbuf, 0, N, 0, me);
	fill(t, op, rbuf, N);
	MPI_Scan(MPI_IN_PLACE, rbuf, N, t->dt, mpi_op[op], comm);
	return errs + bad(t, op, rbuf, 0, N, 0, me);
}

/* Rank 0's Exscan result is undefined, so only the others are checked. */
static int run_exscan(const struct mt_type *t, int op, MPI_Comm comm)
{
	int errs = 0;

	fill(t, op, sbuf, N);
	MPI_Exscan(sbuf, rbuf, N, t->dt, mpi_op[op], comm);
	if (me > 0)
		errs += bad(t, op, rbuf, 0, N, 0, me - 1);
	fill(t, op, rbuf, N);
	MPI_Exscan(MPI_IN_PLACE, rbuf, N, t->dt, mpi_op[op], comm);
	if (me > 0)
		errs += bad(t, op, rbuf, 0, N, 0, me - 1);
	return errs;
}

static const struct {
	const char *name;
	int (*run)(const struct mt_type *, int, MPI_Comm);
} colls[] = {
	{ "reduce", run_reduce },
	{ "allreduce", run_allreduce },
	{ "reduce_scatter_block", run_reduce_scatter_block },
	{ "reduce_scatter", run_reduce_scatter },
	{ "scan", run_scan },
	{ "exscan", run_exscan },
};

static void sweep(MPI_Comm comm, const char *label)
{
	MPI_Comm_rank(comm, &me);
	MPI_Comm_size(comm, &np);
	for (size_t c = 0; c < sizeof colls / sizeof colls[0]; c++) {
		int pairs = 0, errs = 0;

		hash = MT_HASH_INIT;
		for (int k = 0; k < MT_NTYPES; k++)
			for (int op = 0; op < NOPS; op++, salt++) {
				if (!op_valid(op, mt_types[k].kind))
					continue;
				int e = colls[c].run(&mt_types[k], op, comm);

				MT_CHECK(e == 0, "%s %s %s %s: %d wrong elements", label, colls[c].name,
					 mt_types[k].name, op_names[op], e);
				errs += e;
				pairs++;
			}
		mt_say("%s %s: %d type/op pairs, %s, results %016llx", label, colls[c].name, pairs,
		       errs ? "ERRORS" : "ok", (unsigned long long)hash);
	}
}

int main(int argc, char **argv)
{
	int wrank, wsize;
	MPI_Comm rev;

	MPI_Init(&argc, &argv);
	mt_begin("coll_reduce");
	MPI_Op ops[NOPS] = { MPI_SUM, MPI_PROD, MPI_MIN, MPI_MAX, MPI_LAND,
			     MPI_LOR, MPI_LXOR, MPI_BAND, MPI_BOR, MPI_BXOR };
	memcpy(mpi_op, ops, sizeof ops);
	MPI_Comm_rank(MPI_COMM_WORLD, &wrank);
	MPI_Comm_size(MPI_COMM_WORLD, &wsize);
	MT_CHECK(wsize <= 8, "at most 8 ranks, got %d", wsize);
	if (wsize <= 8) {
		sweep(MPI_COMM_WORLD, "world");
		MPI_Comm_split(MPI_COMM_WORLD, wrank % 2, -wrank, &rev);
		sweep(rev, "split");
		MPI_Comm_free(&rev);
	}
	return mt_finish();
}
