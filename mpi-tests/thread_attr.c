/*
 * thread_attr.c - MPI_THREAD_MULTIPLE: threads of a rank set, read and
 * delete attributes of objects of their own, and make and free keyvals,
 * all at once.
 *
 * Each thread, per round, sets an attribute on a communicator of its own,
 * reads it back and deletes it, and makes and frees a keyval; every
 * TYPE_EVERY rounds it also makes a contiguous type, sets an attribute on
 * it, reads it back and frees the type (which deletes the attribute).  MPI lets threads do this on different objects at
 * the same time; the shim keeps every object's attributes in one list and
 * every keyval in one table (shim/attr.c), which the threads then share:
 * an attribute lost or read from freed memory, or a keyval's record that
 * moved while in use, fails a check or the rank.
 *
 * Checked: every call's return code (errors return), every flag and value
 * read back.  Output: one verdict line.
 */
/* ranks: 2 */
#include "mt_threads.h"

#define NT 4            /* threads per rank */
#define ROUNDS 40000    /* rounds per thread */
#define TYPE_EVERY 16   /* rounds per type made (a call to the proxy) */

static MPI_Comm own[NT];
static int type_key, comm_key;

/* The value an attribute of thread tag holds in round: a distinct address. */
static int slots[NT][2];

static int type_attr(int tag)
{
	MPI_Datatype t;
	void *got = NULL;
	int flag = 0, err;

	if ((err = MPI_Type_contiguous(1 + tag, MPI_INT, &t)) ||
	    (err = MPI_Type_set_attr(t, type_key, &slots[tag][0])) ||
	    (err = MPI_Type_get_attr(t, type_key, &got, &flag)))
		return err;
	CHECK(flag && got == &slots[tag][0], "thread %d: type attribute flag %d, %s value",
	      tag, flag, got == &slots[tag][0] ? "right" : "wrong");
	return MPI_Type_free(&t);
}

static int comm_attr(int tag)
{
	void *got = NULL;
	int flag = 0, err;

	if ((err = MPI_Comm_set_attr(own[tag], comm_key, &slots[tag][1])) ||
	    (err = MPI_Comm_get_attr(own[tag], comm_key, &got, &flag)))
		return err;
	CHECK(flag && got == &slots[tag][1], "thread %d: communicator attribute flag %d, %s value",
	      tag, flag, got == &slots[tag][1] ? "right" : "wrong");
	if ((err = MPI_Comm_delete_attr(own[tag], comm_key)) ||
	    (err = MPI_Comm_get_attr(own[tag], comm_key, &got, &flag)))
		return err;
	CHECK(!flag, "thread %d: communicator attribute still there after its delete", tag);
	return MPI_SUCCESS;
}

static int keyval_made_and_freed(void)
{
	int k, err = MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, MPI_COMM_NULL_DELETE_FN, &k,
					    NULL);

	return err ? err : MPI_Comm_free_keyval(&k);
}

static void *run(void *arg)
{
	int tag = (int)(intptr_t)arg;

	for (int round = 0; round < ROUNDS; round++) {
		int err = round % TYPE_EVERY ? MPI_SUCCESS : type_attr(tag);
		if (!err)
			err = comm_attr(tag);
		if (!err)
			err = keyval_made_and_freed();
		CHECK(err == MPI_SUCCESS, "thread %d round %d: a call returned %d", tag, round,
		      err);
		if (err)
			return NULL;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (!mt_init_multiple(&argc, &argv, "thread_attr"))
		return mt_finish();
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN); /* datatype errors */
	MPI_Type_create_keyval(MPI_TYPE_NULL_COPY_FN, MPI_TYPE_NULL_DELETE_FN, &type_key, NULL);
	MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, MPI_COMM_NULL_DELETE_FN, &comm_key, NULL);
	for (int t = 0; t < NT; t++) {
		MPI_Comm_dup(MPI_COMM_SELF, &own[t]);
		MPI_Comm_set_errhandler(own[t], MPI_ERRORS_RETURN);
	}
	mt_run_threads(NT, run);
	for (int t = 0; t < NT; t++)
		MPI_Comm_free(&own[t]);
	MPI_Type_free_keyval(&type_key);
	MPI_Comm_free_keyval(&comm_key);
	mt_say("%d threads x %d rounds of attributes on their own objects and keyvals",
	       NT, ROUNDS);
	return mt_finish();
}
