/*
 * test_handle.c - virtual handle tables (shim/handle.c) against a model.
 *
 * The model is a plain array of which objects are live under which
 * handle; a fixed-seed random script of allocations and frees must keep
 * the table and the model in agreement, handles must stay outside the
 * ABI's predefined range and fit an int, and kinds must not mix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "shim/shim.h"

#define N 2000

static void test_values(void **state)
{
	int obj;

	(void)state;
	uintptr_t h = shim_handle_new(SHIM_K_OP, &obj);
	assert_true(h >= SHIM_HANDLE_BASE);
	assert_true(h <= INT32_MAX);
	assert_int_equal(SHIM_H_KIND(h), SHIM_K_OP);
	assert_ptr_equal(shim_handle_get(SHIM_K_OP, h), &obj);
	/* The same index under another kind is not a handle. */
	assert_null(shim_handle_get(SHIM_K_INFO, SHIM_H_MAKE(SHIM_K_INFO, SHIM_H_INDEX(h))));
	assert_null(shim_handle_get(SHIM_K_OP, 0));
	assert_null(shim_handle_get(SHIM_K_OP, 0x101));
	assert_null(shim_handle_get(SHIM_K_OP, (uintptr_t)1 << 40));
	shim_handle_free(SHIM_K_OP, h);
	assert_null(shim_handle_get(SHIM_K_OP, h));
	shim_handle_free(SHIM_K_OP, h); /* a second free is ignored */
}

static void count_live(uintptr_t h, void *obj, void *arg)
{
	(void)h;
	(void)obj;
	++*(int *)arg;
}

static void test_model(void **state)
{
	static int objs[N];
	uintptr_t handle[N] = { 0 };
	int live = 0;

	(void)state;
	srand(12345);
	for (int step = 0; step < 20 * N; step++) {
		int i = rand() % N;
		if (handle[i]) {
			shim_handle_free(SHIM_K_MESSAGE, handle[i]);
			assert_null(shim_handle_get(SHIM_K_MESSAGE, handle[i]));
			handle[i] = 0;
			live--;
		} else {
			handle[i] = shim_handle_new(SHIM_K_MESSAGE, &objs[i]);
			assert_true(handle[i] != 0);
			live++;
		}
		if (step % 997 == 0)
			for (int j = 0; j < N; j++)
				if (handle[j])
					assert_ptr_equal(shim_handle_get(SHIM_K_MESSAGE, handle[j]), &objs[j]);
	}
	/* No two live objects share a handle, and iteration sees exactly the live ones. */
	for (int j = 0; j < N; j++)
		for (int k = j + 1; handle[j] && k < N; k++)
			assert_true(handle[j] != handle[k] || !handle[k]);
	int seen = 0;
	shim_handle_each(SHIM_K_MESSAGE, count_live, &seen);
	assert_int_equal(seen, live);
	/* Indices are reused: the table never grew past what was live at once. */
	uintptr_t h = shim_handle_new(SHIM_K_MESSAGE, &objs[0]);
	assert_true(SHIM_H_INDEX(h) <= N);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
