/*
 * attr.c - attributes and keyvals.  Communicator keyvals with copy and
 * delete callbacks that count their calls and check their arguments:
 * set, get, overwrite (the old value's delete runs), delete, copy on
 * MPI_Comm_dup and MPI_Comm_idup (MPI_COMM_DUP_FN, MPI_COMM_NULL_COPY_FN,
 * a callback that copies value + 1, one that declines), delete on
 * MPI_Comm_free, a failing delete callback that makes the free fail and
 * leaves the communicator usable, a freed keyval whose attributes live
 * on, the MPI-1 names (Keyval_create, Attr_put/get/delete), datatype
 * attributes on a predefined datatype and on a derived one through
 * MPI_Type_dup and MPI_Type_free, and the predefined attributes of
 * MPI_COMM_WORLD (values checked against what the standard fixes, never
 * printed: they differ between MPIs).  At MPI_Finalize the delete
 * callback of an attribute on MPI_COMM_SELF must run.  Error classes
 * both MPIs agree on: MPI_KEYVAL_INVALID, a keyval of another kind.
 */
/* ranks: 2 */
#include "mt.h"

static int me;
static int copies, deletes, self_deleted;
static int extra_token;

static int error_class(int rc)
{
	int cls = -1;

	MPI_Error_class(rc, &cls);
	return cls;
}

/* Copies value + 1; checks it gets the keyval's extra state. */
static int copy_plus_one(MPI_Comm comm, int keyval, void *extra, void *in, void *out, int *flag)
{
	(void)comm;
	(void)keyval;
	MT_CHECK(extra == &extra_token, "copy callback got the wrong extra_state");
	copies++;
	*(void **)out = (char *)in + 1;
	*flag = 1;
	return MPI_SUCCESS;
}

static int copy_decline(MPI_Comm comm, int keyval, void *extra, void *in, void *out, int *flag)
{
	(void)comm, (void)keyval, (void)extra, (void)in, (void)out;
	copies++;
	*flag = 0;
	return MPI_SUCCESS;
}

static int fail_deletes;

static int count_delete(MPI_Comm comm, int keyval, void *val, void *extra)
{
	(void)comm, (void)keyval, (void)val;
	MT_CHECK(extra == &extra_token, "delete callback got the wrong extra_state");
	deletes++;
	return fail_deletes ? MPI_ERR_OTHER : MPI_SUCCESS;
}

static int self_delete(MPI_Comm comm, int keyval, void *val, void *extra)
{
	(void)keyval, (void)extra;
	self_deleted = comm == MPI_COMM_SELF && (intptr_t)val == 42;
	return MPI_SUCCESS;
}

static intptr_t get(MPI_Comm c, int k, int *flag)
{
	void *v = NULL;

	*flag = -1;
	MPI_Comm_get_attr(c, k, &v, flag);
	return (intptr_t)v;
}

static void test_basic(void)
{
	MPI_Comm c;
	int k, flag;

	MPI_Comm_dup(MPI_COMM_WORLD, &c);
	MPI_Comm_create_keyval(copy_plus_one, count_delete, &k, &extra_token);
	get(c, k, &flag);
	MT_EQ(flag, 0, "flag of an attribute not set");
	MPI_Comm_set_attr(c, k, (void *)(intptr_t)10);
	MT_EQ(get(c, k, &flag), 10, "value set");
	MPI_Comm_set_attr(c, k, (void *)(intptr_t)11);
	MT_EQ(deletes, 1, "overwriting runs the old value's delete");
	MT_EQ(get(c, k, &flag), 11, "value overwritten");
	MPI_Comm_delete_attr(c, k);
	MT_EQ(deletes, 2, "delete runs the callback");
	get(c, k, &flag);
	MT_EQ(flag, 0, "flag after delete");
	mt_say("set, get, overwrite and delete: %d delete callbacks", deletes);

	MPI_Comm_set_attr(c, k, (void *)(intptr_t)20);
	MPI_Comm d;
	MPI_Comm_dup(c, &d);
	MT_EQ(copies, 1, "dup runs the copy callback once");
	MT_EQ(get(d, k, &flag), 21, "the dup's copy");
	MT_EQ(get(c, k, &flag), 20, "the original after dup");

	MPI_Request r;
	MPI_Comm e;
	MPI_Comm_idup(c, &e, &r);
	MPI_Wait(&r, MPI_STATUS_IGNORE);
	MT_EQ(get(e, k, &flag), 21, "the idup's copy");
	int x = me, y = -1;
	MPI_Allreduce(&x, &y, 1, MPI_INT, MPI_SUM, e);
	MT_EQ(y, 1, "Allreduce on the idup");
	mt_say("dup and idup copy through the callback: 20 becomes 21");

	deletes = 0;
	MPI_Comm_free(&d);
	MPI_Comm_free(&e);
	MT_EQ(deletes, 2, "free runs the delete callbacks");

	/* A failing delete callback makes Comm_free fail; the communicator
	 * stays usable, and frees once the callback succeeds. */
	MPI_Comm_dup(c, &d);
	fail_deletes = 1;
	MPI_Comm_set_errhandler(d, MPI_ERRORS_RETURN);
	int rc = MPI_Comm_free(&d);
	MT_CHECK(rc != MPI_SUCCESS && d != MPI_COMM_NULL, "free with a failing delete succeeded");
	fail_deletes = 0;
	MPI_Allreduce(&x, &y, 1, MPI_INT, MPI_SUM, d);
	MT_EQ(y, 1, "Allreduce after a failed free");
	MT_EQ(MPI_Comm_free(&d), MPI_SUCCESS, "free once the callback succeeds");
	mt_say("a failing delete callback fails Comm_free and keeps the communicator");

	/* A freed keyval: its attributes live on and still get callbacks. */
	int kk = k;
	MPI_Comm_free_keyval(&kk);
	MT_EQ(kk, MPI_KEYVAL_INVALID, "free_keyval resets the keyval");
	MT_EQ(get(c, k, &flag), 20, "attribute of a freed keyval");
	deletes = 0;
	MPI_Comm_free(&c);
	MT_EQ(deletes, 1, "delete callback of a freed keyval's attribute");
	mt_say("a freed keyval's attribute lives on until its communicator goes");
}

static void test_predefined_copy(void)
{
	MPI_Comm c, d;
	int kdup, knull, kdecl, flag;

	MPI_Comm_dup(MPI_COMM_WORLD, &c);
	MPI_Comm_create_keyval(MPI_COMM_DUP_FN, MPI_COMM_NULL_DELETE_FN, &kdup, NULL);
	MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, MPI_COMM_NULL_DELETE_FN, &knull, NULL);
	MPI_Comm_create_keyval(copy_decline, MPI_COMM_NULL_DELETE_FN, &kdecl, NULL);
	MPI_Comm_set_attr(c, kdup, (void *)(intptr_t)5);
	MPI_Comm_set_attr(c, knull, (void *)(intptr_t)6);
	MPI_Comm_set_attr(c, kdecl, (void *)(intptr_t)7);
	MPI_Comm_dup(c, &d);
	MT_EQ(get(d, kdup, &flag), 5, "MPI_COMM_DUP_FN copies the value");
	get(d, knull, &flag);
	MT_EQ(flag, 0, "MPI_COMM_NULL_COPY_FN copies nothing");
	get(d, kdecl, &flag);
	MT_EQ(flag, 0, "a copy callback that sets flag 0 copies nothing");
	mt_say("MPI_COMM_DUP_FN copies, MPI_COMM_NULL_COPY_FN and flag 0 do not");
	MPI_Comm_free(&d);
	MPI_Comm_free(&c);
	MPI_Comm_free_keyval(&kdup);
	MPI_Comm_free_keyval(&knull);
	MPI_Comm_free_keyval(&kdecl);
}

/* Deprecated since MPI-2.0, still in the standard and in real codes. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static void test_mpi1_names(void)
{
	int k, flag = -1;
	void *v = NULL;

	MPI_Keyval_create(MPI_DUP_FN, MPI_NULL_DELETE_FN, &k, NULL);
	MPI_Attr_put(MPI_COMM_WORLD, k, (void *)(intptr_t)77);
	MPI_Attr_get(MPI_COMM_WORLD, k, &v, &flag);
	MT_CHECK(flag && (intptr_t)v == 77, "Attr_get after Attr_put");
	MPI_Attr_delete(MPI_COMM_WORLD, k);
	MPI_Attr_get(MPI_COMM_WORLD, k, &v, &flag);
	MT_EQ(flag, 0, "Attr_get after Attr_delete");
	MPI_Keyval_free(&k);
	mt_say("MPI-1 names: Keyval_create, Attr_put, Attr_get, Attr_delete");
}
#pragma GCC diagnostic pop

static int type_deletes;

static int type_delete(MPI_Datatype t, int keyval, void *val, void *extra)
{
	(void)keyval, (void)extra;
	MT_CHECK(t == MPI_INT && (intptr_t)val == 3, "type delete callback arguments");
	type_deletes++;
	return MPI_SUCCESS;
}

static int count_type_delete(MPI_Datatype t, int keyval, void *val, void *extra)
{
	(void)t, (void)keyval, (void)extra;
	MT_CHECK((intptr_t)val == 8, "derived type delete callback value");
	type_deletes++;
	return MPI_SUCCESS;
}

static void test_types(void)
{
	int k, flag = -1;
	void *v = NULL;

	MPI_Type_create_keyval(MPI_TYPE_NULL_COPY_FN, type_delete, &k, NULL);
	MPI_Type_set_attr(MPI_INT, k, (void *)(intptr_t)3);
	MPI_Type_get_attr(MPI_INT, k, &v, &flag);
	MT_CHECK(flag && (intptr_t)v == 3, "Type_get_attr on MPI_INT");
	MPI_Type_get_attr(MPI_DOUBLE, k, &v, &flag);
	MT_EQ(flag, 0, "the attribute is MPI_INT's, not MPI_DOUBLE's");
	MPI_Type_delete_attr(MPI_INT, k);
	MT_EQ(type_deletes, 1, "Type_delete_attr runs the callback");
	MPI_Type_free_keyval(&k);
	mt_say("datatype attributes on MPI_INT, with a delete callback");

	/* On derived types: Type_dup copies (MPI_TYPE_DUP_FN), Type_free
	 * deletes. */
	MPI_Datatype t2, t3;
	MPI_Type_contiguous(2, MPI_INT, &t2);
	MPI_Type_create_keyval(MPI_TYPE_DUP_FN, count_type_delete, &k, NULL);
	MPI_Type_set_attr(t2, k, (void *)(intptr_t)8);
	MPI_Type_dup(t2, &t3);
	MPI_Type_get_attr(t3, k, &v, &flag);
	MT_CHECK(flag && (intptr_t)v == 8, "Type_dup copies with MPI_TYPE_DUP_FN");
	type_deletes = 0;
	MPI_Type_free(&t3);
	MPI_Type_free(&t2);
	MT_EQ(type_deletes, 2, "Type_free runs the delete callbacks");
	MPI_Type_free_keyval(&k);
	mt_say("Type_dup copies a derived type's attribute, Type_free deletes both");
}

static void test_world(void)
{
	int *v, flag;

	MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &v, &flag);
	MT_CHECK(flag && *v >= 32767, "MPI_TAG_UB");
	MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_HOST, &v, &flag);
	MT_CHECK(flag && (*v == MPI_PROC_NULL || (*v >= 0 && *v < 2)), "MPI_HOST");
	MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_IO, &v, &flag);
	MT_CHECK(flag && (*v == MPI_ANY_SOURCE || *v == MPI_PROC_NULL || (*v >= 0 && *v < 2)),
		 "MPI_IO");
	MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_WTIME_IS_GLOBAL, &v, &flag);
	MT_CHECK(!flag || *v == 0 || *v == 1, "MPI_WTIME_IS_GLOBAL");
	MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_LASTUSEDCODE, &v, &flag);
	MT_CHECK(flag && *v >= MPI_ERR_LASTCODE, "MPI_LASTUSEDCODE");
	MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_UNIVERSE_SIZE, &v, &flag);
	MT_CHECK(!flag || *v >= 2, "MPI_UNIVERSE_SIZE");
	MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_APPNUM, &v, &flag);
	MT_CHECK(!flag || *v >= 0, "MPI_APPNUM");
	/* A dup carries the predefined attributes too. */
	MPI_Comm c;
	MPI_Comm_dup(MPI_COMM_WORLD, &c);
	MPI_Comm_get_attr(c, MPI_TAG_UB, &v, &flag);
	MT_CHECK(flag && *v >= 32767, "MPI_TAG_UB on a dup");
	MPI_Comm_free(&c);
	mt_say("predefined attributes of MPI_COMM_WORLD have standard values");
}

static void test_errors(void)
{
	int k, tk, flag;
	void *v;

	MT_EQ(error_class(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_KEYVAL_INVALID, &v, &flag)),
	      MPI_ERR_KEYVAL, "get with MPI_KEYVAL_INVALID");
	MPI_Type_create_keyval(MPI_TYPE_NULL_COPY_FN, MPI_TYPE_NULL_DELETE_FN, &tk, NULL);
	MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, MPI_COMM_NULL_DELETE_FN, &k, NULL);
	MT_CHECK(MPI_Comm_set_attr(MPI_COMM_WORLD, tk, NULL) != MPI_SUCCESS,
		 "a datatype keyval on a communicator");
	MT_CHECK(MPI_Type_set_attr(MPI_INT, k, NULL) != MPI_SUCCESS,
		 "a communicator keyval on a datatype");
	MPI_Comm_free_keyval(&k);
	MPI_Type_free_keyval(&tk);
	mt_say("errors: MPI_ERR_KEYVAL for MPI_KEYVAL_INVALID, keyvals of the wrong kind fail");
}

int main(int argc, char **argv)
{
	int k;

	MPI_Init(&argc, &argv);
	mt_begin("attr");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
	test_basic();
	test_predefined_copy();
	test_mpi1_names();
	test_types();
	test_world();
	test_errors();
	MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, self_delete, &k, NULL);
	MPI_Comm_set_attr(MPI_COMM_SELF, k, (void *)(intptr_t)42);
	mt_say("an attribute on MPI_COMM_SELF waits for MPI_Finalize");
	int total = mt_collect();
	MPI_Finalize();
	if (!self_deleted)
		MT_FAIL("MPI_Finalize did not run the delete callback of MPI_COMM_SELF's attribute");
	return mt_report(total + !self_deleted);
}
