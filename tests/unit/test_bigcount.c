/*
 * test_bigcount.c - unit tests of the chunking behind the large-count
 * calls (shim_bigc_split, shim/bigcount.c).
 *
 * A count beyond INT_MAX becomes nchunks chunks of SHIM_BIGC_CHUNK
 * elements and a rest placed rest_disp bytes in.  Checked against 128-bit
 * arithmetic, which cannot overflow on these inputs: the pieces add up
 * to the count, each fits the int an MPI constructor takes, the rest
 * starts where the chunks end, and every input whose pieces or
 * displacement do not fit is refused with MPI_ERR_COUNT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>

#include <cmocka.h>

#include "shim/shim.h"

/* What shim_bigc_split must answer for (count, extent), by the model. */
static void check_split(int64_t count, int64_t extent)
{
	struct shim_bigc_split s = { -1, -1, -1 };
	int err = shim_bigc_split(count, extent, &s);
	__int128 q = count / ((__int128)1 << 30);
	__int128 disp = q * ((__int128)1 << 30) * extent;
	int ok = count >= 0 && q <= INT_MAX && disp >= INT64_MIN && disp <= INT64_MAX;

	assert_int_equal(err, ok ? MPI_SUCCESS : MPI_ERR_COUNT);
	if (!ok)
		return;
	assert_true(s.nchunks >= 0);
	assert_true(s.rest >= 0 && s.rest < SHIM_BIGC_CHUNK);
	assert_true((__int128)s.nchunks * SHIM_BIGC_CHUNK + s.rest == count);
	assert_true((__int128)s.rest_disp == (__int128)s.nchunks * SHIM_BIGC_CHUNK * extent);
}

static void test_counts(void **state)
{
	static const int64_t counts[] = {
		0, 1, (1 << 30) - 1, 1 << 30, (1 << 30) + 1, INT_MAX, (int64_t)INT_MAX + 1,
		((int64_t)1 << 31) + 5, ((int64_t)1 << 32) * 3 + 7, ((int64_t)1 << 61) - 1,
		(int64_t)1 << 61, INT64_MAX, -1, INT64_MIN,
	};
	static const int64_t extents[] = { 0, 1, 4, 16, -8, 1 << 20, INT64_MAX };

	(void)state;
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		for (size_t j = 0; j < sizeof(extents) / sizeof(extents[0]); j++)
			check_split(counts[i], extents[j]);
}

/* The cases the model covers, spelled out: the test of the MPICH suite
 * (5 GB of chars) and the limits of the chunk count. */
static void test_known(void **state)
{
	struct shim_bigc_split s;

	(void)state;
	assert_int_equal(shim_bigc_split(((int64_t)1 << 31) + 5, 1, &s), MPI_SUCCESS);
	assert_int_equal(s.nchunks, 2);
	assert_int_equal(s.rest, 5);
	assert_int_equal(s.rest_disp, (int64_t)1 << 31);
	assert_int_equal(shim_bigc_split(((int64_t)1 << 61) - 1, 1, &s), MPI_SUCCESS);
	assert_int_equal(s.nchunks, INT_MAX);
	assert_int_equal(shim_bigc_split((int64_t)1 << 61, 1, &s), MPI_ERR_COUNT);
	assert_int_equal(shim_bigc_split(-1, 1, &s), MPI_ERR_COUNT);
	/* 2^31 - 1 chunks of 2^30 elements: of 4 bytes just below 2^63
	 * bytes, of 8 bytes beyond */
	assert_int_equal(shim_bigc_split(((int64_t)1 << 61) - 1, 4, &s), MPI_SUCCESS);
	assert_int_equal(shim_bigc_split(((int64_t)1 << 61) - 1, 8, &s), MPI_ERR_COUNT);
}

/* Pseudo-random counts and extents over the whole range. */
static void test_random(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	(void)state;
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int64_t count = (int64_t)(x >> (x % 40));
		int64_t extent = (int64_t)(x % 4096) - 1024;
		check_split(count, extent);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_known),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
