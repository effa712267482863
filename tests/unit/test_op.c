/*
 * test_op.c - unit tests of reduction operation records (shim/op.c), of
 * calling a user function (shim_op_apply) and of MPI_Reduce_local's
 * predefined arithmetic (shim/oplocal.c).
 *
 * Expected values are worked out by hand in the test: wrap-around of
 * narrow signed and unsigned integers, complex products, MINLOC/MAXLOC
 * ties going to the smaller index, pair types with padding, and the
 * pairs the standard does not define (MPI_ERR_OP).  MPI_COMM_WORLD's
 * handler is MPI_ERRORS_RETURN, so errors come back as codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "shim/shim.h"

static int setup(void **state)
{
	static int done;

	(void)state;
	if (done)
		return 0;
	shim.world_rank = 0;
	shim.world_size = 1;
	if (shim_comm_init_world(0, 1) != MPI_SUCCESS)
		return -1;
	done = 1;
	return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN) == MPI_SUCCESS ? 0 : -1;
}

/* A non-commutative user function: inout = in - inout, and what it saw. */
static int64_t seen_len;
static MPI_Datatype seen_type;

static void minus(void *in, void *inout, int *len, MPI_Datatype *t)
{
	seen_len = *len;
	seen_type = *t;
	for (int i = 0; i < *len; i++)
		((int *)inout)[i] = ((int *)in)[i] - ((int *)inout)[i];
	*len = -1;   /* a user function may scribble on its arguments */
}

static void minus_c(void *in, void *inout, MPI_Count *len, MPI_Datatype *t)
{
	seen_len = *len;
	seen_type = *t;
	for (MPI_Count i = 0; i < *len; i++)
		((int *)inout)[i] = ((int *)in)[i] - ((int *)inout)[i];
}

static void test_records(void **state)
{
	MPI_Op a, b, held;
	int commute = -1;

	(void)state;
	assert_int_equal(MPI_Op_create(minus, 0, &a), MPI_SUCCESS);
	assert_int_equal(MPI_Op_create_c(minus_c, 1, &b), MPI_SUCCESS);
	assert_true(a != b && !shim_op_predefined(a));
	assert_ptr_equal(shim_op_get(a)->fn, minus);
	assert_null(shim_op_get(a)->fn_c);
	assert_ptr_equal(shim_op_get(b)->fn_c, minus_c);
	assert_int_equal(MPI_Op_commutative(a, &commute), MPI_SUCCESS);
	assert_int_equal(commute, 0);
	assert_int_equal(MPI_Op_commutative(b, &commute), MPI_SUCCESS);
	assert_int_equal(commute, 1);
	assert_int_equal(MPI_Op_commutative(MPI_MAXLOC, &commute), MPI_SUCCESS);
	assert_int_equal(commute, 1);
	assert_int_equal(MPI_Op_commutative(MPI_OP_NULL, &commute), MPI_ERR_OP);

	held = a;
	assert_int_equal(MPI_Op_free(&a), MPI_SUCCESS);
	assert_true(a == MPI_OP_NULL);
	assert_null(shim_op_get(held));
	assert_int_equal(MPI_Op_free(&held), MPI_ERR_OP);
	assert_int_equal(MPI_Op_free(&b), MPI_SUCCESS);
	a = MPI_SUM;
	assert_int_equal(MPI_Op_free(&a), MPI_ERR_OP);
	assert_true(a == MPI_SUM);
	a = MPI_OP_NULL;
	assert_int_equal(MPI_Op_free(&a), MPI_ERR_OP);
	assert_int_equal(MPI_Op_create(NULL, 1, &a), MPI_ERR_ARG);
}

static void test_apply(void **state)
{
	int in[3] = { 10, 20, 30 }, io[3] = { 1, 2, 3 };
	MPI_Op a, b;

	(void)state;
	MPI_Op_create(minus, 0, &a);
	MPI_Op_create_c(minus_c, 0, &b);
	shim_op_apply(shim_op_get(a), in, io, 3, MPI_INT);
	assert_int_equal(seen_len, 3);
	assert_true(seen_type == MPI_INT);
	assert_int_equal(io[0], 9);
	assert_int_equal(io[2], 27);
	shim_op_apply(shim_op_get(b), in, io, 2, MPI_UNSIGNED);
	assert_int_equal(seen_len, 2);
	assert_true(seen_type == MPI_UNSIGNED);
	assert_int_equal(io[0], 1);
	assert_int_equal(io[1], 2);
	assert_int_equal(io[2], 27);
	/* Through MPI_Reduce_local, with the handle the caller passed. */
	assert_int_equal(MPI_Reduce_local(in, io, 1, MPI_INT, a), MPI_SUCCESS);
	assert_int_equal(io[0], 9);
	MPI_Op_free(&a);
	MPI_Op_free(&b);
}

static void test_integers(void **state)
{
	int x[4] = { 5, -3, 0, 12 }, y[4];
	unsigned char u[2] = { 200, 0xf0 }, v[2] = { 100, 0x3c };
	int8_t s[2] = { 100, -100 }, t[2] = { 100, -100 };

	(void)state;
#define RUN(op, a, b, c, d, e, f, g, h) do {                                  \
		int y0[4] = { a, b, c, d };                                    \
		memcpy(y, y0, sizeof(y));                                      \
		assert_int_equal(MPI_Reduce_local(x, y, 4, MPI_INT, op), 0);    \
		assert_int_equal(y[0], e);                                     \
		assert_int_equal(y[1], f);                                     \
		assert_int_equal(y[2], g);                                     \
		assert_int_equal(y[3], h);                                     \
	} while (0)
	RUN(MPI_SUM, 1, 1, 1, 1, 6, -2, 1, 13);
	RUN(MPI_PROD, 2, 2, 7, -1, 10, -6, 0, -12);
	RUN(MPI_MIN, 9, -9, 0, 20, 5, -9, 0, 12);
	RUN(MPI_MAX, 9, -9, 0, 20, 9, -3, 0, 20);
	RUN(MPI_LAND, 0, 7, 7, 7, 0, 1, 0, 1);
	RUN(MPI_LOR, 0, 0, 0, 7, 1, 1, 0, 1);
	RUN(MPI_LXOR, 0, 7, 7, 7, 1, 0, 1, 0);
	RUN(MPI_BAND, 4, -1, 3, 8, 4, -3, 0, 8);
	RUN(MPI_BOR, 2, 0, 3, 1, 7, -3, 3, 13);
	RUN(MPI_BXOR, 4, -3, 3, 12, 1, 0, 3, 0);
#undef RUN
	/* Narrow types wrap. */
	assert_int_equal(MPI_Reduce_local(u, v, 2, MPI_UNSIGNED_CHAR, MPI_SUM), 0);
	assert_int_equal(v[0], 44);
	assert_int_equal(v[1], 0x2c);
	assert_int_equal(MPI_Reduce_local(s, t, 2, MPI_INT8_T, MPI_SUM), 0);
	assert_int_equal(t[0], -56);
	assert_int_equal(t[1], 56);
	assert_int_equal(MPI_Reduce_local(u, v, 2, MPI_BYTE, MPI_BXOR), 0);
	assert_int_equal(v[0], 200 ^ 44);
}

static void test_floating_complex_bool(void **state)
{
	double a[2] = { 1.5, -2.0 }, b[2] = { 4.0, -8.0 };
	struct { double re, im; } c = { 1, 2 }, d = { 3, 4 };
	bool p[3] = { true, false, true }, q[3] = { true, true, false };

	(void)state;
	assert_int_equal(MPI_Reduce_local(a, b, 2, MPI_DOUBLE, MPI_PROD), 0);
	assert_true(b[0] == 6.0 && b[1] == 16.0);
	assert_int_equal(MPI_Reduce_local(a, b, 2, MPI_DOUBLE, MPI_MIN), 0);
	assert_true(b[0] == 1.5 && b[1] == -2.0);
	assert_int_equal(MPI_Reduce_local(&c, &d, 1, MPI_C_DOUBLE_COMPLEX, MPI_PROD), 0);
	assert_true(d.re == -5 && d.im == 10);
	assert_int_equal(MPI_Reduce_local(p, q, 3, MPI_C_BOOL, MPI_LXOR), 0);
	assert_true(!q[0] && q[1] && q[2]);
}

static void test_loc(void **state)
{
	struct { double v; int i; } a[3] = { { 1, 5 }, { 2, 5 }, { 3, 5 } },
				  b[3] = { { 1, 2 }, { 1, 9 }, { 4, 0 } };
	struct { short v; int i; } s = { 7, 3 }, t = { 7, 1 };

	(void)state;
	assert_int_equal(MPI_Reduce_local(a, b, 3, MPI_DOUBLE_INT, MPI_MINLOC), 0);
	assert_true(b[0].v == 1 && b[0].i == 2);   /* tie: smaller index */
	assert_true(b[1].v == 1 && b[1].i == 9);
	assert_true(b[2].v == 3 && b[2].i == 5);
	assert_int_equal(MPI_Reduce_local(a, b, 3, MPI_DOUBLE_INT, MPI_MAXLOC), 0);
	assert_true(b[0].v == 1 && b[0].i == 2);
	assert_true(b[1].v == 2 && b[1].i == 5);
	assert_true(b[2].v == 3 && b[2].i == 5);
	assert_int_equal(MPI_Reduce_local(&s, &t, 1, MPI_SHORT_INT, MPI_MAXLOC), 0);
	assert_true(t.v == 7 && t.i == 1);
}

static void test_undefined(void **state)
{
	int x[2] = { 1, 2 }, y[2] = { 3, 4 };

	(void)state;
	assert_int_equal(MPI_Reduce_local(x, y, 2, MPI_BYTE, MPI_SUM), MPI_ERR_OP);
	assert_int_equal(MPI_Reduce_local(x, y, 1, MPI_DOUBLE, MPI_BAND), MPI_ERR_OP);
	assert_int_equal(MPI_Reduce_local(x, y, 2, MPI_INT, MPI_MINLOC), MPI_ERR_OP);
	assert_int_equal(MPI_Reduce_local(x, y, 2, MPI_INT, MPI_REPLACE), MPI_ERR_OP);
	assert_int_equal(MPI_Reduce_local(x, y, 2, MPI_C_BOOL, MPI_SUM), MPI_ERR_OP);
	assert_int_equal(MPI_Reduce_local(x, y, 2, MPI_INT, MPI_OP_NULL), MPI_ERR_OP);
	assert_int_equal(MPI_Reduce_local(x, y, -1, MPI_INT, MPI_SUM), MPI_ERR_COUNT);
	assert_int_equal(MPI_Reduce_local(x, y, 2, MPI_DATATYPE_NULL, MPI_SUM), MPI_ERR_TYPE);
	assert_int_equal(MPI_Reduce_local(NULL, y, 2, MPI_INT, MPI_SUM), MPI_ERR_BUFFER);
	assert_int_equal(y[0], 3);
	assert_int_equal(y[1], 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_records, setup),
		cmocka_unit_test_setup(test_apply, setup),
		cmocka_unit_test_setup(test_integers, setup),
		cmocka_unit_test_setup(test_floating_complex_bool, setup),
		cmocka_unit_test_setup(test_loc, setup),
		cmocka_unit_test_setup(test_undefined, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
