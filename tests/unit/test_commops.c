/*
 * test_commops.c - unit tests of the communicator queries answered in
 * the application (shim/commops.c): rank, size, compare, names, error
 * handlers and Comm_group.
 *
 * No proxy is involved: communicator records are made the way a
 * constructor's reply makes them (shim_comm_reserve + shim_comm_set) from
 * member lists chosen here, so every Comm_compare outcome and the
 * inheritance of error handlers can be set up exactly.  MPI_COMM_WORLD's
 * handler (SHIM_NOCOMM) is MPI_ERRORS_RETURN so error cases come back as codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "shim/shim.h"

#define W 6
#define ME 2

static int setup(void **state)
{
	static int done;

	(void)state;
	if (done)
		return 0;
	shim.world_rank = ME;
	shim.world_size = W;
	if (shim_comm_init_world(ME, W) != MPI_SUCCESS)
		return -1;
	done = 1;
	if (MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN) != MPI_SUCCESS)
		return -1;
	return MPI_Comm_set_errhandler(SHIM_NOCOMM, MPI_ERRORS_RETURN) == MPI_SUCCESS ? 0 : -1;
}

/* A communicator of the given world ranks, made from parent. */
static MPI_Comm make(const int *world, int n, MPI_Comm parent)
{
	struct shim_comm *c = shim_comm_reserve();
	int rank = MPI_UNDEFINED;

	assert_non_null(c);
	for (int i = 0; i < n; i++)
		if (world[i] == ME)
			rank = i;
	assert_int_equal(shim_comm_set(c, world, n, rank, parent, CALL_COMM_SPLIT), MPI_SUCCESS);
	return c->handle;
}

static void drop(MPI_Comm h)
{
	shim_comm_release(shim_comm_get(h));
}

static int compare(MPI_Comm a, MPI_Comm b)
{
	int res = -1;

	assert_int_equal(MPI_Comm_compare(a, b, &res), MPI_SUCCESS);
	return res;
}

static void test_rank_size(void **state)
{
	int rank = -1, size = -1, w[] = { 4, 2, 0 };
	MPI_Comm c = make(w, 3, MPI_COMM_WORLD);

	(void)state;
	assert_int_equal(MPI_Comm_rank(MPI_COMM_WORLD, &rank), MPI_SUCCESS);
	assert_int_equal(MPI_Comm_size(MPI_COMM_WORLD, &size), MPI_SUCCESS);
	assert_int_equal(rank, ME);
	assert_int_equal(size, W);
	assert_int_equal(MPI_Comm_rank(MPI_COMM_SELF, &rank), MPI_SUCCESS);
	assert_int_equal(MPI_Comm_size(MPI_COMM_SELF, &size), MPI_SUCCESS);
	assert_int_equal(rank, 0);
	assert_int_equal(size, 1);
	assert_int_equal(MPI_Comm_rank(c, &rank), MPI_SUCCESS);
	assert_int_equal(MPI_Comm_size(c, &size), MPI_SUCCESS);
	assert_int_equal(rank, 1);
	assert_int_equal(size, 3);
	drop(c);
	assert_int_equal(MPI_Comm_rank(c, &rank), MPI_ERR_COMM);
	assert_int_equal(MPI_Comm_size(MPI_COMM_NULL, &size), MPI_ERR_COMM);
	assert_int_equal(MPI_Comm_rank(MPI_COMM_SELF, NULL), MPI_ERR_ARG);
}

static void test_compare(void **state)
{
	int all[W], rev[W], part[] = { 1, 2, 3 }, other[] = { 1, 2, 4 };
	MPI_Comm same, reordered, sub, sub2;

	(void)state;
	for (int i = 0; i < W; i++) {
		all[i] = i;
		rev[i] = W - 1 - i;
	}
	same = make(all, W, MPI_COMM_WORLD);
	reordered = make(rev, W, MPI_COMM_WORLD);
	sub = make(part, 3, MPI_COMM_WORLD);
	sub2 = make(other, 3, MPI_COMM_WORLD);
	assert_int_equal(compare(MPI_COMM_WORLD, MPI_COMM_WORLD), MPI_IDENT);
	assert_int_equal(compare(same, same), MPI_IDENT);
	assert_int_equal(compare(MPI_COMM_WORLD, same), MPI_CONGRUENT);
	assert_int_equal(compare(same, reordered), MPI_SIMILAR);
	assert_int_equal(compare(reordered, MPI_COMM_WORLD), MPI_SIMILAR);
	assert_int_equal(compare(sub, MPI_COMM_WORLD), MPI_UNEQUAL);
	assert_int_equal(compare(sub, sub2), MPI_UNEQUAL);
	assert_int_equal(compare(MPI_COMM_WORLD, MPI_COMM_SELF), MPI_UNEQUAL);
	int res = -1;
	assert_int_equal(MPI_Comm_compare(MPI_COMM_WORLD, MPI_COMM_NULL, &res), MPI_ERR_COMM);
	assert_int_equal(MPI_Comm_compare(MPI_COMM_SELF, same, NULL), MPI_ERR_ARG);
	drop(sub2);
	drop(sub);
	drop(reordered);
	drop(same);
}

static void test_names(void **state)
{
	char name[MPI_MAX_OBJECT_NAME + 8], longname[300];
	int len = -1, w[] = { ME };
	MPI_Comm c = make(w, 1, MPI_COMM_SELF);

	(void)state;
	assert_int_equal(MPI_Comm_get_name(MPI_COMM_WORLD, name, &len), MPI_SUCCESS);
	assert_string_equal(name, "MPI_COMM_WORLD");
	assert_int_equal(len, strlen("MPI_COMM_WORLD"));
	assert_int_equal(MPI_Comm_get_name(MPI_COMM_SELF, name, &len), MPI_SUCCESS);
	assert_string_equal(name, "MPI_COMM_SELF");
	assert_int_equal(MPI_Comm_get_name(c, name, &len), MPI_SUCCESS);
	assert_string_equal(name, "");
	assert_int_equal(len, 0);
	assert_int_equal(MPI_Comm_set_name(c, "solo"), MPI_SUCCESS);
	assert_int_equal(MPI_Comm_get_name(c, name, &len), MPI_SUCCESS);
	assert_string_equal(name, "solo");
	assert_int_equal(len, 4);
	/* Too long: cut to what fits in MPI_MAX_OBJECT_NAME with its NUL. */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(MPI_Comm_set_name(c, longname), MPI_SUCCESS);
	assert_int_equal(MPI_Comm_get_name(c, name, &len), MPI_SUCCESS);
	assert_int_equal(len, MPI_MAX_OBJECT_NAME - 1);
	assert_int_equal(strlen(name), MPI_MAX_OBJECT_NAME - 1);
	assert_int_equal(MPI_Comm_set_name(c, NULL), MPI_ERR_ARG);
	assert_int_equal(MPI_Comm_get_name(MPI_COMM_NULL, name, &len), MPI_ERR_COMM);
	drop(c);
}

static MPI_Errhandler handler(MPI_Comm c)
{
	MPI_Errhandler e = MPI_ERRHANDLER_NULL;

	assert_int_equal(MPI_Comm_get_errhandler(c, &e), MPI_SUCCESS);
	return e;
}

static void test_errhandlers(void **state)
{
	int w[] = { 0, ME };
	MPI_Errhandler e;

	(void)state;
	/* setup() made WORLD return errors; SHIM_NOCOMM errors below rely on it. */
	assert_true(handler(MPI_COMM_WORLD) == MPI_ERRORS_RETURN);
	assert_int_equal(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ABORT), MPI_SUCCESS);
	MPI_Comm child = make(w, 2, MPI_COMM_WORLD);
	assert_true(handler(child) == MPI_ERRORS_ABORT);
	assert_int_equal(MPI_Comm_set_errhandler(child, MPI_ERRORS_RETURN), MPI_SUCCESS);
	MPI_Comm grandchild = make(w, 2, child);
	assert_true(handler(grandchild) == MPI_ERRORS_RETURN);
	assert_true(handler(MPI_COMM_WORLD) == MPI_ERRORS_ABORT);
	assert_int_equal(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), MPI_SUCCESS);

	/* Only the predefined handlers exist; anything else is MPI_ERR_ARG. */
	assert_int_equal(MPI_Comm_set_errhandler(child, MPI_ERRHANDLER_NULL), MPI_ERR_ARG);
	assert_int_equal(MPI_Comm_set_errhandler(child, (MPI_Errhandler)(uintptr_t)0x6000001),
			 MPI_ERR_ARG);
	assert_true(handler(child) == MPI_ERRORS_RETURN);
	e = MPI_ERRORS_RETURN;
	assert_int_equal(MPI_Errhandler_free(&e), MPI_SUCCESS);
	assert_true(e == MPI_ERRHANDLER_NULL);
	assert_int_equal(MPI_Errhandler_free(&e), MPI_ERR_ARG);
	assert_int_equal(MPI_Errhandler_free(NULL), MPI_ERR_ARG);
	assert_true(handler(child) == MPI_ERRORS_RETURN);
	drop(grandchild);
	drop(child);
}

static void test_comm_group(void **state)
{
	int w[] = { 5, ME, 1 }, idx[] = { 0, 1, 2 }, out[3], rank = -1;
	MPI_Comm c = make(w, 3, MPI_COMM_WORLD);
	MPI_Group g, wg;

	(void)state;
	assert_int_equal(MPI_Comm_group(c, &g), MPI_SUCCESS);
	assert_int_equal(MPI_Comm_group(MPI_COMM_WORLD, &wg), MPI_SUCCESS);
	assert_int_equal(MPI_Group_translate_ranks(g, 3, idx, wg, out), MPI_SUCCESS);
	assert_memory_equal(out, w, sizeof(w));
	assert_int_equal(MPI_Group_rank(g, &rank), MPI_SUCCESS);
	assert_int_equal(rank, 1);
	assert_int_equal(MPI_Group_free(&g), MPI_SUCCESS);
	assert_int_equal(MPI_Group_free(&wg), MPI_SUCCESS);
	assert_int_equal(MPI_Comm_group(MPI_COMM_NULL, &g), MPI_ERR_COMM);
	drop(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_rank_size, setup),
		cmocka_unit_test_setup(test_compare, setup),
		cmocka_unit_test_setup(test_names, setup),
		cmocka_unit_test_setup(test_errhandlers, setup),
		cmocka_unit_test_setup(test_comm_group, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
