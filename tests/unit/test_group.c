/*
 * test_group.c - unit tests of the group algebra (shim/group.c).
 *
 * Groups live entirely in the shim, so they are tested here without a
 * proxy: a world of W ranks is set up with shim_comm_init_world, as
 * MPI_Init would, with this process at world rank ME.  The main test
 * runs a long random script of constructors (incl, excl, range_incl,
 * range_excl, union, intersection, difference) against both the shim and
 * a model that is obviously right (plain arrays, quadratic loops written
 * straight from the standard's wording), then compares every resulting
 * group with its model: size, my rank, members in order (read back with
 * MPI_Group_translate_ranks against the world group), and, between random
 * pairs, Group_compare and translate_ranks.  Invalid arguments are part
 * of the script: the model predicts the error class and that no group is
 * made.  Errors go to SHIM_NOCOMM's handler, set to MPI_ERRORS_RETURN.
 * Every group is freed, so ASan also checks for leaks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shim/shim.h"

#define W 24         /* world size */
#define ME 5         /* our world rank */
#define POOL 16      /* groups alive at once in the random script */
#define STEPS 3000

/* ------------------------------------------------------------ model */

struct model {
	int n;
	int m[W];        /* world ranks, in group order */
};

static int model_find(const struct model *g, int w)
{
	for (int i = 0; i < g->n; i++)
		if (g->m[i] == w)
			return i;
	return -1;
}

/* MPI_SUCCESS, or the class the standard's rules (and our choice of
 * classes) give for this rank list. */
static int model_ranks_error(const struct model *g, int n, const int *ranks)
{
	for (int i = 0; i < n; i++) {
		if (ranks[i] < 0 || ranks[i] >= g->n)
			return MPI_ERR_RANK;
		for (int j = 0; j < i; j++)
			if (ranks[j] == ranks[i])
				return MPI_ERR_RANK;
	}
	return MPI_SUCCESS;
}

static void model_incl(const struct model *g, int n, const int *ranks, struct model *out)
{
	out->n = 0;
	for (int i = 0; i < n; i++)
		out->m[out->n++] = g->m[ranks[i]];
}

static void model_excl(const struct model *g, int n, const int *ranks, struct model *out)
{
	out->n = 0;
	for (int i = 0; i < g->n; i++) {
		int named = 0;
		for (int j = 0; j < n; j++)
			named |= ranks[j] == i;
		if (!named)
			out->m[out->n++] = g->m[i];
	}
}

/* Expand triplets into ranks; MPI_ERR_ARG for any bad or repeated one. */
static int model_ranges(const struct model *g, int n, int ranges[][3], int *ranks, int *count)
{
	*count = 0;
	for (int i = 0; i < n; i++) {
		int first = ranges[i][0], last = ranges[i][1], stride = ranges[i][2];
		if (first < 0 || first >= g->n || last < 0 || last >= g->n || stride == 0)
			return MPI_ERR_ARG;
		if ((first < last && stride < 0) || (first > last && stride > 0))
			return MPI_ERR_ARG;
		for (int r = first; stride > 0 ? r <= last : r >= last; r += stride) {
			for (int j = 0; j < *count; j++)
				if (ranks[j] == r)
					return MPI_ERR_ARG;
			ranks[(*count)++] = r;
		}
	}
	return MPI_SUCCESS;
}

enum { OP_UNION, OP_INTER, OP_DIFF };

static void model_setop(const struct model *a, const struct model *b, int op, struct model *out)
{
	out->n = 0;
	for (int i = 0; i < a->n; i++) {
		int in_b = model_find(b, a->m[i]) >= 0;
		if (op == OP_UNION || (op == OP_INTER && in_b) || (op == OP_DIFF && !in_b))
			out->m[out->n++] = a->m[i];
	}
	if (op == OP_UNION)
		for (int i = 0; i < b->n; i++)
			if (model_find(a, b->m[i]) < 0)
				out->m[out->n++] = b->m[i];
}

static int model_compare(const struct model *a, const struct model *b)
{
	if (a->n != b->n)
		return MPI_UNEQUAL;
	if (memcmp(a->m, b->m, (size_t)a->n * sizeof(int)) == 0)
		return MPI_IDENT;
	for (int i = 0; i < a->n; i++)
		if (model_find(b, a->m[i]) < 0)
			return MPI_UNEQUAL;
	return MPI_SIMILAR;
}

/* ---------------------------------------------------------- fixture */

static MPI_Group world_group;
static struct model world_model;

static int setup(void **state)
{
	static int done;

	(void)state;
	if (!done) {
		shim.world_rank = ME;
		shim.world_size = W;
		if (shim_comm_init_world(ME, W) != MPI_SUCCESS)
			return -1;
		if (MPI_Comm_set_errhandler(SHIM_NOCOMM, MPI_ERRORS_RETURN) != MPI_SUCCESS)
			return -1;
		done = 1;
	}
	world_model.n = W;
	for (int i = 0; i < W; i++)
		world_model.m[i] = i;
	return MPI_Comm_group(MPI_COMM_WORLD, &world_group) == MPI_SUCCESS ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return MPI_Group_free(&world_group) == MPI_SUCCESS ? 0 : -1;
}

static uint32_t rng = 12345;

static int rnd(int n)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return n > 0 ? (int)(rng % (uint32_t)n) : 0;
}

/* The group behind h must be exactly the model, in order. */
static void check_group(MPI_Group h, const struct model *want)
{
	int size = -1, rank = -2, idx[W], got[W];

	assert_int_equal(MPI_Group_size(h, &size), MPI_SUCCESS);
	assert_int_equal(size, want->n);
	assert_int_equal(MPI_Group_rank(h, &rank), MPI_SUCCESS);
	int mine = model_find(want, ME);
	assert_int_equal(rank, mine < 0 ? MPI_UNDEFINED : mine);
	for (int i = 0; i < size; i++)
		idx[i] = i;
	assert_int_equal(MPI_Group_translate_ranks(h, size, idx, world_group, got), MPI_SUCCESS);
	assert_memory_equal(got, want->m, (size_t)size * sizeof(int));
	if (size == 0)
		assert_true(h == MPI_GROUP_EMPTY);
}

/* --------------------------------------------------- random script */

struct slot {
	MPI_Group h;
	struct model m;
};

static void random_ranks(const struct model *g, int *n, int *ranks)
{
	*n = rnd(g->n + 2);
	if (rnd(4)) { /* valid: a random arrangement of distinct ranks */
		int perm[W];
		for (int i = 0; i < g->n; i++)
			perm[i] = i;
		for (int i = g->n - 1; i > 0; i--) {
			int j = rnd(i + 1), t = perm[i];
			perm[i] = perm[j];
			perm[j] = t;
		}
		if (*n > g->n)
			*n = g->n;
		memcpy(ranks, perm, (size_t)*n * sizeof(int));
	} else { /* anything near the valid range: repeats, -1, size */
		for (int i = 0; i < *n; i++)
			ranks[i] = rnd(g->n + 2) - 1;
	}
}

static void random_ranges(const struct model *g, int *n, int ranges[][3])
{
	*n = rnd(4);
	for (int i = 0; i < *n; i++) {
		int first = rnd(g->n + 1) - (rnd(8) == 0), last = rnd(g->n);
		int stride = 1 + rnd(3);
		if (first > last)
			stride = -stride;
		if (rnd(10) == 0)
			stride = rnd(10) ? -stride : 0;
		ranges[i][0] = first;
		ranges[i][1] = last;
		ranges[i][2] = stride;
	}
}

/* One constructor on pool[a] (and pool[b]); the result goes to *out. */
static void random_step(struct slot *pool, int a, int b, struct slot *out)
{
	const struct model *g = &pool[a].m;
	int n, ranks[W + 2], ranges[4][3], expanded[W * 4], count, want, rc;
	MPI_Group h = MPI_GROUP_NULL;

	switch (rnd(5)) {
	case 0:
		random_ranks(g, &n, ranks);
		want = model_ranks_error(g, n, ranks);
		if (rnd(2)) {
			rc = MPI_Group_incl(pool[a].h, n, ranks, &h);
			if (!want)
				model_incl(g, n, ranks, &out->m);
		} else {
			rc = MPI_Group_excl(pool[a].h, n, ranks, &h);
			if (!want)
				model_excl(g, n, ranks, &out->m);
		}
		break;
	case 1:
		random_ranges(g, &n, ranges);
		want = model_ranges(g, n, ranges, expanded, &count);
		if (rnd(2)) {
			rc = MPI_Group_range_incl(pool[a].h, n, ranges, &h);
			if (!want)
				model_incl(g, count, expanded, &out->m);
		} else {
			rc = MPI_Group_range_excl(pool[a].h, n, ranges, &h);
			if (!want)
				model_excl(g, count, expanded, &out->m);
		}
		break;
	default: {
		int op = rnd(3);
		int (*fn[])(MPI_Group, MPI_Group, MPI_Group *) = {
			MPI_Group_union, MPI_Group_intersection, MPI_Group_difference
		};
		want = MPI_SUCCESS;
		rc = fn[op](pool[a].h, pool[b].h, &h);
		model_setop(g, &pool[b].m, op, &out->m);
		break;
	}
	}
	assert_int_equal(rc, want);
	if (rc != MPI_SUCCESS) {
		assert_true(h == MPI_GROUP_NULL);
		out->h = MPI_GROUP_NULL;
		return;
	}
	out->h = h;
	check_group(h, &out->m);
}

/* Compare and translate between two groups, both against the model. */
static void check_pair(const struct slot *a, const struct slot *b)
{
	int res = -1, from[W + 1], to[W + 1];

	assert_int_equal(MPI_Group_compare(a->h, b->h, &res), MPI_SUCCESS);
	assert_int_equal(res, model_compare(&a->m, &b->m));
	for (int i = 0; i < a->m.n; i++)
		from[i] = a->m.n - 1 - i;
	from[a->m.n] = MPI_PROC_NULL;
	assert_int_equal(MPI_Group_translate_ranks(a->h, a->m.n + 1, from, b->h, to),
			 MPI_SUCCESS);
	for (int i = 0; i < a->m.n; i++) {
		int pos = model_find(&b->m, a->m.m[from[i]]);
		assert_int_equal(to[i], pos < 0 ? MPI_UNDEFINED : pos);
	}
	assert_int_equal(to[a->m.n], MPI_PROC_NULL);
}

static void test_random_script(void **state)
{
	struct slot pool[POOL];
	int live = 1;

	(void)state;
	assert_int_equal(MPI_Group_excl(world_group, 0, NULL, &pool[0].h), MPI_SUCCESS);
	pool[0].m = world_model;
	check_group(pool[0].h, &pool[0].m);
	for (int step = 0; step < STEPS; step++) {
		struct slot next;
		int a = rnd(live), b = rnd(live);

		random_step(pool, a, b, &next);
		check_pair(&pool[a], &pool[b]);
		if (next.h == MPI_GROUP_NULL)
			continue;
		if (live < POOL) {
			pool[live++] = next;
			continue;
		}
		/* Pool full: replace a random group, keeping one large one so
		 * the script does not shrink to empty groups only. */
		int victim = 1 + rnd(POOL - 1);
		assert_int_equal(MPI_Group_free(&pool[victim].h), MPI_SUCCESS);
		assert_true(pool[victim].h == MPI_GROUP_NULL);
		pool[victim] = next;
	}
	for (int i = 0; i < live; i++)
		assert_int_equal(MPI_Group_free(&pool[i].h), MPI_SUCCESS);
}

/* ------------------------------------------------ fixed cases */

static void test_world_group(void **state)
{
	int res = -1;
	MPI_Group self;

	(void)state;
	check_group(world_group, &world_model);
	assert_int_equal(MPI_Comm_group(MPI_COMM_SELF, &self), MPI_SUCCESS);
	struct model me = { .n = 1, .m = { ME } };
	check_group(self, &me);
	assert_int_equal(MPI_Group_compare(world_group, self, &res), MPI_SUCCESS);
	assert_int_equal(res, MPI_UNEQUAL);
	assert_int_equal(MPI_Group_free(&self), MPI_SUCCESS);
}

static void test_empty(void **state)
{
	int size = -1, rank = -1, res = -1, none[1] = { 0 };
	MPI_Group g = MPI_GROUP_NULL, e = MPI_GROUP_EMPTY;
	struct model empty = { .n = 0 };

	(void)state;
	assert_int_equal(MPI_Group_size(MPI_GROUP_EMPTY, &size), MPI_SUCCESS);
	assert_int_equal(size, 0);
	assert_int_equal(MPI_Group_rank(MPI_GROUP_EMPTY, &rank), MPI_SUCCESS);
	assert_int_equal(rank, MPI_UNDEFINED);
	assert_int_equal(MPI_Group_incl(world_group, 0, none, &g), MPI_SUCCESS);
	check_group(g, &empty);
	/* n = 0 needs no rank array at all (MPICH's group/groupnullincl). */
	assert_int_equal(MPI_Group_incl(world_group, 0, NULL, &g), MPI_SUCCESS);
	check_group(g, &empty);
	assert_int_equal(MPI_Group_difference(world_group, world_group, &g), MPI_SUCCESS);
	check_group(g, &empty);
	assert_int_equal(MPI_Group_compare(g, MPI_GROUP_EMPTY, &res), MPI_SUCCESS);
	assert_int_equal(res, MPI_IDENT);
	assert_int_equal(MPI_Group_compare(world_group, MPI_GROUP_EMPTY, &res), MPI_SUCCESS);
	assert_int_equal(res, MPI_UNEQUAL);
	/* A union with the empty group is a copy, never the same handle. */
	assert_int_equal(MPI_Group_union(world_group, MPI_GROUP_EMPTY, &g), MPI_SUCCESS);
	assert_true(g != world_group);
	check_group(g, &world_model);
	assert_int_equal(MPI_Group_free(&g), MPI_SUCCESS);
	/* Freeing MPI_GROUP_EMPTY is allowed and only nulls the handle. */
	assert_int_equal(MPI_Group_free(&e), MPI_SUCCESS);
	assert_true(e == MPI_GROUP_NULL);
	assert_int_equal(MPI_Group_size(MPI_GROUP_EMPTY, &size), MPI_SUCCESS);
	assert_int_equal(size, 0);
}

static void test_translate_special(void **state)
{
	int r[] = { 3, 7 }, in[] = { MPI_PROC_NULL, 0, 1 }, out[3] = { 0, 0, 0 };
	MPI_Group g;

	(void)state;
	assert_int_equal(MPI_Group_incl(world_group, 2, r, &g), MPI_SUCCESS);
	assert_int_equal(MPI_Group_translate_ranks(g, 3, in, world_group, out), MPI_SUCCESS);
	assert_int_equal(out[0], MPI_PROC_NULL);
	assert_int_equal(out[1], 3);
	assert_int_equal(out[2], 7);
	int win[] = { 7, 4, 3 };
	assert_int_equal(MPI_Group_translate_ranks(world_group, 3, win, g, out), MPI_SUCCESS);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], MPI_UNDEFINED);
	assert_int_equal(out[2], 0);
	assert_int_equal(MPI_Group_translate_ranks(g, 0, NULL, MPI_GROUP_EMPTY, NULL), MPI_SUCCESS);
	assert_int_equal(MPI_Group_translate_ranks(g, 1, in + 1, MPI_GROUP_EMPTY, out), MPI_SUCCESS);
	assert_int_equal(out[0], MPI_UNDEFINED);
	assert_int_equal(MPI_Group_free(&g), MPI_SUCCESS);
}

/* Each bad argument gives its class and leaves the output alone. */
static void test_errors(void **state)
{
	int dup[] = { 1, 1 }, out_of_range[] = { W }, neg[] = { -1 }, res = 0, size;
	int stride0[][3] = { { 0, 3, 0 } }, wrong_way[][3] = { { 3, 0, 1 } };
	int overlap[][3] = { { 0, 4, 2 }, { 4, 5, 1 } }, past_end[][3] = { { 0, W, 1 } };
	int ranks[] = { 0, 2 }, out[2];
	MPI_Group g = MPI_GROUP_NULL, freed;

	(void)state;
	assert_int_equal(MPI_Group_incl(world_group, 2, dup, &g), MPI_ERR_RANK);
	assert_int_equal(MPI_Group_excl(world_group, 2, dup, &g), MPI_ERR_RANK);
	assert_int_equal(MPI_Group_incl(world_group, 1, out_of_range, &g), MPI_ERR_RANK);
	assert_int_equal(MPI_Group_excl(world_group, 1, neg, &g), MPI_ERR_RANK);
	assert_int_equal(MPI_Group_incl(world_group, -1, dup, &g), MPI_ERR_ARG);
	assert_int_equal(MPI_Group_incl(world_group, 1, dup, NULL), MPI_ERR_ARG);
	assert_int_equal(MPI_Group_range_incl(world_group, 1, stride0, &g), MPI_ERR_ARG);
	assert_int_equal(MPI_Group_range_incl(world_group, 1, wrong_way, &g), MPI_ERR_ARG);
	assert_int_equal(MPI_Group_range_excl(world_group, 2, overlap, &g), MPI_ERR_ARG);
	assert_int_equal(MPI_Group_range_excl(world_group, 1, past_end, &g), MPI_ERR_ARG);
	assert_int_equal(MPI_Group_range_incl(world_group, -2, stride0, &g), MPI_ERR_ARG);
	assert_true(g == MPI_GROUP_NULL);

	assert_int_equal(MPI_Group_size(MPI_GROUP_NULL, &size), MPI_ERR_GROUP);
	assert_int_equal(MPI_Group_rank((MPI_Group)(uintptr_t)0x7777, &size), MPI_ERR_GROUP);
	assert_int_equal(MPI_Group_compare(world_group, MPI_GROUP_NULL, &res), MPI_ERR_GROUP);
	assert_int_equal(MPI_Group_union(MPI_GROUP_NULL, world_group, &g), MPI_ERR_GROUP);
	assert_int_equal(MPI_Group_free(&g), MPI_ERR_GROUP);
	assert_int_equal(MPI_Group_translate_ranks(world_group, 1, out_of_range, world_group, out),
			 MPI_ERR_RANK);
	assert_int_equal(MPI_Group_translate_ranks(world_group, -1, ranks, world_group, out),
			 MPI_ERR_ARG);

	/* A freed handle is dead even though its index may be reused. */
	assert_int_equal(MPI_Group_incl(world_group, 2, ranks, &g), MPI_SUCCESS);
	freed = g;
	assert_int_equal(MPI_Group_free(&g), MPI_SUCCESS);
	assert_int_equal(MPI_Group_size(freed, &size), MPI_ERR_GROUP);
	assert_int_equal(MPI_Group_free(&freed), MPI_ERR_GROUP);
	assert_int_equal(MPI_Group_free(NULL), MPI_ERR_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_world_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_translate_special, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_script, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
