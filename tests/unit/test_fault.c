/*
 * test_fault.c - unit tests of util/fault.c: which values of
 * DMTCP_MPI_FAULT arm which points.
 *
 * One name, as every test script sets it, arms that point alone; a
 * comma-separated list arms each of its items; an item arms only the
 * point it spells out whole (no prefix, no suffix, no empty name).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "util/fault.h"

static void with(const char *value)
{
	if (value)
		assert_int_equal(setenv("DMTCP_MPI_FAULT", value, 1), 0);
	else
		assert_int_equal(unsetenv("DMTCP_MPI_FAULT"), 0);
}

static void test_unset_or_empty(void **state)
{
	(void)state;
	with(NULL);
	assert_false(dm_fault("ckpt-kill"));
	with("");
	assert_false(dm_fault("ckpt-kill"));
	assert_false(dm_fault(""));
}

static void test_one_name(void **state)
{
	(void)state;
	with("drain-late");
	assert_true(dm_fault("drain-late"));
	assert_false(dm_fault("ssend-unseen"));
}

static void test_list(void **state)
{
	(void)state;
	with("restart-no-brk,restart-stream,park-fail");
	assert_true(dm_fault("restart-no-brk"));
	assert_true(dm_fault("restart-stream"));
	assert_true(dm_fault("park-fail"));
	assert_false(dm_fault("restart-file"));
	with("ckpt-kill,");
	assert_true(dm_fault("ckpt-kill"));
	assert_false(dm_fault(""));
	with(",,ckpt-kill");
	assert_true(dm_fault("ckpt-kill"));
}

static void test_whole_items_only(void **state)
{
	(void)state;
	with("ckpt-kill,restart-stream");
	assert_false(dm_fault("ckpt"));
	assert_false(dm_fault("kill"));
	assert_false(dm_fault("ckpt-kill,restart-stream"));
	assert_false(dm_fault("restart-streams"));
	assert_false(dm_fault("ckpt-kil"));
	with("ctor-late-x");
	assert_false(dm_fault("ctor-late"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unset_or_empty),
		cmocka_unit_test(test_one_name),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_whole_items_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
