/*
 * test_dims.c - unit tests of MPI_Dims_create's arithmetic (shim/dims.c).
 *
 * The BALANCED rule is checked against a model that is obviously right:
 * enumerate every non-increasing factorisation of the free product by
 * brute force and keep the best by the rule's ordering (largest -
 * smallest, then the larger sequence compared from its end).  The
 * GREEDY rule is checked for what any answer must satisfy (product,
 * non-increasing free entries, fixed entries untouched).  Both are
 * checked against answers recorded from native runs of MPICH 4.0.2
 * (BALANCED) and Open MPI 4.1.4 (GREEDY), including the inputs where the
 * two MPIs differ, and the error cases.  Large inputs must be quick.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "shim/shim.h"

/* ------------------------------------------------------------ model */

struct best {
	int k;
	int cur[8], win[8];
	int found;
};

static int model_better(const struct best *b)
{
	int bal = b->cur[0] - b->cur[b->k - 1], wbal = b->win[0] - b->win[b->k - 1];

	if (!b->found)
		return 1;
	if (bal != wbal)
		return bal < wbal;
	for (int i = b->k - 1; i >= 0; i--)
		if (b->cur[i] != b->win[i])
			return b->cur[i] > b->win[i];
	return 0;
}

/* Every factor i..k-1 of r that is at most max: all of them. */
static void model_walk(struct best *b, int i, int r, int max)
{
	if (i == b->k - 1) {
		if (r > max)
			return;
		b->cur[i] = r;
		if (model_better(b)) {
			memcpy(b->win, b->cur, sizeof(b->win));
			b->found = 1;
		}
		return;
	}
	for (int d = 1; d <= max && d <= r; d++)
		if (r % d == 0) {
			b->cur[i] = d;
			model_walk(b, i + 1, r / d, d);
		}
}

static void model(int n, int k, int *out)
{
	struct best b = { .k = k };

	model_walk(&b, 0, n, n);
	memcpy(out, b.win, (size_t)k * sizeof(int));
}

/* ------------------------------------------------------------ tests */

static void fill(int n, int k, enum shim_dims_rule rule, int *dims)
{
	memset(dims, 0, (size_t)k * sizeof(int));
	assert_int_equal(shim_dims_fill(n, k, dims, rule), MPI_SUCCESS);
}

static void test_balanced_model(void **state)
{
	int got[8], want[8];

	(void)state;
	for (int k = 1; k <= 5; k++)
		for (int n = 1; n <= (k <= 3 ? 600 : 200); n++) {
			fill(n, k, SHIM_DIMS_BALANCED, got);
			model(n, k, want);
			for (int i = 0; i < k; i++)
				if (got[i] != want[i])
					fail_msg("n %d k %d: dims[%d] = %d, model %d", n, k, i, got[i],
						 want[i]);
		}
}

static void test_greedy_shape(void **state)
{
	int d[8];

	(void)state;
	for (int k = 1; k <= 5; k++)
		for (int n = 1; n <= 600; n++) {
			fill(n, k, SHIM_DIMS_GREEDY, d);
			long prod = 1;
			for (int i = 0; i < k; i++) {
				prod *= d[i];
				if (i)
					assert_true(d[i] <= d[i - 1]);
			}
			assert_int_equal(prod, n);
		}
}

struct native {
	int n, k;
	int mpich[5], ompi[5];
};

/* Recorded from mpirun -n 1 of MPI_Dims_create natively. */
static const struct native natives[] = {
	{ 72, 2, { 9, 8 }, { 12, 6 } },
	{ 180, 2, { 15, 12 }, { 18, 10 } },
	{ 240, 2, { 16, 15 }, { 20, 12 } },
	{ 336, 2, { 21, 16 }, { 24, 14 } },
	{ 360, 3, { 10, 6, 6 }, { 10, 6, 6 } },
	{ 2160, 4, { 10, 6, 6, 6 }, { 10, 6, 6, 6 } },
	{ 76, 4, { 19, 2, 2, 1 }, { 19, 2, 2, 1 } },
	{ 16, 3, { 4, 2, 2 }, { 4, 2, 2 } },
	{ 98784, 5, { 14, 14, 9, 8, 7 }, { 14, 12, 12, 7, 7 } },
	{ 7, 3, { 7, 1, 1 }, { 7, 1, 1 } },
};

static void test_natives(void **state)
{
	int d[5];

	(void)state;
	for (size_t i = 0; i < sizeof(natives) / sizeof(natives[0]); i++) {
		const struct native *t = &natives[i];
		fill(t->n, t->k, SHIM_DIMS_BALANCED, d);
		assert_memory_equal(d, t->mpich, (size_t)t->k * sizeof(int));
		fill(t->n, t->k, SHIM_DIMS_GREEDY, d);
		assert_memory_equal(d, t->ompi, (size_t)t->k * sizeof(int));
	}
}

static void test_fixed(void **state)
{
	int a[3] = { 0, 3, 0 }, b[4] = { 2, 0, 0, 5 };

	(void)state;
	assert_int_equal(shim_dims_fill(12, 3, a, SHIM_DIMS_BALANCED), MPI_SUCCESS);
	assert_int_equal(a[0], 2);
	assert_int_equal(a[1], 3);
	assert_int_equal(a[2], 2);
	assert_int_equal(shim_dims_fill(60, 4, b, SHIM_DIMS_GREEDY), MPI_SUCCESS);
	assert_int_equal(b[0], 2);
	assert_int_equal(b[1], 3);
	assert_int_equal(b[2], 2);
	assert_int_equal(b[3], 5);
}

static void test_errors(void **state)
{
	int a[2] = { 5, 0 }, b[2] = { -1, 0 }, c[2] = { 2, 3 }, e[2] = { 2, 2 }, z[2] = { 0, 0 };

	(void)state;
	assert_int_equal(shim_dims_fill(12, 2, a, SHIM_DIMS_BALANCED), MPI_ERR_DIMS);
	assert_int_equal(a[1], 0);
	assert_int_equal(shim_dims_fill(12, 2, b, SHIM_DIMS_GREEDY), MPI_ERR_DIMS);
	assert_int_equal(shim_dims_fill(12, 2, c, SHIM_DIMS_BALANCED), MPI_ERR_DIMS);
	assert_int_equal(shim_dims_fill(4, 2, e, SHIM_DIMS_BALANCED), MPI_SUCCESS);
	assert_int_equal(shim_dims_fill(0, 2, z, SHIM_DIMS_BALANCED), MPI_ERR_DIMS);
	assert_int_equal(shim_dims_fill(5, 0, NULL, SHIM_DIMS_BALANCED), MPI_SUCCESS);
}

/* 2^30 and a highly composite number: the search prunes, so these are
 * instant; the answers must still be exact factorisations. */
static void test_large(void **state)
{
	static const int ns[] = { 1 << 30, 735134400, 2147483647, 1073741823 };
	int d[6];

	(void)state;
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		for (int k = 2; k <= 6; k++)
			for (int rule = 0; rule < 2; rule++) {
				fill(ns[i], k, rule ? SHIM_DIMS_GREEDY : SHIM_DIMS_BALANCED, d);
				int64_t prod = 1;
				for (int j = 0; j < k; j++)
					prod *= d[j];
				assert_int_equal(prod, ns[i]);
			}
	fill(1 << 30, 3, SHIM_DIMS_BALANCED, d);
	assert_int_equal(d[0], 1024);
	assert_int_equal(d[1], 1024);
	assert_int_equal(d[2], 1024);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_balanced_model),
		cmocka_unit_test(test_greedy_shape),
		cmocka_unit_test(test_natives),
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
