/*
 * coll_inter.c - collectives on an intercommunicator whose groups differ
 * in size: group A is world rank 0 alone, group B the other ranks.  Every
 * exchange pairs a group with the OTHER one, so a buffer sized by the
 * local group instead of the remote one shows up at once.  Rooted calls
 * run both ways: A's rank 0 as MPI_ROOT towards B, and B's rank 1 as
 * MPI_ROOT towards A while B's others pass MPI_PROC_NULL.  Also: Barrier,
 * Allreduce (each group gets the other's sum), Allgather(v), Alltoall(v),
 * Reduce_scatter_block with equal blocks, and the errors both MPIs agree
 * on: Scan is MPI_ERR_COMM on an intercommunicator.
 */
/* ranks: 4 */
#include "mt.h"

#define POISON (-1)

static int wr, ws;           /* world rank and size */
static int inA;              /* in group A (world rank 0) */
static int lr, ls, rs;       /* local rank, local size, remote size */
static MPI_Comm ic;

/* World rank of member i of group A or B. */
static int world_of(int in_a, int i)
{
	return in_a ? 0 : 1 + i;
}

static void fill(int *b, int n)
{
	for (int i = 0; i < n; i++)
		b[i] = POISON;
}

/* Bcast, Reduce, Gather(v), Scatter(v) with the root in group g (its
 * member rootl), towards the other group. */
static void rooted(int g_is_a, int rootl)
{
	int mine = inA == g_is_a, root = mine ? (lr == rootl ? MPI_ROOT : MPI_PROC_NULL)
					      : rootl;
	int rw = world_of(g_is_a, rootl);
	int b[64], s[8], cnt[8], dsp[8];

	/* Bcast 3 ints from the root. */
	fill(b, 64);
	if (root == MPI_ROOT)
		for (int i = 0; i < 3; i++)
			b[i] = rw * 100 + i;
	MPI_Bcast(b, 3, MPI_INT, root, ic);
	if (!mine)
		for (int i = 0; i < 3; i++)
			MT_EQ(b[i], rw * 100 + i, "intercomm bcast");
	if (root == MPI_PROC_NULL)
		MT_EQ(b[0], POISON, "intercomm bcast: MPI_PROC_NULL rank written");

	/* Reduce: the other group's sum of (world rank + i) lands at the root. */
	for (int i = 0; i < 2; i++)
		s[i] = wr + i;
	fill(b, 64);
	MPI_Reduce(s, b, 2, MPI_INT, MPI_SUM, root, ic);
	if (root == MPI_ROOT) {
		for (int i = 0; i < 2; i++) {
			int want = 0;
			for (int k = 0; k < rs; k++)
				want += world_of(!g_is_a, k) + i;
			MT_EQ(b[i], want, "intercomm reduce");
		}
	}

	/* Gather 2 ints from each member of the other group. */
	s[0] = wr * 10;
	s[1] = wr * 10 + 1;
	fill(b, 64);
	MPI_Gather(s, 2, MPI_INT, b, 2, MPI_INT, root, ic);
	for (int k = 0; root == MPI_ROOT && k < rs; k++)
		for (int i = 0; i < 2; i++)
			MT_EQ(b[2 * k + i], world_of(!g_is_a, k) * 10 + i, "intercomm gather");
	if (root == MPI_ROOT)
		MT_EQ(b[2 * rs], POISON, "intercomm gather: past the remote group");

	/* Gatherv: member k of the other group sends k + 1 ints, stored
	 * reversed with a gap. */
	for (int k = 0; k < rs; k++) {
		cnt[k] = k + 1;
		dsp[k] = 8 * (rs - 1 - k);
	}
	for (int i = 0; i < 8; i++)
		s[i] = wr * 10 + i;
	fill(b, 64);
	MPI_Gatherv(s, lr + 1, MPI_INT, b, cnt, dsp, MPI_INT, root, ic);
	for (int k = 0; root == MPI_ROOT && k < rs; k++)
		for (int i = 0; i < 8; i++)
			MT_EQ(b[dsp[k] + i], i < cnt[k] ? world_of(!g_is_a, k) * 10 + i : POISON,
			      "intercomm gatherv");

	/* Scatter 2 ints to each member of the other group, then Scatterv. */
	for (int i = 0; i < 2 * rs; i++)
		b[i] = rw * 1000 + i;
	fill(s, 8);
	MPI_Scatter(b, 2, MPI_INT, s, 2, MPI_INT, root, ic);
	if (!mine)
		for (int i = 0; i < 2; i++)
			MT_EQ(s[i], rw * 1000 + 2 * lr + i, "intercomm scatter");
	for (int i = 0; i < 64; i++)
		b[i] = rw * 1000 + i;
	fill(s, 8);
	MPI_Scatterv(b, cnt, dsp, MPI_INT, s, mine ? 0 : lr + 1, MPI_INT, root, ic);
	if (!mine)
		for (int i = 0; i < 8; i++)
			MT_EQ(s[i], i <= lr ? rw * 1000 + 8 * (ls - 1 - lr) + i : POISON,
			      "intercomm scatterv");
}

static void all_to_all(void)
{
	int s[64], r[64], sc[8], sd[8], rc[8], rd[8];

	/* Allreduce: each group gets the other group's sum. */
	s[0] = wr + 1;
	r[0] = POISON;
	MPI_Allreduce(s, r, 1, MPI_INT, MPI_SUM, ic);
	int want = 0;
	for (int k = 0; k < rs; k++)
		want += world_of(!inA, k) + 1;
	MT_EQ(r[0], want, "intercomm allreduce");

	/* Allgather: one int from each remote member. */
	s[0] = wr * 7;
	fill(r, 64);
	MPI_Allgather(s, 1, MPI_INT, r, 1, MPI_INT, ic);
	for (int k = 0; k < rs; k++)
		MT_EQ(r[k], world_of(!inA, k) * 7, "intercomm allgather");
	MT_EQ(r[rs], POISON, "intercomm allgather: past the remote group");

	/* Allgatherv: remote member k contributes k + 1 ints, at 4 k. */
	for (int k = 0; k < rs; k++) {
		rc[k] = k + 1;
		rd[k] = 4 * k;
	}
	for (int i = 0; i < 4; i++)
		s[i] = wr * 10 + i;
	fill(r, 64);
	MPI_Allgatherv(s, lr + 1, MPI_INT, r, rc, rd, MPI_INT, ic);
	for (int k = 0; k < rs; k++)
		for (int i = 0; i < 4; i++)
			MT_EQ(r[4 * k + i], i < rc[k] ? world_of(!inA, k) * 10 + i : POISON,
			      "intercomm allgatherv");

	/* Alltoall: to remote member k, the int wr * 100 + k. */
	for (int k = 0; k < rs; k++)
		s[k] = wr * 100 + k;
	fill(r, 64);
	MPI_Alltoall(s, 1, MPI_INT, r, 1, MPI_INT, ic);
	for (int k = 0; k < rs; k++)
		MT_EQ(r[k], world_of(!inA, k) * 100 + lr, "intercomm alltoall");

	/* Alltoallv: to remote member k, lr + 1 ints; from it, k + 1. */
	for (int k = 0; k < rs; k++) {
		sc[k] = lr + 1;
		sd[k] = 4 * k;
		for (int i = 0; i < 4; i++)
			s[4 * k + i] = wr * 100 + k * 10 + i;
	}
	fill(r, 64);
	MPI_Alltoallv(s, sc, sd, MPI_INT, r, rc, rd, MPI_INT, ic);
	for (int k = 0; k < rs; k++)
		for (int i = 0; i < 4; i++)
			MT_EQ(r[4 * k + i], i < rc[k] ? world_of(!inA, k) * 100 + lr * 10 + i
			      : POISON, "intercomm alltoallv");
}

/* Scan is not defined on intercommunicators. */
static void scan_is_comm_error(void)
{
	int v = 1, r = 0, cls = MPI_SUCCESS;
	int rc = MPI_Scan(&v, &r, 1, MPI_INT, MPI_SUM, ic);

	if (rc != MPI_SUCCESS)
		MPI_Error_class(rc, &cls);
	MT_CHECK(cls == MPI_ERR_COMM, "intercomm scan: expected MPI_ERR_COMM, got %s",
		 mt_class_name(cls));
}

/* Reduce_scatter_block between two groups of equal size (1 and 1):
 * world ranks 0 and 1 only, on a second intercommunicator. */
static void reduce_scatter_equal(void)
{
	MPI_Comm pair, local, ic2;
	int in = wr < 2;

	MPI_Comm_split(MPI_COMM_WORLD, in ? 0 : MPI_UNDEFINED, wr, &pair);
	if (!in)
		return;
	MPI_Comm_split(pair, wr, 0, &local);
	MPI_Intercomm_create(local, 0, pair, 1 - wr, 9, &ic2);
	int s[2] = { wr * 10 + 1, wr * 10 + 2 }, r[2] = { POISON, POISON };
	MPI_Reduce_scatter_block(s, r, 2, MPI_INT, MPI_SUM, ic2);
	MT_EQ(r[0], (1 - wr) * 10 + 1, "intercomm reduce_scatter_block");
	MT_EQ(r[1], (1 - wr) * 10 + 2, "intercomm reduce_scatter_block");
	MPI_Comm_free(&ic2);
	MPI_Comm_free(&local);
	MPI_Comm_free(&pair);
}

int main(int argc, char **argv)
{
	MPI_Comm local;

	MPI_Init(&argc, &argv);
	mt_begin("coll_inter");
	MPI_Comm_rank(MPI_COMM_WORLD, &wr);
	MPI_Comm_size(MPI_COMM_WORLD, &ws);
	if (ws < 3) {
		mt_say("needs at least 3 ranks");
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	inA = wr == 0;
	MPI_Comm_split(MPI_COMM_WORLD, inA ? 0 : 1, wr, &local);
	MPI_Intercomm_create(local, 0, MPI_COMM_WORLD, inA ? 1 : 0, 7, &ic);
	MPI_Comm_set_errhandler(ic, MPI_ERRORS_RETURN);
	MPI_Comm_rank(ic, &lr);
	MPI_Comm_size(ic, &ls);
	MPI_Comm_remote_size(ic, &rs);

	MPI_Barrier(ic);
	mt_say("barrier: both groups");
	rooted(1, 0);
	mt_say("rooted, A's rank 0 as MPI_ROOT: bcast, reduce, gather(v), scatter(v)");
	rooted(0, 1);
	mt_say("rooted, B's rank 1 as MPI_ROOT, B's others MPI_PROC_NULL: same calls");
	all_to_all();
	mt_say("allreduce, allgather(v), alltoall(v): each group gets the other's data");
	scan_is_comm_error();
	mt_say("scan: MPI_ERR_COMM");
	reduce_scatter_equal();
	mt_say("reduce_scatter_block between two single ranks");
	MPI_Comm_free(&ic);
	MPI_Comm_free(&local);
	return mt_finish();
}
