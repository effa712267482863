/*
 * coll_nonblock.c - nonblocking collectives and MPI_Alltoallw.
 *
 * Every nonblocking collective once with values each rank can predict
 * from the ranks alone; derived datatypes (a strided vector whose holes
 * must keep their poison, freed before the Wait), MPI_IN_PLACE, several
 * collectives outstanding at once on different communicators started in
 * a different order on different ranks, completion by Testall polling,
 * Waitany and Test, and the pattern where completing at initiation would
 * deadlock: rank 0 Ibarrier; Send; Wait against rank 1 Recv; Ibarrier;
 * Wait.  A user-defined operation in Iallreduce and Iscan.  Receive
 * buffers start poisoned so every element must arrive.
 */
/* ranks: 3 */
#include "mt.h"

#define POISON (-7777)

static int me, np;

static void poison(int *a, int n)
{
	for (int i = 0; i < n; i++)
		a[i] = POISON;
}

static void wait1(MPI_Request *r, const char *what)
{
	MT_EQ(MPI_Wait(r, MPI_STATUS_IGNORE), MPI_SUCCESS, what);
	MT_CHECK(*r == MPI_REQUEST_NULL, "%s: request not MPI_REQUEST_NULL", what);
}

static void test_rooted(void)
{
	MPI_Request r;
	int v[4], all[64], mine[4];

	MPI_Ibarrier(MPI_COMM_WORLD, &r);
	wait1(&r, "Ibarrier");

	for (int i = 0; i < 4; i++)
		v[i] = me == 1 ? 100 + i : POISON;
	MPI_Ibcast(v, 4, MPI_INT, 1, MPI_COMM_WORLD, &r);
	wait1(&r, "Ibcast");
	for (int i = 0; i < 4; i++)
		MT_EQ(v[i], 100 + i, "Ibcast element");

	int x = me + 1, sum = POISON;
	MPI_Ireduce(&x, &sum, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD, &r);
	wait1(&r, "Ireduce");
	if (me == 0)
		MT_EQ(sum, np * (np + 1) / 2, "Ireduce sum");

	for (int i = 0; i < 2; i++)
		mine[i] = 10 * me + i;
	poison(all, 2 * np);
	MPI_Igather(mine, 2, MPI_INT, all, 2, MPI_INT, np - 1, MPI_COMM_WORLD, &r);
	wait1(&r, "Igather");
	if (me == np - 1)
		for (int i = 0; i < 2 * np; i++)
			MT_EQ(all[i], 10 * (i / 2) + i % 2, "Igather element");

	/* Gatherv: rank k sends k + 1 ints, placed with a gap of one. */
	int cnt[16], dsp[16], at = 0;
	for (int k = 0; k < np; k++) {
		cnt[k] = k + 1;
		dsp[k] = at;
		at += k + 2;
	}
	for (int i = 0; i <= me; i++)
		mine[i] = 100 * me + i;
	poison(all, at);
	MPI_Igatherv(mine, me + 1, MPI_INT, all, cnt, dsp, MPI_INT, 0, MPI_COMM_WORLD, &r);
	wait1(&r, "Igatherv");
	if (me == 0)
		for (int k = 0; k < np; k++) {
			for (int i = 0; i < cnt[k]; i++)
				MT_EQ(all[dsp[k] + i], 100 * k + i, "Igatherv element");
			MT_EQ(all[dsp[k] + cnt[k]], POISON, "Igatherv gap");
		}

	for (int i = 0; i < 2 * np; i++)
		all[i] = me == 0 ? 7 * i : POISON;
	poison(mine, 4);
	MPI_Iscatter(all, 2, MPI_INT, mine, 2, MPI_INT, 0, MPI_COMM_WORLD, &r);
	wait1(&r, "Iscatter");
	MT_EQ(mine[0], 14 * me, "Iscatter first");
	MT_EQ(mine[1], 14 * me + 7, "Iscatter second");
	MT_EQ(mine[2], POISON, "Iscatter past the end");

	for (int i = 0; i < at; i++)
		all[i] = me == 1 ? 3 * i : POISON;
	poison(mine, 4);
	MPI_Iscatterv(all, cnt, dsp, MPI_INT, mine, me + 1, MPI_INT, 1, MPI_COMM_WORLD, &r);
	wait1(&r, "Iscatterv");
	for (int i = 0; i <= me; i++)
		MT_EQ(mine[i], 3 * (dsp[me] + i), "Iscatterv element");
	mt_say("rooted: Ibarrier Ibcast Ireduce Igather Igatherv Iscatter Iscatterv");
}

static void test_all(void)
{
	MPI_Request r;
	int x = me + 1, y, all[64], out[64], sc[16], sd[16], rc[16], rd[16];

	MPI_Iallreduce(&x, &y, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD, &r);
	wait1(&r, "Iallreduce");
	MT_EQ(y, np, "Iallreduce max");

	y = POISON;
	MPI_Iscan(&x, &y, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD, &r);
	wait1(&r, "Iscan");
	MT_EQ(y, (me + 1) * (me + 2) / 2, "Iscan prefix");

	y = POISON;
	MPI_Iexscan(&x, &y, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD, &r);
	wait1(&r, "Iexscan");
	if (me > 0)
		MT_EQ(y, me * (me + 1) / 2, "Iexscan prefix");

	poison(all, np);
	MPI_Iallgather(&x, 1, MPI_INT, all, 1, MPI_INT, MPI_COMM_WORLD, &r);
	wait1(&r, "Iallgather");
	for (int k = 0; k < np; k++)
		MT_EQ(all[k], k + 1, "Iallgather element");

	int at = 0;
	for (int k = 0; k < np; k++) {
		rc[k] = k % 2 + 1;
		rd[k] = at;
		at += rc[k] + 1;
	}
	int mine[2] = { 50 * me, 50 * me + 1 };
	poison(all, at);
	MPI_Iallgatherv(mine, rc[me], MPI_INT, all, rc, rd, MPI_INT, MPI_COMM_WORLD, &r);
	wait1(&r, "Iallgatherv");
	for (int k = 0; k < np; k++) {
		for (int i = 0; i < rc[k]; i++)
			MT_EQ(all[rd[k] + i], 50 * k + i, "Iallgatherv element");
		MT_EQ(all[rd[k] + rc[k]], POISON, "Iallgatherv gap");
	}

	for (int k = 0; k < np; k++)
		all[k] = 1000 * me + k;
	poison(out, np);
	MPI_Ialltoall(all, 1, MPI_INT, out, 1, MPI_INT, MPI_COMM_WORLD, &r);
	wait1(&r, "Ialltoall");
	for (int k = 0; k < np; k++)
		MT_EQ(out[k], 1000 * k + me, "Ialltoall element");

	/* Alltoallv: rank s sends (s + d) % 2 + 1 ints to rank d. */
	int sat = 0, rat = 0;
	for (int k = 0; k < np; k++) {
		sc[k] = (me + k) % 2 + 1;
		sd[k] = sat;
		sat += sc[k];
		rc[k] = (k + me) % 2 + 1;
		rd[k] = rat;
		rat += rc[k] + 1;
	}
	for (int i = 0; i < sat; i++)
		all[i] = 100 * me + i;
	poison(out, rat);
	MPI_Ialltoallv(all, sc, sd, MPI_INT, out, rc, rd, MPI_INT, MPI_COMM_WORLD, &r);
	wait1(&r, "Ialltoallv");
	for (int k = 0; k < np; k++) {
		int from = 0;
		for (int j = 0; j < me; j++)
			from += (k + j) % 2 + 1;
		for (int i = 0; i < rc[k]; i++)
			MT_EQ(out[rd[k] + i], 100 * k + from + i, "Ialltoallv element");
		MT_EQ(out[rd[k] + rc[k]], POISON, "Ialltoallv gap");
	}

	/* Reduce_scatter: block k has k + 1 elements; element i of rank s's
	 * input is s + i. */
	int total = 0;
	for (int k = 0; k < np; k++) {
		rc[k] = k + 1;
		total += rc[k];
	}
	for (int i = 0; i < total; i++)
		all[i] = me + i;
	poison(out, total);
	MPI_Ireduce_scatter(all, out, rc, MPI_INT, MPI_SUM, MPI_COMM_WORLD, &r);
	wait1(&r, "Ireduce_scatter");
	int first = me * (me + 1) / 2;
	for (int i = 0; i < rc[me]; i++)
		MT_EQ(out[i], np * (first + i) + np * (np - 1) / 2, "Ireduce_scatter element");
	MT_EQ(out[rc[me]], POISON, "Ireduce_scatter past its block");

	for (int i = 0; i < 2 * np; i++)
		all[i] = me * i;
	poison(out, 3);
	MPI_Ireduce_scatter_block(all, out, 2, MPI_INT, MPI_SUM, MPI_COMM_WORLD, &r);
	wait1(&r, "Ireduce_scatter_block");
	for (int i = 0; i < 2; i++)
		MT_EQ(out[i], (2 * me + i) * np * (np - 1) / 2, "Ireduce_scatter_block element");
	MT_EQ(out[2], POISON, "Ireduce_scatter_block past its block");
	mt_say("all: Iallreduce Iscan Iexscan Iallgather(v) Ialltoall(v) Ireduce_scatter(_block)");
}

/* Alltoallw, blocking and not: to rank d an int block of d + 1 ints and
 * then a double, each block with its own datatype and byte displacement. */
static void test_alltoallw(int nonblocking)
{
	struct blk {
		int i[4];
		double d;
	} sb[16], rb[16];
	int sc[16], sd[16], rc[16], rd[16];
	MPI_Datatype st[16], rt[16], pair;
	int bl[2] = { 1, 1 };
	MPI_Aint disp[2];
	MPI_Datatype ty[2] = { MPI_INT, MPI_DOUBLE };

	/* pair: one int at 0, one double at offsetof(d): rank k gets
	 * block i[k] and d of rank k's block for it. */
	for (int k = 0; k < np; k++) {
		for (int i = 0; i < 4; i++)
			sb[k].i[i] = 1000 * me + 10 * k + i;
		sb[k].d = me + k / 4.0;
		for (int i = 0; i < 4; i++)
			rb[k].i[i] = POISON;
		rb[k].d = -1.0;
	}
	for (int k = 0; k < np; k++) {
		disp[0] = (MPI_Aint)(sizeof(int) * (size_t)(k % 4));
		disp[1] = (MPI_Aint)((char *)&sb[0].d - (char *)&sb[0]);
		MPI_Type_create_struct(2, bl, disp, ty, &pair);
		MPI_Type_commit(&pair);
		st[k] = pair;
		sc[k] = 1;
		sd[k] = (int)(sizeof(struct blk) * (size_t)k);
		rc[k] = 1;
		rd[k] = sd[k];
	}
	for (int k = 0; k < np; k++) {
		disp[0] = (MPI_Aint)(sizeof(int) * (size_t)(me % 4));
		disp[1] = (MPI_Aint)((char *)&rb[0].d - (char *)&rb[0]);
		MPI_Type_create_struct(2, bl, disp, ty, &rt[k]);
		MPI_Type_commit(&rt[k]);
	}
	if (nonblocking) {
		MPI_Request r;
		MPI_Ialltoallw(sb, sc, sd, st, rb, rc, rd, rt, MPI_COMM_WORLD, &r);
		/* Freed while pending: the operation keeps them. */
		for (int k = 0; k < np; k++) {
			MPI_Type_free(&st[k]);
			MPI_Type_free(&rt[k]);
		}
		wait1(&r, "Ialltoallw");
	} else {
		MT_EQ(MPI_Alltoallw(sb, sc, sd, st, rb, rc, rd, rt, MPI_COMM_WORLD), MPI_SUCCESS,
		      "Alltoallw");
		for (int k = 0; k < np; k++) {
			MPI_Type_free(&st[k]);
			MPI_Type_free(&rt[k]);
		}
	}
	for (int k = 0; k < np; k++) {
		for (int i = 0; i < 4; i++)
			MT_EQ(rb[k].i[i], i == me % 4 ? 1000 * k + 10 * me + me % 4 : POISON,
			      "Alltoallw int");
		MT_CHECK(rb[k].d == k + me / 4.0, "Alltoallw double from %d: %g", k, rb[k].d);
	}
	mt_say("%s: struct datatypes per block, byte displacements",
	       nonblocking ? "Ialltoallw" : "Alltoallw");
}

/* A vector with holes, freed before the Wait; the holes keep their
 * poison. */
static void test_derived(void)
{
	MPI_Datatype vec;
	MPI_Request r;
	int buf[12];

	MPI_Type_vector(4, 1, 3, MPI_INT, &vec);
	MPI_Type_commit(&vec);
	for (int i = 0; i < 12; i++)
		buf[i] = me == 0 ? i : POISON;
	MPI_Ibcast(buf, 1, vec, 0, MPI_COMM_WORLD, &r);
	MPI_Type_free(&vec);
	wait1(&r, "Ibcast vector");
	for (int i = 0; i < 12; i++)
		MT_EQ(buf[i], me == 0 || i % 3 == 0 ? i : POISON, "Ibcast vector element");

	int src[12], dst[12 * 16];
	MPI_Type_vector(2, 1, 2, MPI_INT, &vec);
	MPI_Type_commit(&vec);
	for (int i = 0; i < 12; i++)
		src[i] = 10 * me + i;
	poison(dst, 12 * np);
	MPI_Datatype rvec;
	MPI_Type_create_resized(vec, 0, 3 * (MPI_Aint)sizeof(int), &rvec);
	MPI_Type_commit(&rvec);
	/* one vector (ints 0 and 2) from each rank, at stride 3 ints */
	MPI_Iallgather(src, 1, vec, dst, 1, rvec, MPI_COMM_WORLD, &r);
	MPI_Type_free(&rvec);
	wait1(&r, "Iallgather vector");
	for (int k = 0; k < np; k++) {
		MT_EQ(dst[3 * k], 10 * k, "Iallgather vector first");
		MT_EQ(dst[3 * k + 2], 10 * k + 2, "Iallgather vector second");
		MT_EQ(dst[3 * k + 1], POISON, "Iallgather vector hole");
	}
	MPI_Type_free(&vec);
	mt_say("derived: vector Ibcast and Iallgather, datatypes freed while pending");
}

static void test_in_place(void)
{
	MPI_Request r;
	int v[16];

	v[0] = me + 1;
	v[1] = 2 * (me + 1);
	MPI_Iallreduce(MPI_IN_PLACE, v, 2, MPI_INT, MPI_SUM, MPI_COMM_WORLD, &r);
	wait1(&r, "Iallreduce IN_PLACE");
	MT_EQ(v[0], np * (np + 1) / 2, "Iallreduce IN_PLACE sum");
	MT_EQ(v[1], np * (np + 1), "Iallreduce IN_PLACE double sum");

	poison(v, np);
	v[me] = 7 * me;
	MPI_Iallgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, v, 1, MPI_INT, MPI_COMM_WORLD, &r);
	wait1(&r, "Iallgather IN_PLACE");
	for (int k = 0; k < np; k++)
		MT_EQ(v[k], 7 * k, "Iallgather IN_PLACE element");

	int x = me + 5;
	v[0] = x;
	MPI_Ireduce(me == 0 ? MPI_IN_PLACE : &x, v, 1, MPI_INT, MPI_MAX, 0, MPI_COMM_WORLD, &r);
	wait1(&r, "Ireduce IN_PLACE");
	if (me == 0)
		MT_EQ(v[0], np + 4, "Ireduce IN_PLACE max");
	mt_say("in place: Iallreduce, Iallgather, Ireduce at the root");
}

/* Collectives outstanding together on three communicators, started in a
 * different order on odd and even ranks (per communicator every rank
 * keeps the same order, as MPI requires); completed by Testall polling,
 * then by Waitany, in reverse. */
static void test_overlap(void)
{
	MPI_Comm a, b;
	MPI_Request r[4];
	int x = me + 1, sa = 0, sb[4], all[16], big = 0;

	MPI_Comm_dup(MPI_COMM_WORLD, &a);
	MPI_Comm_split(MPI_COMM_WORLD, 0, np - me, &b); /* ranks reversed */
	for (int i = 0; i < 4; i++)
		sb[i] = me == np - 1 ? 40 + i : POISON;
	poison(all, np);
	if (me % 2 == 0) {
		MPI_Iallreduce(&x, &sa, 1, MPI_INT, MPI_SUM, a, &r[0]);
		MPI_Ibcast(sb, 4, MPI_INT, 0, b, &r[1]);
		MPI_Iallgather(&x, 1, MPI_INT, all, 1, MPI_INT, MPI_COMM_WORLD, &r[2]);
		MPI_Iallreduce(&x, &big, 1, MPI_INT, MPI_MAX, a, &r[3]);
	} else {
		MPI_Iallgather(&x, 1, MPI_INT, all, 1, MPI_INT, MPI_COMM_WORLD, &r[2]);
		MPI_Ibcast(sb, 4, MPI_INT, 0, b, &r[1]);
		MPI_Iallreduce(&x, &sa, 1, MPI_INT, MPI_SUM, a, &r[0]);
		MPI_Iallreduce(&x, &big, 1, MPI_INT, MPI_MAX, a, &r[3]);
	}
	int flag = 0;
	long polls = 0;
	while (!flag) {
		MT_EQ(MPI_Testall(4, r, &flag, MPI_STATUSES_IGNORE), MPI_SUCCESS, "Testall");
		polls++;
	}
	for (int i = 0; i < 4; i++)
		MT_CHECK(r[i] == MPI_REQUEST_NULL, "Testall left request %d", i);
	MT_EQ(sa, np * (np + 1) / 2, "overlap: Iallreduce on a dup");
	MT_EQ(big, np, "overlap: second Iallreduce on the dup");
	for (int i = 0; i < 4; i++)
		MT_EQ(sb[i], 40 + i, "overlap: Ibcast on the reversed split");
	for (int k = 0; k < np; k++)
		MT_EQ(all[k], k + 1, "overlap: Iallgather on WORLD");
	MT_CHECK(polls >= 1, "Testall never polled");

	/* Waitany and Test */
	MPI_Ibarrier(a, &r[0]);
	MPI_Iallreduce(&x, &sa, 1, MPI_INT, MPI_MIN, b, &r[1]);
	int idx, done = 0;
	for (int n = 0; n < 2; n++) {
		MT_EQ(MPI_Waitany(2, r, &idx, MPI_STATUS_IGNORE), MPI_SUCCESS, "Waitany");
		MT_CHECK(idx == 0 || idx == 1, "Waitany index %d", idx);
		done |= 1 << idx;
	}
	MT_EQ(done, 3, "Waitany completed both");
	MT_EQ(sa, 1, "Waitany: Iallreduce min");
	MPI_Ibcast(&x, 1, MPI_INT, 0, a, &r[0]);
	for (flag = 0; !flag;)
		MPI_Test(&r[0], &flag, MPI_STATUS_IGNORE);
	MT_EQ(x, 1, "Test: Ibcast from rank 0");
	MPI_Comm_free(&a);
	MPI_Comm_free(&b);
	mt_say("overlap: 4 outstanding on 3 communicators, Testall, Waitany, Test");
}

/* 2x2 integer matrix product, inout = in * inout: associative, not
 * commutative, so the order of the fold shows. */
static void matmul(const int *a, const int *b, int *out)
{
	int m[4] = { a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3],
		     a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3] };

	memcpy(out, m, sizeof(m));
}

static void matmul_op(void *in, void *inout, int *len, MPI_Datatype *t)
{
	(void)t;
	for (int i = 0; i < *len; i++)
		matmul((int *)in + 4 * i, (int *)inout + 4 * i, (int *)inout + 4 * i);
}

static void test_user_op(void)
{
	MPI_Datatype mat;
	MPI_Op op;
	MPI_Request r[2];
	int x[4] = { 1, me + 1, me, 1 }, all[4], pre[4];

	MPI_Type_contiguous(4, MPI_INT, &mat);
	MPI_Type_commit(&mat);
	MPI_Op_create(matmul_op, 0, &op);
	poison(all, 4);
	poison(pre, 4);
	MPI_Iallreduce(x, all, 1, mat, op, MPI_COMM_WORLD, &r[0]);
	MPI_Iscan(x, pre, 1, mat, op, MPI_COMM_WORLD, &r[1]);
	MT_EQ(MPI_Waitall(2, r, MPI_STATUSES_IGNORE), MPI_SUCCESS, "Waitall user op");
	MPI_Op_free(&op);
	MPI_Type_free(&mat);
	/* x_0 x_1 ... x_(np-1), and the prefix up to this rank */
	int want[4] = { 1, 0, 0, 1 }, wpre[4] = { 1, 0, 0, 1 };
	for (int k = 0; k < np; k++) {
		int xk[4] = { 1, k + 1, k, 1 };
		matmul(want, xk, want);
		if (k <= me)
			matmul(wpre, xk, wpre);
	}
	for (int i = 0; i < 4; i++) {
		MT_EQ(all[i], want[i], "Iallreduce user op");
		MT_EQ(pre[i], wpre[i], "Iscan user op");
	}
	mt_say("user op: Iallreduce and Iscan with a matrix product");
}

/* Completing at initiation would deadlock here: rank 0 enters the
 * barrier before the Send rank 1 waits for in Recv. */
static void test_no_deadlock(void)
{
	MPI_Request r;
	int v = 0;

	if (me == 0) {
		MPI_Ibarrier(MPI_COMM_WORLD, &r);
		v = 77;
		MPI_Send(&v, 1, MPI_INT, 1, 5, MPI_COMM_WORLD);
		wait1(&r, "Ibarrier before Send");
	} else if (me == 1) {
		MPI_Recv(&v, 1, MPI_INT, 0, 5, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		MPI_Ibarrier(MPI_COMM_WORLD, &r);
		wait1(&r, "Ibarrier after Recv");
		MT_EQ(v, 77, "message sent after Ibarrier");
	} else {
		MPI_Ibarrier(MPI_COMM_WORLD, &r);
		wait1(&r, "Ibarrier");
	}
	mt_say("no deadlock: Ibarrier; Send; Wait against Recv; Ibarrier; Wait");
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	mt_begin("coll_nonblock");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &np);
	if (np < 2 || np > 4) {
		mt_say("needs 2 to 4 ranks");
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	test_rooted();
	test_all();
	test_alltoallw(0);
	test_alltoallw(1);
	test_derived();
	test_in_place();
	test_overlap();
	test_user_op();
	test_no_deadlock();
	return mt_finish();
}
