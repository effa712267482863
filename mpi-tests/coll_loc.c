/*
 * coll_loc.c - MPI_MAXLOC and MPI_MINLOC over the six predefined pair
 * types (FLOAT_INT, DOUBLE_INT, LONG_INT, 2INT, SHORT_INT,
 * LONG_DOUBLE_INT) with Reduce at every root, Allreduce (also in place)
 * and Scan.  Values tie often, and indices run opposite to rank order, so
 * the rule "on a tie the smaller index wins" is really exercised.  Runs on
 * MPI_COMM_WORLD and on a reversed split communicator.
 */
/* ranks: 3 */
#include "mt.h"

#define N 9

struct pair_type {
	const char *name;
	MPI_Datatype dt;
	void (*set)(void *buf, int i, long v, int idx);
	void (*get)(const void *buf, int i, long *v, int *idx);
};

#define MT_PAIR(tag, vtype) \
	struct tag { vtype v; int idx; }; \
	static void set_##tag(void *b, int i, long v, int idx) \
	{ ((struct tag *)b)[i].v = (vtype)v; ((struct tag *)b)[i].idx = idx; } \
	static void get_##tag(const void *b, int i, long *v, int *idx) \
	{ *v = (long)((const struct tag *)b)[i].v; *idx = ((const struct tag *)b)[i].idx; }

MT_PAIR(p_float, float)
MT_PAIR(p_double, double)
MT_PAIR(p_long, long)
MT_PAIR(p_2int, int)
MT_PAIR(p_short, short)
MT_PAIR(p_ldouble, long double)

static const struct pair_type pairs[] = {
	{ "MPI_FLOAT_INT", MPI_FLOAT_INT, set_p_float, get_p_float },
	{ "MPI_DOUBLE_INT", MPI_DOUBLE_INT, set_p_double, get_p_double },
	{ "MPI_LONG_INT", MPI_LONG_INT, set_p_long, get_p_long },
	{ "MPI_2INT", MPI_2INT, set_p_2int, get_p_2int },
	{ "MPI_SHORT_INT", MPI_SHORT_INT, set_p_short, get_p_short },
	{ "MPI_LONG_DOUBLE_INT", MPI_LONG_DOUBLE_INT, set_p_ldouble, get_p_ldouble },
};
#define NPAIRS ((int)(sizeof pairs / sizeof pairs[0]))

static int me, np, salt;
static uint64_t hash;
static struct p_ldouble sbuf[N], rbuf[N];   /* the widest pair */

/* Odd elements tie ranks 0 and 1, even ones ranks 1 and 2. */
static long value(int r, int i)
{
	return ((i % 2 ? r / 2 : r * r) + i + salt) % 3 - 1;
}

static int index_of(int r, int i)
{
	return (np - r) * 10 + i;
}

static void fill(const struct pair_type *p, void *buf)
{
	for (int i = 0; i < N; i++)
		p->set(buf, i, value(me, i), index_of(me, i));
}

/* MAXLOC (max = 1) or MINLOC over comm ranks 0..hi; ties take the lower index. */
static void expected(int max, int hi, int i, long *v, int *idx)
{
	*v = value(0, i);
	*idx = index_of(0, i);
	for (int r = 1; r <= hi; r++) {
		long x = value(r, i);
		int better = max ? x > *v : x < *v;

		if (better || (x == *v && index_of(r, i) < *idx)) {
			*v = x;
			*idx = index_of(r, i);
		}
	}
}

static int bad(const struct pair_type *p, int max, const void *buf, int hi)
{
	int errs = 0;

	for (int i = 0; i < N; i++) {
		long v, wv;
		int idx, widx;

		p->get(buf, i, &v, &idx);
		expected(max, hi, i, &wv, &widx);
		errs += v != wv || idx != widx;
		long long rec[2] = { v, idx };
		hash = mt_hash(hash, rec, sizeof rec);
	}
	return errs;
}

static int run_all(const struct pair_type *p, int max, MPI_Comm comm)
{
	MPI_Op op = max ? MPI_MAXLOC : MPI_MINLOC;
	int errs = 0;

	for (int root = 0; root < np; root++) {
		fill(p, sbuf);
		MPI_Reduce(sbuf, rbuf, N, p->dt, op, root, comm);
		if (me == root)
			errs += bad(p, max, rbuf, np - 1);
	}
	fill(p, sbuf);
	MPI_Allreduce(sbuf, rbuf, N, p->dt, op, comm);
	errs += bad(p, max, rbuf, np - 1);
	fill(p, rbuf);
	MPI_Allreduce(MPI_IN_PLACE, rbuf, N, p->dt, op, comm);
	errs += bad(p, max, rbuf, np - 1);
	fill(p, sbuf);
	MPI_Scan(sbuf, rbuf, N, p->dt, op, comm);
	errs += bad(p, max, rbuf, me);
	return errs;
}

static void sweep(MPI_Comm comm, const char *label)
{
	MPI_Comm_rank(comm, &me);
	MPI_Comm_size(comm, &np);
	for (int max = 1; max >= 0; max--) {
		int errs = 0;

		hash = MT_HASH_INIT;
		for (int k = 0; k < NPAIRS; k++, salt++) {
			int e = run_all(&pairs[k], max, comm);

			MT_CHECK(e == 0, "%s %s %s: %d wrong pairs", label, max ? "MAXLOC" : "MINLOC",
				 pairs[k].name, e);
			errs += e;
		}
		mt_say("%s %s: %d pair types, %s, results %016llx", label,
		       max ? "maxloc" : "minloc", NPAIRS, errs ? "ERRORS" : "ok",
		       (unsigned long long)hash);
	}
}

int main(int argc, char **argv)
{
	int wrank;
	MPI_Comm rev;

	MPI_Init(&argc, &argv);
	mt_begin("coll_loc");
	MPI_Comm_rank(MPI_COMM_WORLD, &wrank);
	sweep(MPI_COMM_WORLD, "world");
	MPI_Comm_split(MPI_COMM_WORLD, wrank % 2, -wrank, &rev);
	sweep(rev, "split");
	MPI_Comm_free(&rev);
	return mt_finish();
}
