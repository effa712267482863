/*
 * comm.c - communicator management: rank/size, dup, split (with
 * MPI_UNDEFINED and reordering keys), split_type SHARED, create,
 * create_group, free, all four Comm_compare results, Comm_group and
 * set/get_name.  Each new communicator is also used for traffic, and the
 * world ranks of its members, in its rank order, are gathered and printed,
 * since a shim that mistranslates ranks shows up there first.
 */
/* ranks: 4 */
#include "mt.h"

#define NP 4

static int world_rank, world_size;

/* Print "<what>: w0 w1 ..." = the world rank of each member, in comm order. */
static void show_members(MPI_Comm c, const char *what)
{
	int size, members[NP], n = 0;
	char line[128];

	MPI_Comm_size(c, &size);
	MPI_Allgather(&world_rank, 1, MPI_INT, members, 1, MPI_INT, c);
	n = snprintf(line, sizeof line, "%s:", what);
	for (int i = 0; i < size && n < (int)sizeof line; i++)
		n += snprintf(line + n, sizeof line - n, " %d", members[i]);
	mt_say("%s", line);
}

static void check_compare(MPI_Comm a, MPI_Comm b, int want, const char *what)
{
	int got = -1;

	MPI_Comm_compare(a, b, &got);
	MT_EQ(got, want, what);
}

static void test_world_self(void)
{
	int r = -1, s = -1;

	MT_EQ(world_size, NP, "world size");
	MPI_Comm_rank(MPI_COMM_SELF, &r);
	MPI_Comm_size(MPI_COMM_SELF, &s);
	MT_EQ(r, 0, "rank in MPI_COMM_SELF");
	MT_EQ(s, 1, "size of MPI_COMM_SELF");
	check_compare(MPI_COMM_WORLD, MPI_COMM_WORLD, MPI_IDENT, "compare world, world");
	check_compare(MPI_COMM_WORLD, MPI_COMM_SELF, MPI_UNEQUAL, "compare world, self");
	mt_say("world size %d, self size 1, world/world ident, world/self unequal", world_size);
}

/* A dup is congruent, and its traffic never matches the parent's. */
static void test_dup(void)
{
	MPI_Comm d;
	int right = (world_rank + 1) % NP, left = (world_rank + NP - 1) % NP;
	int on_world = -1, on_dup = -1, a = 100 + world_rank, b = 200 + world_rank;
	MPI_Request rq[2];

	MPI_Comm_dup(MPI_COMM_WORLD, &d);
	check_compare(MPI_COMM_WORLD, d, MPI_CONGRUENT, "compare world, dup");
	MPI_Isend(&a, 1, MPI_INT, right, 0, MPI_COMM_WORLD, &rq[0]);
	MPI_Isend(&b, 1, MPI_INT, right, 0, d, &rq[1]);
	MPI_Recv(&on_dup, 1, MPI_INT, left, 0, d, MPI_STATUS_IGNORE);
	MPI_Recv(&on_world, 1, MPI_INT, left, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	MPI_Waitall(2, rq, MPI_STATUSES_IGNORE);
	MT_EQ(on_world, 100 + left, "message on world after dup traffic");
	MT_EQ(on_dup, 200 + left, "message on dup");
	show_members(d, "dup members");
	MPI_Comm_free(&d);
	MT_CHECK(d == MPI_COMM_NULL, "Comm_free did not set the handle to MPI_COMM_NULL");
}

static void test_split(void)
{
	MPI_Comm byparity, rev, some;
	int r = -1, s = -1;

	/* Parity colours, reversed by key: world 3,1 and 2,0. */
	MPI_Comm_split(MPI_COMM_WORLD, world_rank % 2, -world_rank, &byparity);
	MPI_Comm_rank(byparity, &r);
	MPI_Comm_size(byparity, &s);
	MT_EQ(s, NP / 2, "size of parity split");
	MT_EQ(r, (NP - 1 - world_rank) / 2, "rank in parity split");
	show_members(byparity, "split parity (rank 0's part)");
	check_compare(MPI_COMM_WORLD, byparity, MPI_UNEQUAL, "compare world, parity split");

	/* One colour, reversed keys: same group, other order. */
	MPI_Comm_split(MPI_COMM_WORLD, 7, NP - world_rank, &rev);
	MPI_Comm_rank(rev, &r);
	MT_EQ(r, NP - 1 - world_rank, "rank in reversed split");
	check_compare(MPI_COMM_WORLD, rev, MPI_SIMILAR, "compare world, reversed split");
	show_members(rev, "split reversed");

	/* Ties in key keep the parent's order; MPI_UNDEFINED gets no comm. */
	MPI_Comm_split(MPI_COMM_WORLD, world_rank == 1 ? MPI_UNDEFINED : 3, 0, &some);
	if (world_rank == 1) {
		MT_CHECK(some == MPI_COMM_NULL, "MPI_UNDEFINED colour got a communicator");
	} else {
		MPI_Comm_size(some, &s);
		MT_EQ(s, NP - 1, "size of split without rank 1");
		show_members(some, "split undefined for 1");
		MPI_Comm_free(&some);
	}
	MPI_Comm_free(&byparity);
	MPI_Comm_free(&rev);
}

/* Members of a shared-memory split all run on one node. */
static void test_split_type(void)
{
	char name[MPI_MAX_PROCESSOR_NAME] = "", first[MPI_MAX_PROCESSOR_NAME] = "";
	MPI_Comm node;
	int len, s = 0, r = -1, sum = 0, world_sum = 0;

	MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
	MPI_Comm_size(node, &s);
	MPI_Comm_rank(node, &r);
	MT_CHECK(s >= 1 && s <= NP && r >= 0 && r < s, "shared split rank %d size %d", r, s);
	MPI_Get_processor_name(name, &len);
	memcpy(first, name, sizeof name);
	MPI_Bcast(first, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 0, node);
	MT_CHECK(strcmp(first, name) == 0, "shared split spans more than one processor name");
	/* Every world rank is in exactly one node communicator. */
	sum = r == 0 ? s : 0;
	MPI_Allreduce(&sum, &world_sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	MT_EQ(world_sum, NP, "node communicators cover the world");
	mt_say("split_type shared: one node per communicator, sizes add up to %d", world_sum);
	MPI_Comm_free(&node);
}

static void test_create(void)
{
	MPI_Group world_group, evens, trio;
	MPI_Comm c = MPI_COMM_NULL;
	int even_ranks[] = { 0, 2 }, trio_ranks[] = { 3, 1, 0 }, r = -1;

	MPI_Comm_group(MPI_COMM_WORLD, &world_group);
	MPI_Group_incl(world_group, 2, even_ranks, &evens);
	MPI_Comm_create(MPI_COMM_WORLD, evens, &c);
	if (world_rank % 2) {
		MT_CHECK(c == MPI_COMM_NULL, "Comm_create gave a non-member a communicator");
	} else {
		MPI_Comm_rank(c, &r);
		MT_EQ(r, world_rank / 2, "rank in created comm");
		show_members(c, "create {0,2}");
		MPI_Comm_free(&c);
	}

	/* Comm_create_group: only the members call it. */
	MPI_Group_incl(world_group, 3, trio_ranks, &trio);
	if (world_rank != 2) {
		MPI_Comm_create_group(MPI_COMM_WORLD, trio, 11, &c);
		MPI_Comm_rank(c, &r);
		MT_EQ(r, world_rank == 3 ? 0 : world_rank == 1 ? 1 : 2, "rank in create_group comm");
		show_members(c, "create_group {3,1,0}");
		MPI_Comm_free(&c);
	}
	MPI_Group_free(&trio);
	MPI_Group_free(&evens);
	MPI_Group_free(&world_group);
}

/* A communicator's group is the same group as its parent's, or not. */
static void test_comm_group(void)
{
	MPI_Group gw, gd;
	MPI_Comm d;
	int res = -1;

	MPI_Comm_dup(MPI_COMM_WORLD, &d);
	MPI_Comm_group(MPI_COMM_WORLD, &gw);
	MPI_Comm_group(d, &gd);
	MPI_Group_compare(gw, gd, &res);
	MT_EQ(res, MPI_IDENT, "group of world vs group of dup");
	MPI_Group_free(&gd);
	MPI_Group_free(&gw);
	MT_CHECK(gw == MPI_GROUP_NULL, "Group_free did not set the handle to MPI_GROUP_NULL");
	MPI_Comm_free(&d);
	mt_say("comm_group: dup's group identical to world's");
}

static void test_names(void)
{
	char name[MPI_MAX_OBJECT_NAME];
	int len = -1;
	MPI_Comm d;

	MPI_Comm_get_name(MPI_COMM_WORLD, name, &len);
	MT_EQ(len, strlen(name), "world name length");
	mt_say("world name: %s", name);
	MPI_Comm_get_name(MPI_COMM_SELF, name, &len);
	mt_say("self name: %s", name);

	MPI_Comm_dup(MPI_COMM_WORLD, &d);
	MPI_Comm_set_name(d, "mt dup of world");
	MPI_Comm_get_name(d, name, &len);
	MT_CHECK(strcmp(name, "mt dup of world") == 0, "dup name read back as '%s'", name);
	MT_EQ(len, strlen("mt dup of world"), "dup name length");
	MPI_Comm_set_name(d, "renamed");
	MPI_Comm_get_name(d, name, &len);
	MT_CHECK(strcmp(name, "renamed") == 0, "renamed dup read back as '%s'", name);
	mt_say("dup name set, read back, renamed: %s", name);
	MPI_Comm_free(&d);
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	mt_begin("comm");
	MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
	MPI_Comm_size(MPI_COMM_WORLD, &world_size);
	if (world_size != NP) {
		MT_FAIL("needs %d ranks, got %d", NP, world_size);
		return mt_finish();
	}
	test_world_self();
	test_dup();
	test_split();
	test_split_type();
	test_create();
	test_comm_group();
	test_names();
	return mt_finish();
}
