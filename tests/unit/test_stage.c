/*
 * test_stage.c - unit tests of shim_stage_alloc_fit (shim/stage.c): the
 * asked size, or else the largest free piece if it holds the minimum.
 *
 * The arena is laid out as free pieces of 1, 3 and 2 MiB, in that
 * address order, between blocks in use, with the rest in use.  A piece
 * below the minimum must never come back, the largest piece must when
 * the asked size fits nowhere (not the first one that holds the
 * minimum), and a failure must leave the arena as it was.  The
 * checkpoint's drain block is cut this way (shim/ckpt.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "fakepx.h"

#define MIB (1u << 20)
#define ARENA (16u << 20)

/* The layout, in address order: pieces 0, 2, 4 are freed. */
static const uint64_t layout[] = { 1 * MIB, 64, 3 * MIB, 64, 2 * MIB, 64 };
#define NLAYOUT (sizeof(layout) / sizeof(layout[0]))
static struct shim_stage block[NLAYOUT + 1]; /* + the rest */
static uint64_t at[NLAYOUT];                 /* where each piece starts */

static void answer(struct chan_call *c)
{
	c->err = MPI_ERR_INTERN; /* nothing here calls the proxy */
}

static int group_setup(void **state)
{
	(void)state;
	return fakepx_start(ARENA, 0, 1, answer);
}

static int group_teardown(void **state)
{
	(void)state;
	fakepx_stop();
	return 0;
}

/* On a fresh arena: a failed test may have left its block behind. */
static int lay_out(void **state)
{
	(void)state;
	arena_fini(&shim.arena);
	if (arena_init(&shim.arena, shim.ch.hdr->arena_size) < 0)
		return -1;
	for (size_t i = 0; i < NLAYOUT; i++)
		if (shim_stage_alloc(&block[i], layout[i], "test") != MPI_SUCCESS)
			return -1;
	if (shim_stage_alloc(&block[NLAYOUT], arena_largest(&shim.arena), "test") !=
	    MPI_SUCCESS || arena_largest(&shim.arena) != 0)
		return -1;
	for (size_t i = 0; i < NLAYOUT; i += 2) {
		at[i] = block[i].off;
		shim_stage_free(&block[i]);
	}
	return 0;
}

static void test_asked_size_when_it_fits(void **state)
{
	(void)state;
	struct shim_stage s;

	assert_int_equal(shim_stage_alloc_fit(&s, 2 * MIB, 64), MPI_SUCCESS);
	assert_int_equal(s.len, 2 * MIB);
	assert_int_not_equal(s.off, ARENA_NONE);
	shim_stage_free(&s);
}

static void test_largest_piece_when_short(void **state)
{
	(void)state;
	struct shim_stage s;

	/* The 1 MiB piece comes first and holds the minimum: not it. */
	assert_int_equal(shim_stage_alloc_fit(&s, 8 * MIB, 1 * MIB), MPI_SUCCESS);
	assert_int_equal(s.len, 3 * MIB);
	assert_int_equal(s.off, at[2]);
	assert_int_equal(arena_largest(&shim.arena), 2 * MIB);
	shim_stage_free(&s);
	/* A minimum of exactly the largest piece takes it. */
	assert_int_equal(shim_stage_alloc_fit(&s, 8 * MIB, 3 * MIB), MPI_SUCCESS);
	assert_int_equal(s.len, 3 * MIB);
	assert_int_equal(s.off, at[2]);
	shim_stage_free(&s);
}

static void test_never_below_min(void **state)
{
	(void)state;
	struct shim_stage s;
	uint64_t used = shim.arena.used;

	assert_int_equal(shim_stage_alloc_fit(&s, 8 * MIB, 3 * MIB + 64), MPI_ERR_NO_MEM);
	assert_int_equal(s.off, ARENA_NONE);
	assert_int_equal(s.len, 3 * MIB); /* the most there was */
	assert_int_equal(shim.arena.used, used);
	/* Without a smaller minimum, the asked size or nothing. */
	assert_int_equal(shim_stage_alloc_fit(&s, 4 * MIB, 4 * MIB), MPI_ERR_NO_MEM);
	assert_int_equal(s.off, ARENA_NONE);
	assert_int_equal(shim.arena.used, used);
	assert_int_equal(arena_largest(&shim.arena), 3 * MIB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_asked_size_when_it_fits, lay_out, NULL),
		cmocka_unit_test_setup_teardown(test_largest_piece_when_short, lay_out, NULL),
		cmocka_unit_test_setup_teardown(test_never_below_min, lay_out, NULL),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
