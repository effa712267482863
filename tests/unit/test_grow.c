/*
 * test_grow.c - unit tests of util/grow.c: the doubling policy, an array
 * that already fits left alone, contents kept, and every failure (a byte
 * count that overflows, a count that would wrap, realloc failing)
 * leaving the caller's pointer and capacity as they were.
 *
 * Built with ASan: after each growth the test writes every element the
 * capacity claims, so a capacity larger than the block is caught.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/grow.h"

/* A realloc that counts its calls, remembers the size asked and fails
 * when told to, as a failing malloc would (errno ENOMEM). */
static int calls;
static size_t asked;
static int fail_next;

static void *counting_realloc(void *p, size_t n)
{
	calls++;
	asked = n;
	if (fail_next) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n);
}

static int setup(void **state)
{
	(void)state;
	calls = 0;
	asked = 0;
	fail_next = 0;
	return 0;
}

static void fill(int *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		a[i] = (int)(i * 7 + 1);
}

static void check(const int *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(a[i], (int)(i * 7 + 1));
}

static void test_first_room(void **state)
{
	int *a = NULL;
	size_t cap = 0;

	(void)state;
	assert_int_equal(dm_grow((void **)&a, &cap, 1, sizeof(*a)), 0);
	assert_non_null(a);
	assert_int_equal(cap, DM_GROW_FIRST);
	fill(a, cap);
	free(a);
}

static void test_doubles(void **state)
{
	int *a = NULL;
	size_t cap = 0;

	(void)state;
	assert_int_equal(dm_grow_by(counting_realloc, (void **)&a, &cap, 1, sizeof(*a)), 0);
	assert_int_equal(dm_grow_by(counting_realloc, (void **)&a, &cap, DM_GROW_FIRST + 1,
				    sizeof(*a)), 0);
	assert_int_equal(cap, 2 * DM_GROW_FIRST);
	assert_int_equal(asked, 2 * DM_GROW_FIRST * sizeof(*a));
	/* Far past the capacity: doubled as often as it takes, in one call. */
	assert_int_equal(dm_grow_by(counting_realloc, (void **)&a, &cap, 1000, sizeof(*a)), 0);
	assert_int_equal(cap, 1024);
	assert_int_equal(calls, 3);
	fill(a, cap);
	free(a);
}

static void test_exact_fit_left_alone(void **state)
{
	int *a = NULL, *was;
	size_t cap = 0;

	(void)state;
	assert_int_equal(dm_grow_by(counting_realloc, (void **)&a, &cap, 5, sizeof(*a)), 0);
	was = a;
	for (size_t need = 0; need <= cap; need++)
		assert_int_equal(dm_grow_by(counting_realloc, (void **)&a, &cap, need,
					    sizeof(*a)), 0);
	assert_int_equal(calls, 1);
	assert_ptr_equal(a, was);
	assert_int_equal(cap, DM_GROW_FIRST);
	free(a);
}

static void test_contents_kept(void **state)
{
	int *a = NULL;
	size_t cap = 0, n = 0;

	(void)state;
	/* Append one at a time, as the call sites do. */
	for (int i = 0; i < 5000; i++) {
		assert_int_equal(dm_grow((void **)&a, &cap, n + 1, sizeof(*a)), 0);
		assert_true(cap >= n + 1);
		a[n++] = (int)((size_t)i * 7 + 1);
	}
	check(a, n);
	assert_int_equal(cap, 8192);
	free(a);
}

static void test_overflow_refused(void **state)
{
	int *a = NULL, *was;
	size_t cap = 0;

	(void)state;
	assert_int_equal(dm_grow((void **)&a, &cap, 3, sizeof(*a)), 0);
	fill(a, 3);
	was = a;
	errno = 0;
	/* SIZE_MAX / 2 ints are more bytes than size_t counts. */
	assert_int_equal(dm_grow_by(counting_realloc, (void **)&a, &cap, SIZE_MAX / 2,
				    sizeof(*a)), -1);
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(calls, 0);
	assert_ptr_equal(a, was);
	assert_int_equal(cap, DM_GROW_FIRST);
	check(a, 3);
	free(a);
}

static void test_count_does_not_wrap(void **state)
{
	unsigned char *a = NULL;
	size_t cap = SIZE_MAX / 2 + 1;

	(void)state;
	/* Doubling 2^63 bytes wraps to 0: exactly what is asked instead. */
	fail_next = 1;
	assert_int_equal(dm_grow_by(counting_realloc, (void **)&a, &cap, SIZE_MAX, 1), -1);
	assert_int_equal(calls, 1);
	assert_true(asked == SIZE_MAX);
	assert_true(cap == SIZE_MAX / 2 + 1);
	assert_null(a);
}

static void test_failure_leaves_old(void **state)
{
	int *a = NULL, *was;
	size_t cap = 0;

	(void)state;
	assert_int_equal(dm_grow((void **)&a, &cap, DM_GROW_FIRST, sizeof(*a)), 0);
	fill(a, cap);
	was = a;
	fail_next = 1;
	errno = 0;
	assert_int_equal(dm_grow_by(counting_realloc, (void **)&a, &cap, DM_GROW_FIRST + 1,
				    sizeof(*a)), -1);
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(calls, 1);
	assert_ptr_equal(a, was);
	assert_int_equal(cap, DM_GROW_FIRST);
	check(a, cap);
	/* And the next attempt, with memory again, grows it. */
	fail_next = 0;
	assert_int_equal(dm_grow_by(counting_realloc, (void **)&a, &cap, DM_GROW_FIRST + 1,
				    sizeof(*a)), 0);
	assert_int_equal(cap, 2 * DM_GROW_FIRST);
	check(a, DM_GROW_FIRST);
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_first_room, setup),
		cmocka_unit_test_setup(test_doubles, setup),
		cmocka_unit_test_setup(test_exact_fit_left_alone, setup),
		cmocka_unit_test_setup(test_contents_kept, setup),
		cmocka_unit_test_setup(test_overflow_refused, setup),
		cmocka_unit_test_setup(test_count_does_not_wrap, setup),
		cmocka_unit_test_setup(test_failure_leaves_old, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
