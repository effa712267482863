/*
 * coll_basic.c - the data-movement collectives: Barrier, Bcast, Gather(v),
 * Scatter(v), Allgather(v), Alltoall(v), with every rank as root, the
 * MPI_IN_PLACE forms, and vector forms with uneven counts and reversed,
 * gapped displacements (gaps must stay untouched), over every predefined
 * type in mt_types.h.  Runs on MPI_COMM_WORLD and on a split communicator
 * whose rank order is the reverse of the world's, plus the size-1 leftover
 * of that split.  Each element's value encodes who sent it to where, so
 * any misrouted, shifted or truncated data is caught.
 */
/* ranks: 3 */
#include "mt_types.h"

#define C 5          /* elements per rank in the regular forms */
#define MAXE 256     /* elements per buffer */
#define POISON 111   /* never a real value (those are < 97) */

static int me, np;   /* rank and size in the communicator under test */
static unsigned char sbuf[MAXE * 32], rbuf[MAXE * 32];
static uint64_t hash; /* of all received elements, per collective */
static int salt;      /* changes every call, so stale data never passes */

static void value(const struct mt_type *t, int origin, int i, long double *re, long double *im)
{
	int v = (salt * 13 + origin * 31 + i * 7) % 97;

	*re = t->kind == MT_BOOL ? v & 1 : v;
	*im = t->kind == MT_COMPLEX ? (salt + origin + i) % 13 : 0;
}

static void put(const struct mt_type *t, void *buf, int at, int origin, int n)
{
	long double re, im;

	for (int i = 0; i < n; i++) {
		value(t, origin, i, &re, &im);
		t->set(buf, at + i, re, im);
	}
}

static void poison(const struct mt_type *t, void *buf, int n)
{
	for (int i = 0; i < n; i++)
		t->set(buf, i, t->kind == MT_BOOL ? 1 : POISON, 0);
}

/* Mismatches among n elements at buf[at..] expected from origin. */
static int bad(const struct mt_type *t, const void *buf, int at, int origin, int n)
{
	long double re, im, wre, wim;
	int errs = 0;

	for (int i = 0; i < n; i++) {
		t->get(buf, at + i, &re, &im);
		value(t, origin, i, &wre, &wim);
		errs += re != wre || im != wim;
		long long pair[2] = { (long long)re, (long long)im };
		hash = mt_hash(hash, pair, sizeof pair);
	}
	return errs;
}

/* Elements at buf[at..at+n) must still hold the poison. */
static int touched(const struct mt_type *t, const void *buf, int at, int n)
{
	long double re, im;
	int errs = 0;

	if (t->kind == MT_BOOL)
		return 0;
	for (int i = 0; i < n; i++) {
		t->get(buf, at + i, &re, &im);
		errs += re != POISON;
	}
	return errs;
}

/* Uneven counts and reversed displacements with a gap after each block.
 * (Not before the first: MPICH 4.0 ignores displs[0] on a size-1 comm.) */
static int vcount(int r)
{
	return r + 1;
}

static int vdispl(int r)
{
	return (np - 1 - r) * (np + 2);
}

static int run_bcast(const struct mt_type *t, MPI_Comm comm)
{
	int errs = 0;

	for (int root = 0; root < np; root++, salt++) {
		poison(t, rbuf, C);
		if (me == root)
			put(t, rbuf, 0, root, C);
		MPI_Bcast(rbuf, C, t->dt, root, comm);
		errs += bad(t, rbuf, 0, root, C);
	}
	return errs;
}

static int run_gather(const struct mt_type *t, MPI_Comm comm)
{
	int errs = 0;

	for (int inplace = 0; inplace < 2; inplace++)
		for (int root = 0; root < np; root++, salt++) {
			poison(t, rbuf, np * C);
			put(t, sbuf, 0, me, C);
			if (me == root && inplace) {
				put(t, rbuf, me * C, me, C);
				MPI_Gather(MPI_IN_PLACE, C, t->dt, rbuf, C, t->dt, root, comm);
			} else {
				MPI_Gather(sbuf, C, t->dt, rbuf, C, t->dt, root, comm);
			}
			for (int r = 0; me == root && r < np; r++)
				errs += bad(t, rbuf, r * C, r, C);
		}
	return errs;
}

static int run_gatherv(const struct mt_type *t, MPI_Comm comm)
{
	int counts[8], displs[8], errs = 0;

	for (int r = 0; r < np; r++)
		counts[r] = vcount(r), displs[r] = vdispl(r);
	for (int inplace = 0; inplace < 2; inplace++)
		for (int root = 0; root < np; root++, salt++) {
			poison(t, rbuf, np * (np + 2) + 1);
			put(t, sbuf, 0, me, vcount(me));
			if (me == root && inplace) {
				put(t, rbuf, displs[me], me, counts[me]);
				MPI_Gatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, rbuf, counts, displs,
					    t->dt, root, comm);
			} else {
				MPI_Gatherv(sbuf, vcount(me), t->dt, rbuf, counts, displs, t->dt, root,
					    comm);
			}
			for (int r = 0; me == root && r < np; r++) {
				errs += bad(t, rbuf, displs[r], r, counts[r]);
				errs += touched(t, rbuf, displs[r] + counts[r], 1);
			}
		}
	return errs;
}

static int run_scatter(const struct mt_type *t, MPI_Comm comm)
{
	int errs = 0;

	for (int inplace = 0; inplace < 2; inplace++)
		for (int root = 0; root < np; root++, salt++) {
			poison(t, rbuf, C);
			for (int r = 0; me == root && r < np; r++)
				put(t, sbuf, r * C, r, C);
			if (me == root && inplace) {
				MPI_Scatter(sbuf, C, t->dt, MPI_IN_PLACE, C, t->dt, root, comm);
				errs += bad(t, sbuf, me * C, me, C);
			} else {
				MPI_Scatter(sbuf, C, t->dt, rbuf, C, t->dt, root, comm);
				errs += bad(t, rbuf, 0, me, C);
			}
		}
	return errs;
}

static int run_scatterv(const struct mt_type *t, MPI_Comm comm)
{
	int counts[8], displs[8], errs = 0;

	for (int r = 0; r < np; r++)
		counts[r] = vcount(r), displs[r] = vdispl(r);
	for (int inplace = 0; inplace < 2; inplace++)
		for (int root = 0; root < np; root++, salt++) {
			poison(t, rbuf, C + 1);
			for (int r = 0; me == root && r < np; r++)
				put(t, sbuf, displs[r], r, counts[r]);
			if (me == root && inplace) {
				MPI_Scatterv(sbuf, counts, displs, t->dt, MPI_IN_PLACE, 0,
					     MPI_DATATYPE_NULL, root, comm);
				errs += bad(t, sbuf, displs[me], me, counts[me]);
				continue;
			}
			MPI_Scatterv(sbuf, counts, displs, t->dt, rbuf, vcount(me), t->dt, root, comm);
			errs += bad(t, rbuf, 0, me, vcount(me));
			errs += touched(t, rbuf, vcount(me), 1);
		}
	return errs;
}

static int run_allgather(const struct mt_type *t, MPI_Comm comm)
{
	int errs = 0;

	for (int inplace = 0; inplace < 2; inplace++, salt++) {
		poison(t, rbuf, np * C);
		put(t, sbuf, 0, me, C);
		if (inplace) {
			put(t, rbuf, me * C, me, C);
			MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, rbuf, C, t->dt, comm);
		} else {
			MPI_Allgather(sbuf, C, t->dt, rbuf, C, t->dt, comm);
		}
		for (int r = 0; r < np; r++)
			errs += bad(t, rbuf, r * C, r, C);
	}
	return errs;
}

static int run_allgatherv(const struct mt_type *t, MPI_Comm comm)
{
	int counts[8], displs[8], errs = 0;

	for (int r = 0; r < np; r++)
		counts[r] = vcount(r), displs[r] = vdispl(r);
	for (int inplace = 0; inplace < 2; inplace++, salt++) {
		poison(t, rbuf, np * (np + 2) + 1);
		put(t, sbuf, 0, me, vcount(me));
		if (inplace) {
			put(t, rbuf, displs[me], me, counts[me]);
			MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, rbuf, counts, displs, t->dt,
				       comm);
		} else {
			MPI_Allgatherv(sbuf, vcount(me), t->dt, rbuf, counts, displs, t->dt, comm);
		}
		for (int r = 0; r < np; r++) {
			errs += bad(t, rbuf, displs[r], r, counts[r]);
			errs += touched(t, rbuf, displs[r] + counts[r], 1);
		}
	}
	return errs;
}

/* Block from s to d carries origin s * np + d. */
static int run_alltoall(const struct mt_type *t, MPI_Comm comm)
{
	int errs = 0;

	for (int inplace = 0; inplace < 2; inplace++, salt++) {
		poison(t, rbuf, np * C);
		for (int d = 0; d < np; d++)
			put(t, inplace ? rbuf : sbuf, d * C, me * np + d, C);
		if (inplace)
			MPI_Alltoall(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, rbuf, C, t->dt, comm);
		else
			MPI_Alltoall(sbuf, C, t->dt, rbuf, C, t->dt, comm);
		for (int s = 0; s < np; s++)
			errs += bad(t, rbuf, s * C, s * np + me, C);
	}
	return errs;
}

/* Between s and d flow (s + d) % 3 + 1 elements; blocks placed reversed. */
static int run_alltoallv(const struct mt_type *t, MPI_Comm comm)
{
	int cnt[8], dsp[8], errs = 0;

	for (int p = 0; p < np; p++) {
		cnt[p] = (me + p) % 3 + 1;
		dsp[p] = (np - 1 - p) * 4 + 1;
	}
	for (int inplace = 0; inplace < 2; inplace++, salt++) {
		poison(t, rbuf, np * 4 + 1);
		for (int d = 0; d < np; d++)
			put(t, inplace ? rbuf : sbuf, dsp[d], me * np + d, cnt[d]);
		if (inplace)
			MPI_Alltoallv(MPI_IN_PLACE, NULL, NULL, MPI_DATATYPE_NULL, rbuf, cnt, dsp,
				      t->dt, comm);
		else
			MPI_Alltoallv(sbuf, cnt, dsp, t->dt, rbuf, cnt, dsp, t->dt, comm);
		for (int s = 0; s < np; s++) {
			errs += bad(t, rbuf, dsp[s], s * np + me, cnt[s]);
			errs += touched(t, rbuf, dsp[s] - 1, 1);
		}
	}
	return errs;
}

/* After a barrier every rank's receive is posted, so Rsend is legal. */
static int run_barrier(MPI_Comm comm)
{
	int got = -1, v = me, left = (me + np - 1) % np, right = (me + 1) % np;
	MPI_Request rq;

	for (int i = 0; i < 5; i++)
		MPI_Barrier(comm);
	MPI_Irecv(&got, 1, MPI_INT, left, 3, comm, &rq);
	MPI_Barrier(comm);
	MPI_Rsend(&v, 1, MPI_INT, right, 3, comm);
	MPI_Wait(&rq, MPI_STATUS_IGNORE);
	return got != left;
}

static const struct {
	const char *name;
	int (*run)(const struct mt_type *, MPI_Comm);
} colls[] = {
	{ "bcast", run_bcast },       { "gather", run_gather },
	{ "gatherv", run_gatherv },   { "scatter", run_scatter },
	{ "scatterv", run_scatterv }, { "allgather", run_allgather },
	{ "allgatherv", run_allgatherv }, { "alltoall", run_alltoall },
	{ "alltoallv", run_alltoallv },
};

static void sweep(MPI_Comm comm, const char *label)
{
	MPI_Comm_rank(comm, &me);
	MPI_Comm_size(comm, &np);
	MT_CHECK(run_barrier(comm) == 0, "%s: Rsend after barrier got wrong data", label);
	mt_say("%s barrier: ok", label);
	for (size_t c = 0; c < sizeof colls / sizeof colls[0]; c++) {
		int errs = 0;

		hash = MT_HASH_INIT;
		for (int k = 0; k < MT_NTYPES; k++) {
			int e = colls[c].run(&mt_types[k], comm);

			MT_CHECK(e == 0, "%s %s %s: %d wrong elements", label, colls[c].name,
				 mt_types[k].name, e);
			errs += e;
		}
		mt_say("%s %s: %d types, %s, received data %016llx", label, colls[c].name, MT_NTYPES,
		       errs ? "ERRORS" : "ok", (unsigned long long)hash);
	}
}

int main(int argc, char **argv)
{
	int wrank, wsize;
	MPI_Comm rev;

	MPI_Init(&argc, &argv);
	mt_begin("coll_basic");
	MPI_Comm_rank(MPI_COMM_WORLD, &wrank);
	MPI_Comm_size(MPI_COMM_WORLD, &wsize);
	MT_CHECK(wsize <= 8, "at most 8 ranks, got %d", wsize);
	if (wsize <= 8) {
		sweep(MPI_COMM_WORLD, "world");
		/* Even world ranks in reverse order; odd ones likewise. */
		MPI_Comm_split(MPI_COMM_WORLD, wrank % 2, -wrank, &rev);
		sweep(rev, "split");
		MPI_Comm_free(&rev);
	}
	return mt_finish();
}
