/*
 * test_maps.c - the /proc/self/maps parser (ckpt/maps.c): field values,
 * names with spaces and " (deleted)", anonymous lines, malformed lines,
 * the entry limit; and reading the real file into a small buffer.
 */
#include "ckpt/maps.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

static long parse(const char *text, struct ck_map *out, size_t max)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s", text);
	return ck_maps_parse(buf, strlen(buf), out, max);
}

static void fields(void **state)
{
	struct ck_map m[4];
	(void)state;

	long n = parse("55d0c0a00000-55d0c0a02000 r-xp 00001000 fd:01 1234567"
		       "                   /usr/bin/my prog (deleted)\n"
		       "7ffd1000-7ffd2000 rw-s 00000000 00:00 0 \n"
		       "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0"
		       "                  [vsyscall]\n", m, 4);
	assert_int_equal(n, 3);
	assert_int_equal(m[0].start, 0x55d0c0a00000ULL);
	assert_int_equal(m[0].end, 0x55d0c0a02000ULL);
	assert_int_equal(m[0].prot, PROT_READ | PROT_EXEC);
	assert_int_equal(m[0].shared, 0);
	assert_int_equal(m[0].offset, 0x1000);
	assert_int_equal(m[0].dev_major, 0xfd);
	assert_int_equal(m[0].dev_minor, 1);
	assert_int_equal(m[0].inode, 1234567);
	assert_string_equal(m[0].name, "/usr/bin/my prog (deleted)");
	assert_int_equal(m[1].prot, PROT_READ | PROT_WRITE);
	assert_int_equal(m[1].shared, 1);
	assert_string_equal(m[1].name, "");
	assert_int_equal(m[2].prot, PROT_EXEC);
	assert_string_equal(m[2].name, "[vsyscall]");
}

static void malformed(void **state)
{
	struct ck_map m[4];
	(void)state;

	static const char *const bad[] = {
		"1000-2000 rw-p 0 00:00 0",            /* no newline */
		"2000-1000 rw-p 0 00:00 0\n",          /* start > end */
		"1000-1000 rw-p 0 00:00 0\n",          /* empty */
		"1000 2000 rw-p 0 00:00 0\n",          /* no dash */
		"1000-2000 rw-x 0 00:00 0\n",          /* neither s nor p */
		"1000-2000 rw-p 0 0000 0\n",           /* no colon */
		"1000-2000 rw-p 0 00:00\n",            /* no inode */
		"g000-2000 rw-p 0 00:00 0\n",          /* not hex */
		"10000000000000000-2 rw-p 0 00:00 0\n",/* overflow */
		"1000-2000 rw\n",                      /* cut short */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], m, 4), -1);
	assert_int_equal(parse("", m, 4), 0);
}

static void limit(void **state)
{
	struct ck_map m[2];
	(void)state;

	assert_int_equal(parse("1000-2000 rw-p 0 00:00 0\n"
			       "3000-4000 rw-p 0 00:00 0\n"
			       "5000-6000 rw-p 0 00:00 0\n", m, 2), -2);
	assert_int_equal(parse("1000-2000 rw-p 0 00:00 0\n"
			       "3000-4000 rw-p 0 00:00 0\n", m, 2), 2);
}

static void real_file(void **state)
{
	size_t cap = 1 << 20;
	char *buf = malloc(cap);
	struct ck_map *m = malloc(4096 * sizeof(*m));
	uint64_t here = (uint64_t)(uintptr_t)&here;
	int found = 0;
	(void)state;

	assert_int_equal(ck_maps_read(buf, 16), -7);   /* E2BIG */
	long len = ck_maps_read(buf, cap);
	assert_true(len > 0);
	long n = ck_maps_parse(buf, (size_t)len, m, 4096);
	assert_true(n > 3);
	for (long i = 0; i < n; i++) {
		if (i)
			assert_true(m[i].start >= m[i - 1].end);
		found |= m[i].start <= here && here < m[i].end &&
			 (m[i].prot & PROT_WRITE);
	}
	assert_true(found);   /* our own stack is a writable mapping */
	free(buf);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fields),
		cmocka_unit_test(malformed),
		cmocka_unit_test(limit),
		cmocka_unit_test(real_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
