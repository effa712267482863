/*
 * test_log.c - unit tests of util/log.c: which values of
 * DMTCP_MPI_VERBOSE turn the verbose messages on.
 *
 * The launcher, the proxy and the shim all ask dm_verbose, so these are
 * the values every component takes: unset, empty and "0" are off; any
 * other value is on ("1", as the tests set it, but also "2" or "yes").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "util/log.h"

static void with(const char *value)
{
	if (value)
		assert_int_equal(setenv("DMTCP_MPI_VERBOSE", value, 1), 0);
	else
		assert_int_equal(unsetenv("DMTCP_MPI_VERBOSE"), 0);
}

static void test_off(void **state)
{
	(void)state;
	with(NULL);
	assert_false(dm_verbose());
	with("");
	assert_false(dm_verbose());
	with("0");
	assert_false(dm_verbose());
}

static void test_on(void **state)
{
	(void)state;
	with("1");
	assert_true(dm_verbose());
	with("2");
	assert_true(dm_verbose());
	with("yes");
	assert_true(dm_verbose());
	/* Only "0" itself is off, not every value that starts with it. */
	with("00");
	assert_true(dm_verbose());
}

/* Read at every call: a change is seen at once. */
static void test_follows_the_environment(void **state)
{
	(void)state;
	with("1");
	assert_true(dm_verbose());
	with(NULL);
	assert_false(dm_verbose());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off),
		cmocka_unit_test(test_on),
		cmocka_unit_test(test_follows_the_environment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
