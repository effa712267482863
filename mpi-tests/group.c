/*
 * group.c - group constructors and queries: incl, excl, range_incl,
 * range_excl, union, intersection, difference, translate_ranks (with
 * MPI_PROC_NULL and MPI_UNDEFINED results), rank, size, compare (IDENT,
 * SIMILAR, UNEQUAL), free, and MPI_GROUP_EMPTY.  Each constructed group is
 * printed as the world ranks of its members in group order, which is what
 * the standard fixes for every constructor.
 */
/* ranks: 4 */
#include "mt.h"

#define NP 4

static MPI_Group world;
static int world_rank;

/* World ranks of the members of g, in g's order; returns the size. */
static int members(MPI_Group g, int *out)
{
	int size = 0, idx[NP];

	MPI_Group_size(g, &size);
	for (int i = 0; i < size && i < NP; i++)
		idx[i] = i;
	MPI_Group_translate_ranks(g, size, idx, world, out);
	return size;
}

/* Check g holds exactly want[0..n-1] in order, and my rank in it; print it. */
static void expect(MPI_Group g, const int *want, int n, const char *what)
{
	int got[NP], size = members(g, got), my = -2, mine = MPI_UNDEFINED;
	char line[96];
	int len = snprintf(line, sizeof line, "%s:", what);

	MT_EQ(size, n, what);
	for (int i = 0; i < n && i < size; i++) {
		MT_CHECK(got[i] == want[i], "%s: member %d is world %d, expected %d",
			 what, i, got[i], want[i]);
		if (want[i] == world_rank)
			mine = i;
	}
	MPI_Group_rank(g, &my);
	MT_EQ(my, mine, what);
	for (int i = 0; i < size && i < NP; i++)
		len += snprintf(line + len, sizeof line - len, " %d", got[i]);
	if (size == 0)
		snprintf(line + len, sizeof line - len, " (empty)");
	mt_say("%s", line);
}

static void check_compare(MPI_Group a, MPI_Group b, int want, const char *what)
{
	int got = -1;

	MPI_Group_compare(a, b, &got);
	MT_EQ(got, want, what);
}

static void test_incl_excl(void)
{
	int r31[] = { 3, 1 }, r13[] = { 1, 3 }, r02[] = { 0, 2 };
	MPI_Group g31, g13, ex02, ex_none;

	MPI_Group_incl(world, 2, r31, &g31);
	expect(g31, r31, 2, "incl {3,1}");
	MPI_Group_incl(world, 2, r13, &g13);
	MPI_Group_excl(world, 2, r02, &ex02);
	expect(ex02, r13, 2, "excl {0,2}");
	MPI_Group_excl(world, 0, r02, &ex_none);
	check_compare(ex_none, world, MPI_IDENT, "compare excl {} with world");
	check_compare(ex02, g13, MPI_IDENT, "compare excl {0,2} with incl {1,3}");
	check_compare(ex02, g31, MPI_SIMILAR, "compare excl {0,2} with incl {3,1}");
	check_compare(g31, world, MPI_UNEQUAL, "compare incl {3,1} with world");
	mt_say("compare: ident, similar, unequal as expected");
	MPI_Group_free(&ex_none);
	MPI_Group_free(&ex02);
	MPI_Group_free(&g13);
	MPI_Group_free(&g31);
	MT_CHECK(g31 == MPI_GROUP_NULL, "Group_free did not set the handle to MPI_GROUP_NULL");
}

static void test_ranges(void)
{
	int stride2[][3] = { { 0, 3, 2 } }, down[][3] = { { 3, 0, -3 } };
	int two[][3] = { { 3, 3, 1 }, { 0, 1, 1 } }, skip[][3] = { { 1, 3, 2 } };
	int w02[] = { 0, 2 }, w30[] = { 3, 0 }, w301[] = { 3, 0, 1 };
	MPI_Group a, b, c, d;

	MPI_Group_range_incl(world, 1, stride2, &a);
	expect(a, w02, 2, "range_incl 0..3 step 2");
	MPI_Group_range_incl(world, 1, down, &b);
	expect(b, w30, 2, "range_incl 3..0 step -3");
	MPI_Group_range_incl(world, 2, two, &c);
	expect(c, w301, 3, "range_incl 3..3, 0..1");
	MPI_Group_range_excl(world, 1, skip, &d);
	expect(d, w02, 2, "range_excl 1..3 step 2");
	MPI_Group_free(&a);
	MPI_Group_free(&b);
	MPI_Group_free(&c);
	MPI_Group_free(&d);
}

static void test_set_ops(void)
{
	int r31[] = { 3, 1 }, r01[] = { 0, 1 }, r310[] = { 3, 1, 0 }, r13[] = { 1, 3 };
	int r02[] = { 0, 2 }, r1[] = { 1 };
	MPI_Group g31, g01, u, in, df, in2, df2;

	MPI_Group_incl(world, 2, r31, &g31);
	MPI_Group_incl(world, 2, r01, &g01);
	MPI_Group_union(g31, g01, &u);
	expect(u, r310, 3, "union {3,1} {0,1}");
	MPI_Group_intersection(world, g31, &in);
	expect(in, r13, 2, "intersection world {3,1}");
	MPI_Group_intersection(g31, g01, &in2);
	expect(in2, r1, 1, "intersection {3,1} {0,1}");
	MPI_Group_difference(world, g31, &df);
	expect(df, r02, 2, "difference world {3,1}");
	MPI_Group_difference(g31, world, &df2);
	expect(df2, r02, 0, "difference {3,1} world");
	check_compare(df2, MPI_GROUP_EMPTY, MPI_IDENT, "compare empty difference with MPI_GROUP_EMPTY");
	MPI_Group_free(&u);
	MPI_Group_free(&in);
	MPI_Group_free(&in2);
	MPI_Group_free(&df);
	MPI_Group_free(&df2);
	MPI_Group_free(&g01);
	MPI_Group_free(&g31);
}

static void test_translate(void)
{
	int r31[] = { 3, 1 }, from[] = { 1, MPI_PROC_NULL, 0 }, to[3] = { -9, -9, -9 };
	int wfrom[] = { 0, 1, 2, 3 }, wto[4];
	MPI_Group g31;

	MPI_Group_incl(world, 2, r31, &g31);
	MPI_Group_translate_ranks(g31, 3, from, world, to);
	MT_EQ(to[0], 1, "translate {3,1}[1] to world");
	MT_EQ(to[1], MPI_PROC_NULL, "translate MPI_PROC_NULL");
	MT_EQ(to[2], 3, "translate {3,1}[0] to world");
	MPI_Group_translate_ranks(world, 4, wfrom, g31, wto);
	MT_EQ(wto[0], MPI_UNDEFINED, "translate world 0 into {3,1}");
	MT_EQ(wto[1], 1, "translate world 1 into {3,1}");
	MT_EQ(wto[2], MPI_UNDEFINED, "translate world 2 into {3,1}");
	MT_EQ(wto[3], 0, "translate world 3 into {3,1}");
	mt_say("translate_ranks: members, non-members undefined, proc_null kept");
	MPI_Group_free(&g31);
}

static void test_empty(void)
{
	int size = -1, rank = -1, none[1] = { 0 };
	MPI_Group e;

	MPI_Group_size(MPI_GROUP_EMPTY, &size);
	MPI_Group_rank(MPI_GROUP_EMPTY, &rank);
	MT_EQ(size, 0, "size of MPI_GROUP_EMPTY");
	MT_EQ(rank, MPI_UNDEFINED, "rank in MPI_GROUP_EMPTY");
	MPI_Group_incl(world, 0, none, &e);
	expect(e, none, 0, "incl {}");
	check_compare(e, MPI_GROUP_EMPTY, MPI_IDENT, "compare incl {} with MPI_GROUP_EMPTY");
	check_compare(world, MPI_GROUP_EMPTY, MPI_UNEQUAL, "compare world with MPI_GROUP_EMPTY");
	MPI_Group_free(&e);
	mt_say("group_empty: size 0, rank undefined");
}

int main(int argc, char **argv)
{
	int size = 0;

	MPI_Init(&argc, &argv);
	mt_begin("group");
	MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != NP) {
		MT_FAIL("needs %d ranks, got %d", NP, size);
		return mt_finish();
	}
	MPI_Comm_group(MPI_COMM_WORLD, &world);
	int all[] = { 0, 1, 2, 3 };
	expect(world, all, NP, "world group");
	test_incl_excl();
	test_ranges();
	test_set_ops();
	test_translate();
	test_empty();
	MPI_Group_free(&world);
	return mt_finish();
}
