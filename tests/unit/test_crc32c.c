/*
 * test_crc32c.c - unit tests of util/crc32c.c against a model that is
 * obviously right: the CRC-32C definition, one bit at a time.
 *
 * The published check value pins the polynomial and the conventions;
 * random buffers of every length up to a few words, at every alignment,
 * and in pieces, cover the word loop, the byte tail and continuation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/crc32c.h"

static uint32_t bitwise(uint32_t crc, const unsigned char *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
	}
	return ~crc;
}

static void fill(unsigned char *buf, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		buf[i] = (unsigned char)(seed >> 56);
	}
}

static void test_check_value(void **state)
{
	(void)state;
	/* RFC 3720, B.4, and the usual CRC catalogues. */
	assert_int_equal(dm_crc32c(0, "123456789", 9), 0xe3069283u);
	assert_int_equal(dm_crc32c(0, "", 0), 0);
}

static void test_lengths_and_alignments(void **state)
{
	unsigned char buf[64 + 8];

	(void)state;
	fill(buf, sizeof(buf), 1);
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; n <= 64; n++)
			assert_int_equal(dm_crc32c(0, buf + off, n),
					 bitwise(0, buf + off, n));
}

static void test_pieces_continue(void **state)
{
	size_t n = (1u << 20) + 13;
	unsigned char *buf = malloc(n);

	(void)state;
	assert_non_null(buf);
	fill(buf, n, 7);
	uint32_t whole = bitwise(0, buf, n);
	assert_int_equal(dm_crc32c(0, buf, n), whole);
	uint32_t c = 0;
	for (size_t at = 0, step = 1; at < n; at += step, step = step * 3 + 1) {
		size_t len = at + step > n ? n - at : step;
		c = dm_crc32c(c, buf + at, len);
	}
	assert_int_equal(c, whole);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_value),
		cmocka_unit_test(test_lengths_and_alignments),
		cmocka_unit_test(test_pieces_continue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
