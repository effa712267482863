/*
 * errors.c - error handling under MPI_ERRORS_RETURN: each invalid call
 * must return an error code whose class (MPI_Error_class) is the one the
 * standard names, with a non-empty MPI_Error_string, and leave the
 * communicator usable.  Covered: invalid rank, negative count, invalid
 * tag, MPI_COMM_NULL, a freed communicator handle, NULL buffer with a
 * positive count, invalid root, MPI_DATATYPE_NULL, MPI_OP_NULL, and a
 * message truncated by a too-small receive.  Only class names are
 * printed: numeric codes differ between MPIs.  (Contents of a truncated
 * receive buffer are undefined, so they are not checked.)
 */
/* ranks: 2 */
#include "mt.h"

static int me, peer;

/* Check that rc is an error of class want; print the expected class. */
static void expect_class(int rc, int want, const char *what)
{
	char msg[MPI_MAX_ERROR_STRING];
	int cls = -1, len = -1;

	MPI_Error_class(rc, &cls);
	MT_CHECK(cls == want, "%s: expected %s, got %s", what, mt_class_name(want),
		 mt_class_name(cls));
	msg[0] = '\0';
	MPI_Error_string(rc, msg, &len);
	MT_CHECK(len > 0 && len < MPI_MAX_ERROR_STRING && strlen(msg) == (size_t)len,
		 "%s: Error_string gave length %d", what, len);
	mt_say("%s: %s", what, mt_class_name(want));
}

/* The communicator still carries ordinary traffic after an error. */
static void check_usable(MPI_Comm c, const char *after)
{
	int out = me + 40, in = -1;

	MPI_Sendrecv(&out, 1, MPI_INT, peer, 5, &in, 1, MPI_INT, peer, 5, c, MPI_STATUS_IGNORE);
	MT_CHECK(in == peer + 40, "communication after %s got %d", after, in);
}

static void test_p2p_args(MPI_Comm c)
{
	int v = 1;

	expect_class(MPI_Send(&v, 1, MPI_INT, 99, 0, c), MPI_ERR_RANK, "send to rank 99");
	expect_class(MPI_Send(&v, 1, MPI_INT, -5, 0, c), MPI_ERR_RANK, "send to rank -5");
	expect_class(MPI_Send(&v, -1, MPI_INT, peer, 0, c), MPI_ERR_COUNT, "send count -1");
	expect_class(MPI_Send(&v, 1, MPI_INT, peer, -7, c), MPI_ERR_TAG, "send tag -7");
	expect_class(MPI_Recv(&v, 1, MPI_INT, peer, -7, c, MPI_STATUS_IGNORE), MPI_ERR_TAG,
		     "recv tag -7");
	expect_class(MPI_Send(NULL, 4, MPI_INT, peer, 0, c), MPI_ERR_BUFFER,
		     "send NULL buffer count 4");
	expect_class(MPI_Send(&v, 1, MPI_DATATYPE_NULL, peer, 0, c), MPI_ERR_TYPE,
		     "send MPI_DATATYPE_NULL");
	check_usable(c, "argument errors");
}

/* Open MPI's handles are pointers: a freed one is not detected (the
 * barrier succeeds, or crashes once the memory is reused).  MPICH and
 * dmtcp_mpi's virtual handles are table entries and are checked. */
static int validates_handles(void)
{
	char lib[MPI_MAX_LIBRARY_VERSION_STRING];
	int len = 0;

	MPI_Get_library_version(lib, &len);
	return strncmp(lib, "Open MPI", 8) != 0;
}

static void test_bad_comms(void)
{
	MPI_Comm d, stale;
	int v = 1;

	expect_class(MPI_Send(&v, 1, MPI_INT, peer, 0, MPI_COMM_NULL), MPI_ERR_COMM,
		     "send on MPI_COMM_NULL");
	expect_class(MPI_Barrier(MPI_COMM_NULL), MPI_ERR_COMM, "barrier on MPI_COMM_NULL");
	MPI_Comm_dup(MPI_COMM_WORLD, &d);
	stale = d;
	MPI_Comm_free(&d);
	if (validates_handles()) {
		int rc = MPI_Barrier(stale), cls = -1;

		MPI_Error_class(rc, &cls);
		MT_CHECK(cls == MPI_ERR_COMM, "barrier on a freed communicator: expected %s, got %s",
			 mt_class_name(MPI_ERR_COMM), mt_class_name(cls));
	}
	mt_say("barrier on a freed communicator: MPI_ERR_COMM where handles are validated");
	check_usable(MPI_COMM_WORLD, "communicator errors");
}

static void test_collective_args(MPI_Comm c)
{
	int v = 3, r = 0;

	expect_class(MPI_Bcast(&v, 1, MPI_INT, 99, c), MPI_ERR_ROOT, "bcast root 99");
	expect_class(MPI_Reduce(&v, &r, 1, MPI_INT, MPI_SUM, -3, c), MPI_ERR_ROOT,
		     "reduce root -3");
	expect_class(MPI_Allreduce(&v, &r, 1, MPI_INT, MPI_OP_NULL, c), MPI_ERR_OP,
		     "allreduce MPI_OP_NULL");
	expect_class(MPI_Bcast(&v, -2, MPI_INT, 0, c), MPI_ERR_COUNT, "bcast count -2");
	MPI_Allreduce(&v, &r, 1, MPI_INT, MPI_SUM, c);
	MT_EQ(r, 6, "allreduce after collective errors");
}

/* A receive too small for its message fails but consumes it. */
static void test_truncate(MPI_Comm c)
{
	int out[10], in[5];
	MPI_Status st;

	for (int i = 0; i < 10; i++)
		out[i] = i;
	if (me == 0) {
		expect_class(MPI_Send(out, 10, MPI_INT, 1, 9, c), MPI_SUCCESS, "send of 10 ints");
	} else {
		int rc = MPI_Recv(in, 5, MPI_INT, 0, 9, c, &st);
		int cls = -1;

		MPI_Error_class(rc, &cls);
		MT_CHECK(cls == MPI_ERR_TRUNCATE, "recv 10 ints into 5: expected %s, got %s",
			 mt_class_name(MPI_ERR_TRUNCATE), mt_class_name(cls));
	}
	check_usable(c, "truncation");
	mt_say("recv 10 ints into 5: %s on the receiver", mt_class_name(MPI_ERR_TRUNCATE));
}

int main(int argc, char **argv)
{
	MPI_Errhandler eh;
	MPI_Comm c;
	int size = 0;

	MPI_Init(&argc, &argv);
	mt_begin("errors");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != 2) {
		MT_FAIL("needs 2 ranks, got %d", size);
		return mt_finish();
	}
	peer = 1 - me;
	/* Errors without a valid communicator go to WORLD's handler in MPI-3.1
	 * (MPICH 4.0, Open MPI 4.1) and to SELF's from MPI-4.0 on. */
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
	MPI_Comm_dup(MPI_COMM_WORLD, &c);
	MPI_Comm_get_errhandler(c, &eh);
	MT_CHECK(eh == MPI_ERRORS_RETURN, "dup did not inherit MPI_ERRORS_RETURN");
	MPI_Errhandler_free(&eh);
	mt_say("dup inherits MPI_ERRORS_RETURN");

	test_p2p_args(c);
	test_bad_comms();
	test_collective_args(c);
	test_truncate(c);
	MPI_Comm_free(&c);
	return mt_finish();
}
