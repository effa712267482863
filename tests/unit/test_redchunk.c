/*
 * test_redchunk.c - unit tests of the chunks a large-count reduction is
 * cut into (shim_redc_*, shim/redbig.c), and of the test knob that
 * lowers their size.
 *
 * A reduction is only exact in chunks if the chunks cover every element
 * once, in order, each an int count the channel carries: so for each
 * (count, limit) the chunks are walked and compared with a bitmap of
 * the elements seen (small counts) or with running sums (counts beyond
 * INT_MAX, where a bitmap would not fit), and every length must lie in
 * [1, limit].
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <limits.h>

#include <cmocka.h>

#include "shim/shim.h"

/* Walk the chunks of count elements at limit: contiguous from 0 to count,
 * each within [1, limit]. */
static void check_cover(int64_t count, int64_t limit)
{
	int64_t n = shim_redc_nchunks(count, limit), next = 0, first;

	for (int64_t k = 0; k < n; k++) {
		int len = shim_redc_chunk(count, limit, k, &first);
		assert_true(first == next);
		assert_true(len >= 1 && len <= limit);
		next = first + len;
	}
	assert_true(next == (count > 0 ? count : 0));
}

/* Small counts: every element seen exactly once. */
static void test_small_counts(void **state)
{
	(void)state;
	for (int64_t limit = 1; limit <= 9; limit++) {
		for (int64_t count = 0; count <= 50; count++) {
			unsigned char seen[50] = { 0 };
			int64_t first;
			for (int64_t k = 0; k < shim_redc_nchunks(count, limit); k++) {
				int len = shim_redc_chunk(count, limit, k, &first);
				for (int i = 0; i < len; i++)
					seen[first + i]++;
			}
			for (int64_t i = 0; i < 50; i++)
				assert_int_equal(seen[i], i < count ? 1 : 0);
			check_cover(count, limit);
		}
	}
}

/* Beyond INT_MAX, at the real limit and at odd ones. */
static void test_large_counts(void **state)
{
	static const int64_t counts[] = {
		(int64_t)INT_MAX + 1, (int64_t)INT_MAX * 2, (int64_t)INT_MAX * 2 + 1,
		(int64_t)1 << 33, ((int64_t)1 << 40) + 12345,
	};
	static const int64_t limits[] = { INT_MAX, INT_MAX - 1, 1 << 30, 1000003 };

	(void)state;
	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
		for (size_t j = 0; j < sizeof limits / sizeof limits[0]; j++)
			if (counts[i] / limits[j] < 5000000) /* keep the walk short */
				check_cover(counts[i], limits[j]);
	/* At INT_MAX: 2^31 elements are two chunks, the second of one. */
	int64_t first;
	assert_true(shim_redc_nchunks((int64_t)INT_MAX + 1, INT_MAX) == 2);
	assert_int_equal(shim_redc_chunk((int64_t)INT_MAX + 1, INT_MAX, 1, &first), 1);
	assert_true(first == INT_MAX);
}

/* The knob: a number from 1 to INT_MAX, anything else is INT_MAX. */
static void test_limit_knob(void **state)
{
	(void)state;
	assert_true(shim_redc_limit_of(NULL) == INT_MAX);
	assert_true(shim_redc_limit_of("") == INT_MAX);
	assert_true(shim_redc_limit_of("0") == INT_MAX);
	assert_true(shim_redc_limit_of("-5") == INT_MAX);
	assert_true(shim_redc_limit_of("12x") == INT_MAX);
	assert_true(shim_redc_limit_of("4294967296") == INT_MAX);
	assert_true(shim_redc_limit_of("1") == 1);
	assert_true(shim_redc_limit_of("1000") == 1000);
	assert_true(shim_redc_limit_of("2147483647") == INT_MAX);
	unsetenv("DMTCP_MPI_TEST_REDUCE_CHUNK");
	shim_redc_limit_init();
	assert_true(shim_redc_limit() == INT_MAX);
	setenv("DMTCP_MPI_TEST_REDUCE_CHUNK", "777", 1);
	shim_redc_limit_init();
	assert_true(shim_redc_limit() == 777);
	/* Read at MPI_Init only: a restart's environment may lack it. */
	unsetenv("DMTCP_MPI_TEST_REDUCE_CHUNK");
	assert_true(shim_redc_limit() == 777);
	shim_redc_limit_init();
	assert_true(shim_redc_limit() == INT_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_counts),
		cmocka_unit_test(test_large_counts),
		cmocka_unit_test(test_limit_knob),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
