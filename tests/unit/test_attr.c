/*
 * test_attr.c - unit tests of attributes, keyvals and user error
 * handlers (shim/attr.c, shim/errh_user.c), without a proxy.
 *
 * Communicator records are made the way a constructor's reply makes them
 * (shim_comm_reserve + shim_comm_set); what Comm_dup and Comm_free do
 * with attributes is driven through shim_attr_comm_copy and
 * shim_attr_comm_delete_all, which they call.  Callbacks log every call
 * (object, keyval, value, extra state) so the tests check who was called
 * with what and in which order: copies keep the original's order,
 * deletes go newest first, a failing delete stops and keeps its
 * attribute, a callback may change the attributes of the object it is
 * called for.  MPI_COMM_WORLD's handler is MPI_ERRORS_RETURN, so errors
 * come back as codes; a user handler must see the communicator and code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "shim/shim.h"

#define W 4
#define ME 1

struct call {
	char what;               /* 'c' copy, 'd' delete */
	MPI_Comm comm;
	int keyval;
	intptr_t val;
	void *extra;
};

static struct call log_[64];
static int nlog;
static int fail_delete_of = -1;   /* delete of this value fails */
static int extra_a, extra_b;

static void log_call(char what, MPI_Comm comm, int keyval, void *val, void *extra)
{
	assert_true(nlog < 64);
	log_[nlog++] = (struct call){ what, comm, keyval, (intptr_t)val, extra };
}

static int copy_plus(MPI_Comm comm, int keyval, void *extra, void *in, void *out, int *flag)
{
	log_call('c', comm, keyval, in, extra);
	*(void **)out = (char *)in + 100;
	*flag = 1;
	return MPI_SUCCESS;
}

static int copy_fail(MPI_Comm comm, int keyval, void *extra, void *in, void *out, int *flag)
{
	(void)out;
	log_call('c', comm, keyval, in, extra);
	*flag = 0;
	return MPI_ERR_OTHER;
}

static int del(MPI_Comm comm, int keyval, void *val, void *extra)
{
	log_call('d', comm, keyval, val, extra);
	return (intptr_t)val == fail_delete_of ? MPI_ERR_OTHER : MPI_SUCCESS;
}

static int setup(void **state)
{
	static int done;
	static const int64_t init_reply[7] = { 0, ME, W, 524287, 0, -1, 0 };

	(void)state;
	nlog = 0;
	fail_delete_of = -1;
	if (done)
		return 0;
	shim.world_rank = ME;
	shim.world_size = W;
	if (shim_comm_init_world(ME, W) != MPI_SUCCESS)
		return -1;
	shim_attr_init_world(init_reply);
	done = 1;
	MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
	return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN) == MPI_SUCCESS ? 0 : -1;
}

static MPI_Comm make(void)
{
	static const int world[W] = { 0, 1, 2, 3 };
	struct shim_comm *c = shim_comm_reserve();

	assert_non_null(c);
	assert_int_equal(shim_comm_set(c, world, W, ME, MPI_COMM_WORLD, CALL_COMM_DUP), MPI_SUCCESS);
	return c->handle;
}

static void drop(MPI_Comm h)
{
	shim_comm_release(shim_comm_get(h));
}

static intptr_t get(MPI_Comm c, int k, int *flag)
{
	void *v = NULL;

	assert_int_equal(MPI_Comm_get_attr(c, k, &v, flag), MPI_SUCCESS);
	return (intptr_t)v;
}

static void test_set_get_delete(void **state)
{
	MPI_Comm c = make();
	int k, flag;

	(void)state;
	assert_int_equal(MPI_Comm_create_keyval(copy_plus, del, &k, &extra_a), MPI_SUCCESS);
	get(c, k, &flag);
	assert_int_equal(flag, 0);
	MPI_Comm_set_attr(c, k, (void *)(intptr_t)1);
	assert_int_equal(get(c, k, &flag), 1);
	assert_int_equal(flag, 1);
	/* Overwriting deletes the old value first. */
	MPI_Comm_set_attr(c, k, (void *)(intptr_t)2);
	assert_int_equal(nlog, 1);
	assert_int_equal(log_[0].what, 'd');
	assert_int_equal(log_[0].val, 1);
	assert_ptr_equal(log_[0].extra, &extra_a);
	assert_true(log_[0].comm == c);
	assert_int_equal(log_[0].keyval, k);
	assert_int_equal(get(c, k, &flag), 2);
	/* A failing delete keeps the attribute and returns its code. */
	fail_delete_of = 2;
	assert_int_equal(MPI_Comm_delete_attr(c, k), MPI_ERR_OTHER);
	assert_int_equal(get(c, k, &flag), 2);
	fail_delete_of = -1;
	assert_int_equal(MPI_Comm_delete_attr(c, k), MPI_SUCCESS);
	get(c, k, &flag);
	assert_int_equal(flag, 0);
	/* Deleting what is not there is not an error (as in MPICH). */
	assert_int_equal(MPI_Comm_delete_attr(c, k), MPI_SUCCESS);
	assert_int_equal(MPI_Comm_free_keyval(&k), MPI_SUCCESS);
	assert_int_equal(k, MPI_KEYVAL_INVALID);
	drop(c);
}

static void test_copy_order(void **state)
{
	MPI_Comm a = make(), b = make(), d = make();
	int k1, k2, kdup, knull, flag;

	(void)state;
	MPI_Comm_create_keyval(copy_plus, del, &k1, &extra_a);
	MPI_Comm_create_keyval(copy_plus, del, &k2, &extra_b);
	MPI_Comm_create_keyval(MPI_COMM_DUP_FN, MPI_COMM_NULL_DELETE_FN, &kdup, NULL);
	MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, MPI_COMM_NULL_DELETE_FN, &knull, NULL);
	MPI_Comm_set_attr(a, k1, (void *)(intptr_t)10);
	MPI_Comm_set_attr(a, kdup, (void *)(intptr_t)11);
	MPI_Comm_set_attr(a, k2, (void *)(intptr_t)12);
	MPI_Comm_set_attr(a, knull, (void *)(intptr_t)13);
	assert_int_equal(shim_attr_comm_copy(a, b), MPI_SUCCESS);
	/* Callbacks in the order the attributes were set, with the old comm. */
	assert_int_equal(nlog, 2);
	assert_int_equal(log_[0].keyval, k1);
	assert_int_equal(log_[1].keyval, k2);
	assert_true(log_[0].comm == a && log_[1].comm == a);
	assert_ptr_equal(log_[1].extra, &extra_b);
	assert_int_equal(get(b, k1, &flag), 110);
	assert_int_equal(get(b, k2, &flag), 112);
	assert_int_equal(get(b, kdup, &flag), 11);
	get(b, knull, &flag);
	assert_int_equal(flag, 0);

	/* Free: newest first, with the communicator being freed. */
	nlog = 0;
	assert_int_equal(shim_attr_comm_delete_all(b), MPI_SUCCESS);
	assert_int_equal(nlog, 2);
	assert_int_equal(log_[0].val, 112);
	assert_int_equal(log_[1].val, 110);
	assert_true(log_[0].comm == b);
	get(b, k1, &flag);
	assert_int_equal(flag, 0);

	/* A failing delete stops it: that attribute and older ones stay. */
	nlog = 0;
	fail_delete_of = 12;
	assert_int_equal(shim_attr_comm_delete_all(a), MPI_ERR_OTHER);
	get(a, k2, &flag);
	assert_int_equal(flag, 1);
	assert_int_equal(get(a, k1, &flag), 10);
	get(a, knull, &flag);
	assert_int_equal(flag, 0);   /* newer than k2: gone */
	fail_delete_of = -1;
	assert_int_equal(shim_attr_comm_delete_all(a), MPI_SUCCESS);

	/* A failing copy callback stops the copy with its error. */
	int kf;
	MPI_Comm_create_keyval(copy_fail, MPI_COMM_NULL_DELETE_FN, &kf, NULL);
	MPI_Comm_set_attr(a, kf, (void *)(intptr_t)1);
	assert_int_equal(shim_attr_comm_copy(a, d), MPI_ERR_OTHER);
	get(d, kf, &flag);
	assert_int_equal(flag, 0);
	shim_attr_comm_delete_all(a);
	MPI_Comm_free_keyval(&k1);
	MPI_Comm_free_keyval(&k2);
	MPI_Comm_free_keyval(&kdup);
	MPI_Comm_free_keyval(&knull);
	MPI_Comm_free_keyval(&kf);
	drop(a);
	drop(b);
	drop(d);
}

/* A delete callback that deletes another attribute of the same object
 * while the shim is deleting them all. */
static int other_key;

static int del_other(MPI_Comm comm, int keyval, void *val, void *extra)
{
	log_call('d', comm, keyval, val, extra);
	if ((intptr_t)val == 2)
		MPI_Comm_delete_attr(comm, other_key);
	return MPI_SUCCESS;
}

static void test_reentrant(void **state)
{
	MPI_Comm c = make();
	int k1, k2, flag;

	(void)state;
	MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, del_other, &k1, NULL);
	MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, del_other, &k2, NULL);
	other_key = k1;
	MPI_Comm_set_attr(c, k1, (void *)(intptr_t)1);
	MPI_Comm_set_attr(c, k2, (void *)(intptr_t)2);
	assert_int_equal(shim_attr_comm_delete_all(c), MPI_SUCCESS);
	/* k2's callback deleted k1 (one call each, none twice). */
	assert_int_equal(nlog, 2);
	assert_int_equal(log_[0].val, 2);
	assert_int_equal(log_[1].val, 1);
	get(c, k1, &flag);
	assert_int_equal(flag, 0);
	MPI_Comm_free_keyval(&k1);
	MPI_Comm_free_keyval(&k2);
	drop(c);
}

static void test_freed_keyval(void **state)
{
	MPI_Comm c = make();
	int k, saved, flag;
	void *v;

	(void)state;
	MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, del, &k, NULL);
	saved = k;
	MPI_Comm_set_attr(c, k, (void *)(intptr_t)5);
	MPI_Comm_free_keyval(&k);
	/* Its attribute lives on, with its callback; freeing it again while
	 * in use is accepted (MPICH's suite does it). */
	assert_int_equal(get(c, saved, &flag), 5);
	k = saved;
	assert_int_equal(MPI_Comm_free_keyval(&k), MPI_SUCCESS);
	assert_int_equal(shim_attr_comm_delete_all(c), MPI_SUCCESS);
	assert_int_equal(nlog, 1);
	/* Once unused it is gone for good. */
	assert_int_equal(MPI_Comm_get_attr(c, saved, &v, &flag), MPI_ERR_KEYVAL);
	k = saved;
	assert_int_equal(MPI_Comm_free_keyval(&k), MPI_ERR_KEYVAL);
	drop(c);
}

static void test_predefined(void **state)
{
	MPI_Comm c = make();
	int *v, flag, tk, cls;

	(void)state;
	assert_int_equal(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &v, &flag), MPI_SUCCESS);
	assert_int_equal(flag, 1);
	assert_int_equal(*v, 524287);
	MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_HOST, &v, &flag);
	assert_int_equal(*v, MPI_PROC_NULL);
	MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_UNIVERSE_SIZE, &v, &flag);
	assert_int_equal(flag, 0);   /* the reply said -1: not set */
	MPI_Comm_get_attr(MPI_COMM_SELF, MPI_TAG_UB, &v, &flag);
	assert_int_equal(flag, 0);
	assert_int_equal(MPI_Comm_set_attr(MPI_COMM_WORLD, MPI_TAG_UB, NULL), MPI_ERR_KEYVAL);
	assert_int_equal(MPI_Comm_delete_attr(MPI_COMM_WORLD, MPI_IO), MPI_ERR_KEYVAL);
	assert_int_equal(shim_attr_comm_copy(MPI_COMM_WORLD, c), MPI_SUCCESS);
	MPI_Comm_get_attr(c, MPI_TAG_UB, &v, &flag);
	assert_int_equal(flag, 1);
	assert_int_equal(*v, 524287);
	/* MPI_LASTUSEDCODE follows MPI_Add_error_class. */
	assert_int_equal(MPI_Add_error_class(&cls), MPI_SUCCESS);
	MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_LASTUSEDCODE, &v, &flag);
	assert_int_equal(*v, cls);
	assert_true(cls > MPI_ERR_LASTCODE);
	/* Keyvals of the other kind are refused both ways. */
	MPI_Type_create_keyval(MPI_TYPE_NULL_COPY_FN, MPI_TYPE_NULL_DELETE_FN, &tk, NULL);
	assert_int_equal(MPI_Comm_set_attr(c, tk, NULL), MPI_ERR_KEYVAL);
	assert_int_equal(MPI_Type_set_attr(MPI_INT, tk, (void *)(intptr_t)9), MPI_SUCCESS);
	assert_int_equal(MPI_Type_get_attr(MPI_INT, tk, &v, &flag), MPI_SUCCESS);
	assert_int_equal(flag, 1);
	assert_int_equal((intptr_t)v, 9);
	assert_int_equal(shim_attr_type_delete_all(MPI_INT), MPI_SUCCESS);
	MPI_Type_free_keyval(&tk);
	shim_attr_comm_delete_all(c);
	drop(c);
}

/* ------------------------------------------------- user error handlers */

static int handler_calls, handler_code;
static MPI_Comm handler_comm;

static void handler(MPI_Comm *comm, int *code, ...)
{
	handler_calls++;
	handler_comm = *comm;
	handler_code = *code;
}

static void test_errhandler(void **state)
{
	MPI_Comm c = make(), d = make();
	MPI_Errhandler eh;
	int code;

	(void)state;
	assert_int_equal(MPI_Comm_create_errhandler(handler, &eh), MPI_SUCCESS);
	assert_int_equal(MPI_Comm_set_errhandler(c, eh), MPI_SUCCESS);
	handler_calls = 0;
	/* An argument error on c reaches the handler with c and the class. */
	assert_int_equal(MPI_Comm_rank(c, NULL), MPI_ERR_ARG);
	assert_int_equal(handler_calls, 1);
	assert_true(handler_comm == c);
	assert_int_equal(handler_code, MPI_ERR_ARG);
	/* d keeps MPI_ERRORS_RETURN: no call. */
	assert_int_equal(MPI_Comm_rank(d, NULL), MPI_ERR_ARG);
	assert_int_equal(handler_calls, 1);
	/* A user code, raised by the application. */
	int cls;
	MPI_Add_error_class(&cls);
	MPI_Add_error_code(cls, &code);
	MPI_Add_error_string(code, "disk on fire");
	assert_int_equal(MPI_Comm_call_errhandler(c, code), MPI_SUCCESS);
	assert_int_equal(handler_calls, 2);
	assert_int_equal(handler_code, code);
	int got;
	char s[MPI_MAX_ERROR_STRING];
	int len;
	MPI_Error_class(code, &got);
	assert_int_equal(got, cls);
	MPI_Error_string(code, s, &len);
	assert_string_equal(s, "disk on fire");
	assert_int_equal(MPI_Add_error_code(MPI_ERR_LASTCODE + 100000, &code), MPI_ERR_ARG);
	/* Freed, the handler still serves c. */
	assert_int_equal(MPI_Errhandler_free(&eh), MPI_SUCCESS);
	assert_true(eh == MPI_ERRHANDLER_NULL);
	MPI_Comm_size(c, NULL);
	assert_int_equal(handler_calls, 3);
	drop(c);
	drop(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_set_get_delete, setup),
		cmocka_unit_test_setup(test_copy_order, setup),
		cmocka_unit_test_setup(test_reentrant, setup),
		cmocka_unit_test_setup(test_freed_keyval, setup),
		cmocka_unit_test_setup(test_predefined, setup),
		cmocka_unit_test_setup(test_errhandler, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
