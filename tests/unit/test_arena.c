/*
 * test_arena.c - unit tests of the arena allocator (chan/arena.c).
 *
 * The allocator is run side by side with a model that is obviously right:
 * a byte map saying which bytes of the arena belong to a live block.  A
 * block of n bytes owns the whole cache lines it touches (arena.h: blocks
 * are aligned and never share a line; n == 0 still owns one line).  After
 * every step the model checks alignment, range and overlap, the byte and
 * block counts, and that the offset is the one first fit must give: the
 * start of the lowest free run long enough.  Sequences come from a fixed
 * seed, so a failure repeats.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chan/arena.h"

#define SIZE ((256u << 10) + 37) /* not a multiple of ARENA_ALIGN on purpose */
#define LINE 64u                 /* a cache line, what ARENA_ALIGN promises */
#define MANAGED (SIZE / LINE * LINE)
#define MAX_LIVE 512

struct live {
	uint64_t off, n;
};

struct model {
	struct arena a;
	unsigned char map[SIZE]; /* 1: byte belongs to a live block */
	struct live live[MAX_LIVE];
	size_t nlive;
	uint64_t used;
	uint64_t rng;
};

static uint64_t next_rand(struct model *m)
{
	/* xorshift64*: a fixed, portable sequence */
	m->rng ^= m->rng >> 12;
	m->rng ^= m->rng << 25;
	m->rng ^= m->rng >> 27;
	return m->rng * 2685821657736338717ull;
}

static uint64_t extent(uint64_t n)
{
	return n == 0 ? LINE : (n + LINE - 1) / LINE * LINE;
}

/* Start of the lowest maximal free run of at least len bytes, and the
 * longest run through *largest.  Every block is asserted line aligned
 * before it is marked, so the first byte of a line speaks for the line;
 * the partial line at the end can hold no block. */
static uint64_t model_first_fit(const struct model *m, uint64_t len,
				uint64_t *largest)
{
	const uint64_t lines = SIZE / LINE;
	uint64_t first = ARENA_NONE, best = 0;

	for (uint64_t p = 0; p < lines;) {
		if (m->map[p * LINE]) {
			p++;
			continue;
		}
		uint64_t q = p;
		while (q < lines && !m->map[q * LINE])
			q++;
		uint64_t run = (q - p) * LINE;
		if (run > best)
			best = run;
		if (first == ARENA_NONE && run >= len)
			first = p * LINE;
		p = q;
	}
	if (largest != NULL)
		*largest = best;
	return first;
}

static void check_counts(const struct model *m)
{
	assert_int_equal(m->a.used, m->used);
	assert_int_equal(m->a.live, m->nlive);
}

static void check_largest(const struct model *m)
{
	uint64_t largest;

	model_first_fit(m, 0, &largest);
	assert_int_equal(arena_largest(&m->a), largest);
}

static uint64_t do_alloc(struct model *m, uint64_t n)
{
	uint64_t len = extent(n);
	uint64_t want = n > SIZE ? ARENA_NONE : model_first_fit(m, len, NULL);
	uint64_t off = arena_alloc(&m->a, n);

	assert_int_equal(off, want);
	if (off == ARENA_NONE)
		return off;
	assert_int_equal(off % LINE, 0);
	assert_true(off + len <= SIZE);
	for (uint64_t i = off; i < off + len; i++) {
		assert_int_equal(m->map[i], 0);
		m->map[i] = 1;
	}
	assert_true(m->nlive < MAX_LIVE);
	m->live[m->nlive++] = (struct live){ off, n };
	m->used += len;
	check_counts(m);
	return off;
}

static void do_free(struct model *m, size_t k)
{
	struct live b = m->live[k];
	uint64_t len = extent(b.n);

	arena_free(&m->a, b.off, b.n);
	memset(m->map + b.off, 0, len);
	m->live[k] = m->live[--m->nlive];
	m->used -= len;
	check_counts(m);
}

static int setup(void **state)
{
	struct model *m = calloc(1, sizeof(*m));

	if (m == NULL || arena_init(&m->a, SIZE) < 0)
		return -1;
	m->rng = 0x9e3779b97f4a7c15ull;
	*state = m;
	return 0;
}

static int teardown(void **state)
{
	struct model *m = *state;

	arena_fini(&m->a);
	free(m);
	return 0;
}

static void free_all_and_check_recovered(struct model *m)
{
	while (m->nlive > 0)
		do_free(m, (size_t)(next_rand(m) % m->nlive));
	assert_int_equal(m->a.used, 0);
	assert_int_equal(arena_largest(&m->a), MANAGED);
	check_largest(m);
	assert_int_equal(do_alloc(m, MANAGED), 0);
	do_free(m, 0);
}

/* Sizes from empty to larger than the arena, weighted to small ones. */
static uint64_t random_size(struct model *m)
{
	uint64_t r = next_rand(m);

	switch (r % 16) {
	case 0:
		return 0;
	case 1:
		return (r >> 8) % (SIZE + 4096);
	case 2: case 3:
		return (r >> 8) % (64u << 10);
	default:
		return (r >> 8) % 2048;
	}
}

static void random_run(struct model *m, uint64_t seed, int steps)
{
	m->rng = seed;
	for (int i = 0; i < steps; i++) {
		uint64_t r = next_rand(m);
		bool grow = m->nlive == 0 || (m->nlive < MAX_LIVE && r % 100 < 55);

		if (grow)
			do_alloc(m, random_size(m));
		else
			do_free(m, (size_t)((r >> 8) % m->nlive));
		if (i % 64 == 0)
			check_largest(m);
	}
	check_largest(m);
	free_all_and_check_recovered(m);
}

static void test_random_against_model(void **state)
{
	random_run(*state, 0x243f6a8885a308d3ull, 20000);
	random_run(*state, 0x13198a2e03707344ull, 20000);
}

/* The shim's pattern: a few blocks at a time, LIFO and FIFO. */
static void test_lifo_fifo_patterns(void **state)
{
	struct model *m = *state;

	for (int i = 0; i < 2000; i++) {
		do_alloc(m, (uint64_t)(i * 37) % 5000);
		do_alloc(m, (uint64_t)(i * 91) % 3000);
		if (i % 2)
			do_free(m, 1); /* LIFO: the newer first */
		do_free(m, 0);
		if (m->nlive)
			do_free(m, 0);
		assert_int_equal(m->nlive, 0);
		assert_int_equal(arena_largest(&m->a), MANAGED);
	}
}

static void test_exhaustion(void **state)
{
	struct model *m = *state;
	uint64_t count = 0;

	/* MAX_LIVE bounds the model, so use blocks big enough to fill it. */
	uint64_t n = MANAGED / (MAX_LIVE - 1) / LINE * LINE + 1;
	while (do_alloc(m, n) != ARENA_NONE)
		count++;
	uint64_t len = extent(n);
	assert_int_equal(count, MANAGED / len);
	uint64_t tail = MANAGED - count * len;
	assert_int_equal(arena_largest(&m->a), tail);
	/* Fill the tail with empty blocks until nothing at all is left. */
	while (arena_largest(&m->a) > 0)
		assert_int_not_equal(do_alloc(m, 0), ARENA_NONE);
	assert_int_equal(do_alloc(m, 0), ARENA_NONE);
	assert_int_equal(do_alloc(m, 1), ARENA_NONE);
	assert_int_equal(m->a.used, MANAGED);
	/* One freed block in the middle is the only place left. */
	uint64_t off = m->live[3].off;
	do_free(m, 3);
	assert_int_equal(do_alloc(m, len + 1), ARENA_NONE);
	assert_int_equal(do_alloc(m, len), off);
	free_all_and_check_recovered(m);
}

static void test_zero_size_distinct(void **state)
{
	struct model *m = *state;

	/* do_alloc checks each against the byte map: distinct, aligned. */
	for (int i = 0; i < 300; i++)
		assert_int_not_equal(do_alloc(m, 0), ARENA_NONE);
	assert_int_equal(m->a.used, 300 * LINE);
	free_all_and_check_recovered(m);
}

static void test_coalescing(void **state)
{
	struct model *m = *state;

	for (int i = 0; i < 5; i++)
		do_alloc(m, 1000);
	/* live[] is swap-removed, so free by offset order explicitly. */
	uint64_t offs[5];
	for (int i = 0; i < 5; i++)
		offs[i] = m->live[i].off;
	arena_free(&m->a, offs[1], 1000);
	arena_free(&m->a, offs[3], 1000);
	assert_int_equal(arena_largest(&m->a), MANAGED - 5 * extent(1000));
	arena_free(&m->a, offs[2], 1000); /* joins both neighbours */
	assert_int_equal(arena_largest(&m->a), MANAGED - 5 * extent(1000));
	assert_int_equal(arena_alloc(&m->a, 3 * extent(1000)), offs[1]);
	arena_free(&m->a, offs[1], 3 * extent(1000));
	arena_free(&m->a, offs[0], 1000);
	arena_free(&m->a, offs[4], 1000); /* joins the tail and the front */
	assert_int_equal(arena_largest(&m->a), MANAGED);
	assert_int_equal(m->a.used, 0);
	m->nlive = 0;
	m->used = 0;
	memset(m->map, 0, sizeof(m->map));
}

static void test_tiny_and_huge(void **state)
{
	struct model *m = *state;
	struct arena a;

	assert_int_equal(arena_init(&a, LINE - 1), 0);
	assert_int_equal(arena_alloc(&a, 0), ARENA_NONE);
	assert_int_equal(arena_largest(&a), 0);
	arena_fini(&a);

	assert_int_equal(arena_init(&a, LINE), 0);
	assert_int_equal(arena_alloc(&a, 0), 0);
	assert_int_equal(arena_alloc(&a, 0), ARENA_NONE);
	arena_free(&a, 0, 0);
	assert_int_equal(arena_alloc(&a, LINE), 0);
	arena_fini(&a);

	assert_int_equal(do_alloc(m, UINT64_MAX), ARENA_NONE);
	assert_int_equal(do_alloc(m, UINT64_MAX - LINE + 2), ARENA_NONE);
	assert_int_equal(do_alloc(m, SIZE), ARENA_NONE);
	assert_int_equal(m->a.used, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_random_against_model),
		T(test_lifo_fifo_patterns),
		T(test_exhaustion),
		T(test_zero_size_distinct),
		T(test_coalescing),
		T(test_tiny_and_huge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
