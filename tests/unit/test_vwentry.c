/*
 * test_vwentry.c - unit tests of the choice each block of a large-count
 * v/w collective makes (shim_vw_entry, shim/vwbig.c): as it is, or as a
 * type made for it.
 *
 * A block the int Alltoallw takes as it is must have an int count and an
 * int byte displacement, or the channel truncates it; a block that fits
 * must not pay for a made type; a displacement whose bytes overflow 64
 * bits must be refused, never wrapped.  Each case is compared with the
 * same rule computed here in 128-bit arithmetic, on a grid around the
 * limits (INT_MAX, and the lowered test limits).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <limits.h>

#include <cmocka.h>

#include "shim/shim.h"

/* The rule, independently: -1 overflow, 1 beyond the limit, 0 as it is. */
static int expected(int64_t count, int64_t disp, int64_t unit, int64_t limit)
{
	__int128 bytes = (__int128)disp * unit;

	if (bytes > INT64_MAX || bytes < INT64_MIN)
		return -1;
	return count > limit || bytes > limit || bytes < -limit;
}

static void check_grid(int64_t limit)
{
	const int64_t counts[] = { 0, 1, 7, limit - 1, limit, limit + 1,
				   (int64_t)INT_MAX + 1, INT64_MAX };
	const int64_t disps[] = { 0, 1, -1, 3, limit / 8, limit / 8 + 1, -(limit / 8) - 1,
				  limit, -limit, (int64_t)INT_MAX + 1, INT64_MAX / 2,
				  INT64_MIN / 2, INT64_MAX };
	const int64_t units[] = { 1, 4, 8, 12, -8 };

	for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
		for (size_t d = 0; d < sizeof disps / sizeof disps[0]; d++)
			for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
				int64_t bytes = -12345;
				int got = shim_vw_entry(counts[c], disps[d], units[u], limit,
							&bytes);
				assert_int_equal(got, expected(counts[c], disps[d], units[u],
								limit));
				if (got >= 0)
					assert_true(bytes == disps[d] * units[u]);
				/* As it is: what the int call carries is exact. */
				if (got == 0 && limit <= INT_MAX)
					assert_true(counts[c] <= INT_MAX && bytes <= INT_MAX &&
						    bytes >= -INT_MAX);
			}
}

static void test_real_limit(void **state)
{
	(void)state;
	check_grid(INT_MAX);
	int64_t bytes;
	/* Elements 2^28 of 8 bytes: 2^31 bytes, one past INT_MAX. */
	assert_int_equal(shim_vw_entry(1, (int64_t)1 << 28, 8, INT_MAX, &bytes), 1);
	assert_int_equal(shim_vw_entry(1, ((int64_t)1 << 28) - 1, 8, INT_MAX, &bytes), 0);
	assert_int_equal(shim_vw_entry((int64_t)INT_MAX + 1, 0, 4, INT_MAX, &bytes), 1);
	assert_int_equal(shim_vw_entry(INT_MAX, 0, 4, INT_MAX, &bytes), 0);
}

static void test_lowered_limits(void **state)
{
	(void)state;
	check_grid(1);
	check_grid(100);
	check_grid(1000003);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_limit),
		cmocka_unit_test(test_lowered_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
