/*
 * test_typef90.c - unit tests of MPI_Type_create_f90_* on the application
 * side (shim/typef90.c, shim_type_make_f90 in shim/typeops.c), for what
 * mpi-tests/type_f90.c cannot compare with the real MPIs because they
 * disagree there or it happens between the shim and the proxy.
 *
 * The expected kinds are gfortran's on x86-64 (SELECTED_REAL_KIND gives
 * REAL(10), the x87 format, up to precision 18 and range 4931; REAL(16)
 * and INTEGER(16) are left out on purpose, see shim/typef90.c), written
 * here as C sizes.  A thread plays the proxy (fakepx.h) and records each
 * TYPE_CREATE, so the tests see which predefined type the proxy is told
 * to use, that a type is created once however often it is asked for, and
 * that a restart makes every such type again.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fakepx.h"

#define U MPI_UNDEFINED

/* TYPE_CREATE calls the fake proxy answered: handle, combiner, basic. */
static struct {
	int n;
	int64_t handle[256], combiner[256], basic[256], size[256];
} px;

static void answer(struct chan_call *c)
{
	if (c->id != CALL_TYPE_CREATE || px.n >= 256)
		return;
	px.handle[px.n] = c->arg[0];
	px.combiner[px.n] = c->arg[1];
	px.basic[px.n] = c->arg[11];
	px.size[px.n] = c->arg[8];
	px.n++;
}

FAKEPX_FIXTURES(4u << 20, 0, 2, answer)

/* The last TYPE_CREATE was for t, of combiner and of a predefined basic
 * type of the given size. */
static void assert_created(MPI_Datatype t, int combiner, int64_t size)
{
	int i = px.n - 1;

	assert_true(i >= 0);
	assert_int_equal(px.handle[i], (int64_t)(intptr_t)t);
	assert_int_equal(px.combiner[i], combiner);
	assert_int_equal(px.size[i], size);
	MPI_Datatype basic = (MPI_Datatype)(intptr_t)px.basic[i];
	assert_true(shim_type_predefined(basic));
	assert_int_equal(shim_type_get(basic)->size, size);
}

static int size_of(MPI_Datatype t)
{
	int size = -1;

	assert_int_equal(MPI_Type_size(t, &size), MPI_SUCCESS);
	return size;
}

static void test_extended_precision_kind(void **state)
{
	(void)state;
	MPI_Datatype r, c;

	assert_int_equal(MPI_Type_create_f90_real(18, U, &r), MPI_SUCCESS);
	assert_int_equal(size_of(r), sizeof(long double));
	assert_created(r, MPI_COMBINER_F90_REAL, sizeof(long double));
	assert_int_equal(MPI_Type_create_f90_complex(U, 4931, &c), MPI_SUCCESS);
	assert_int_equal(size_of(c), 2 * sizeof(long double));
	assert_created(c, MPI_COMBINER_F90_COMPLEX, 2 * sizeof(long double));
	assert_int_equal(MPI_Type_create_f90_real(16, 308, &r), MPI_SUCCESS);
	assert_int_equal(size_of(r), sizeof(long double));
	/* MPI_Type_match_size has a type of each of these sizes. */
	MPI_Datatype m;
	assert_int_equal(MPI_Type_match_size(MPI_TYPECLASS_REAL, size_of(r), &m), MPI_SUCCESS);
	assert_int_equal(size_of(m), size_of(r));
	assert_int_equal(MPI_Type_match_size(MPI_TYPECLASS_COMPLEX, size_of(c), &m),
			 MPI_SUCCESS);
	assert_int_equal(size_of(m), size_of(c));
}

static void test_no_kind_is_err_arg(void **state)
{
	(void)state;
	MPI_Datatype t = MPI_DATATYPE_NULL;
	int before = px.n;

	assert_int_equal(MPI_Type_create_f90_real(19, U, &t), MPI_ERR_ARG);
	assert_int_equal(MPI_Type_create_f90_real(U, 4932, &t), MPI_ERR_ARG);
	assert_int_equal(MPI_Type_create_f90_complex(33, 4931, &t), MPI_ERR_ARG);
	assert_int_equal(MPI_Type_create_f90_real(U, U, &t), MPI_ERR_ARG);
	assert_int_equal(MPI_Type_create_f90_integer(19, &t), MPI_ERR_ARG);
	assert_int_equal(MPI_Type_create_f90_integer(4, NULL), MPI_ERR_ARG);
	assert_true(t == MPI_DATATYPE_NULL);
	assert_int_equal(px.n, before);
}

static void test_once_per_p_r(void **state)
{
	(void)state;
	MPI_Datatype a, b, c, i1, i2;

	assert_int_equal(MPI_Type_create_f90_real(10, 100, &a), MPI_SUCCESS);
	int after_first = px.n;
	assert_int_equal(MPI_Type_create_f90_real(10, 100, &b), MPI_SUCCESS);
	assert_true(a == b);
	assert_int_equal(px.n, after_first);
	/* The same kind from other arguments is another type: its contents
	 * differ, and it matches only types made from the same (p, r). */
	assert_int_equal(MPI_Type_create_f90_real(11, 100, &c), MPI_SUCCESS);
	assert_true(c != a);
	assert_int_equal(size_of(c), size_of(a));
	/* A complex of the same (p, r) is a type of its own too. */
	assert_int_equal(MPI_Type_create_f90_complex(10, 100, &c), MPI_SUCCESS);
	assert_true(c != a);
	assert_int_equal(MPI_Type_create_f90_integer(7, &i1), MPI_SUCCESS);
	assert_int_equal(MPI_Type_create_f90_integer(7, &i2), MPI_SUCCESS);
	assert_true(i1 == i2);
	assert_int_equal(size_of(i1), 4);
}

static void test_cannot_be_freed(void **state)
{
	(void)state;
	MPI_Datatype t, keep, dup;

	assert_int_equal(MPI_Type_create_f90_integer(2, &t), MPI_SUCCESS);
	keep = t;
	assert_int_equal(MPI_Type_free(&t), MPI_ERR_TYPE);
	assert_true(t == keep);
	assert_int_equal(size_of(t), 1);
	/* A dup is an ordinary derived type; freeing it leaves t alone. */
	assert_int_equal(MPI_Type_dup(t, &dup), MPI_SUCCESS);
	assert_int_equal(MPI_Type_free(&dup), MPI_SUCCESS);
	assert_int_equal(size_of(t), 1);
	assert_int_equal(MPI_Type_commit(&t), MPI_SUCCESS);
}

static void test_reduce_local_long_double(void **state)
{
	(void)state;
	MPI_Datatype t;
	long double in[2] = { 1.25L, -2.0L }, io[2] = { 0.5L, 3.0L };

	assert_int_equal(MPI_Type_create_f90_real(17, U, &t), MPI_SUCCESS);
	assert_int_equal(MPI_Reduce_local(in, io, 2, t, MPI_SUM), MPI_SUCCESS);
	assert_true(io[0] == 1.75L && io[1] == 1.0L);
	assert_int_equal(MPI_Reduce_local(in, io, 2, t, MPI_BAND), MPI_ERR_OP);
}

/* The standard fixes the external32 sizes of these types: 4, 8 or 16
 * bytes by p and r for reals (twice that for complex), and the integer
 * kind's size. */
static void test_external32_sizes(void **state)
{
	(void)state;
	static const struct { int cls, p, r; MPI_Aint size; } want[] = {
		{ 0, 6, U, 4 }, { 0, U, 38, 8 }, { 0, 15, 307, 8 }, { 0, 16, U, 16 },
		{ 0, U, 4931, 16 }, { 1, 7, U, 16 }, { 1, 18, U, 32 }, { 2, 0, 2, 1 },
		{ 2, 0, 4, 2 }, { 2, 0, 9, 4 }, { 2, 0, 18, 8 },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		MPI_Datatype t;
		MPI_Aint size = -1;
		int err = want[i].cls == 0 ? MPI_Type_create_f90_real(want[i].p, want[i].r, &t)
			: want[i].cls == 1 ? MPI_Type_create_f90_complex(want[i].p, want[i].r, &t)
			: MPI_Type_create_f90_integer(want[i].r, &t);
		assert_int_equal(err, MPI_SUCCESS);
		assert_int_equal(MPI_Pack_external_size("external32", 1, t, &size), MPI_SUCCESS);
		assert_int_equal(size, want[i].size);
	}
}

/* After a restart every type made here is made again in the new proxy,
 * each with its predefined type, though nothing else was constructed. */
static void test_rebuilt_after_restart(void **state)
{
	(void)state;
	MPI_Datatype r8, i8;

	assert_int_equal(MPI_Type_create_f90_real(15, U, &r8), MPI_SUCCESS);
	assert_int_equal(MPI_Type_create_f90_integer(18, &i8), MPI_SUCCESS);
	int before = px.n, made = 0;
	assert_int_equal(shim_type_rebuild_all(), MPI_SUCCESS);
	for (int i = before; i < px.n; i++) {
		MPI_Datatype h = (MPI_Datatype)(intptr_t)px.handle[i];
		struct shim_type *t = shim_type_get(h);
		assert_non_null(t);
		assert_true(shim_type_f90(t));
		assert_int_equal(shim_type_get((MPI_Datatype)(intptr_t)px.basic[i])->size,
				 t->size);
		made += h == r8 || h == i8;
	}
	assert_int_equal(made, 2);
	/* Every f90 type of the earlier tests too (all still alive). */
	assert_true(px.n - before >= 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extended_precision_kind),
		cmocka_unit_test(test_no_kind_is_err_arg),
		cmocka_unit_test(test_once_per_p_r),
		cmocka_unit_test(test_cannot_be_freed),
		cmocka_unit_test(test_reduce_local_long_double),
		cmocka_unit_test(test_external32_sizes),
		cmocka_unit_test(test_rebuilt_after_restart),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
