/*
 * p2p_greq.c - generalized requests: Test before MPI_Grequest_complete
 * (not complete), Wait after it (query_fn fills the status, free_fn runs
 * once with extra_state), MPI_Cancel calls cancel_fn with the completion
 * state, a completed generalized request in Waitall next to an
 * ordinary receive, and one not complete yet in every call on arrays
 * next to receives that complete meanwhile.  The callbacks are the
 * application's: they must run in the application, with its data.
 */
/* ranks: 2 */
#include "mt.h"

struct op {
	int queries, frees, cancels, last_complete;
	int tag;                 /* what query_fn reports */
};

static int query_fn(void *extra, MPI_Status *status)
{
	struct op *o = extra;

	o->queries++;
	status->MPI_SOURCE = 1234;
	status->MPI_TAG = o->tag;
	MPI_Status_set_cancelled(status, 0);
	MPI_Status_set_elements(status, MPI_INT, 6);
	return MPI_SUCCESS;
}

static int free_fn(void *extra)
{
	((struct op *)extra)->frees++;
	return MPI_SUCCESS;
}

static int cancel_fn(void *extra, int complete)
{
	struct op *o = extra;

	o->cancels++;
	o->last_complete = complete;
	return MPI_SUCCESS;
}

static void test_wait_test(void)
{
	struct op o = { 0, 0, 0, -1, 17 };
	MPI_Request r;
	MPI_Status st;
	int flag = -1, n = -1;

	MPI_Grequest_start(query_fn, free_fn, cancel_fn, &o, &r);
	MPI_Test(&r, &flag, &st);
	MT_EQ(flag, 0, "Test before Grequest_complete");
	MT_CHECK(r != MPI_REQUEST_NULL, "Test freed an incomplete request");
	MPI_Cancel(&r);
	MT_EQ(o.cancels, 1, "cancel_fn calls");
	MT_EQ(o.last_complete, 0, "cancel_fn complete flag before completion");
	MPI_Grequest_complete(r);
	MPI_Wait(&r, &st);
	MT_CHECK(r == MPI_REQUEST_NULL, "Wait left the generalized request");
	MT_CHECK(o.queries >= 1, "query_fn not called");
	MT_EQ(o.frees, 1, "free_fn calls");
	MT_EQ(st.MPI_SOURCE, 1234, "status source from query_fn");
	MT_EQ(st.MPI_TAG, 17, "status tag from query_fn");
	MPI_Get_count(&st, MPI_INT, &n);
	MT_EQ(n, 6, "status count from query_fn");
	mt_say("generalized request: test, cancel, complete, wait with query/free");
}

static void test_waitall(void)
{
	struct op o = { 0, 0, 0, -1, 23 };
	MPI_Request r[2];
	MPI_Status st[2];
	int v = -1, me = mt_rank();

	if (me == 0) {
		int w = 99;
		MPI_Send(&w, 1, MPI_INT, 1, 4, MPI_COMM_WORLD);
		return;
	}
	MPI_Irecv(&v, 1, MPI_INT, 0, 4, MPI_COMM_WORLD, &r[0]);
	MPI_Grequest_start(query_fn, free_fn, cancel_fn, &o, &r[1]);
	MPI_Grequest_complete(r[1]);
	MPI_Cancel(&r[1]);
	MT_EQ(o.last_complete, 1, "cancel_fn complete flag after completion");
	MPI_Waitall(2, r, st);
	MT_EQ(v, 99, "Waitall receive");
	MT_EQ(st[1].MPI_TAG, 23, "Waitall status of the generalized request");
	MT_EQ(o.frees, 1, "free_fn calls after Waitall");
	MT_CHECK(r[0] == MPI_REQUEST_NULL && r[1] == MPI_REQUEST_NULL,
		 "Waitall left a request");
}

/* Generalized requests not complete yet next to receives: the calls on
 * arrays report the receives and leave the generalized request pending,
 * until MPI_Grequest_complete. */
static void test_mixed(void)
{
	struct op o = { 0, 0, 0, -1, 31 };
	MPI_Request r[2];
	MPI_Status st[2];
	int v = -1, idx = -1, n = -1, flag = -1, me = mt_rank(), ind[2];

	if (me == 0) {
		for (int tag = 7; tag <= 10; tag++) {
			if (tag == 8)
				MPI_Recv(&v, 1, MPI_INT, 1, 8, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			else
				MPI_Send(&tag, 1, MPI_INT, 1, tag, MPI_COMM_WORLD);
		}
		return;
	}
	MPI_Grequest_start(query_fn, free_fn, cancel_fn, &o, &r[0]);
	MPI_Irecv(&v, 1, MPI_INT, 0, 7, MPI_COMM_WORLD, &r[1]);
	MPI_Waitany(2, r, &idx, &st[0]);
	MT_EQ(idx, 1, "Waitany index with a generalized request pending");
	MT_EQ(v, 7, "Waitany receive");
	MT_CHECK(r[0] != MPI_REQUEST_NULL && r[1] == MPI_REQUEST_NULL,
		 "Waitany changed the wrong handle");
	MPI_Testall(2, r, &flag, st);
	MT_EQ(flag, 0, "Testall with a generalized request pending");
	flag = -1;
	MPI_Testany(2, r, &idx, &flag, &st[0]);
	MT_EQ(flag, 0, "Testany with only a generalized request pending");
	MT_EQ(idx, MPI_UNDEFINED, "Testany index with nothing complete");
	MPI_Testsome(2, r, &n, ind, st);
	MT_EQ(n, 0, "Testsome outcount with a generalized request pending");
	MPI_Irecv(&v, 1, MPI_INT, 0, 9, MPI_COMM_WORLD, &r[1]);
	MPI_Send(&me, 1, MPI_INT, 0, 8, MPI_COMM_WORLD);
	MPI_Waitsome(2, r, &n, ind, st);
	MT_EQ(n, 1, "Waitsome outcount with a generalized request pending");
	MT_EQ(ind[0], 1, "Waitsome index");
	MT_EQ(v, 9, "Waitsome receive");
	MT_EQ(o.queries + o.frees, 0, "callbacks run before completion");
	MPI_Grequest_complete(r[0]);
	MPI_Irecv(&v, 1, MPI_INT, 0, 10, MPI_COMM_WORLD, &r[1]);
	MPI_Waitall(2, r, st);
	MT_EQ(v, 10, "Waitall receive after Grequest_complete");
	MT_EQ(st[0].MPI_TAG, 31, "Waitall status of the generalized request");
	MT_EQ(o.frees, 1, "free_fn calls after Waitall");
	MT_CHECK(r[0] == MPI_REQUEST_NULL && r[1] == MPI_REQUEST_NULL,
		 "Waitall left a request");
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	mt_begin("p2p_greq");
	test_wait_test();
	test_waitall();
	mt_say("generalized request in waitall with a receive");
	test_mixed();
	mt_say("pending generalized request in Waitany, Testall, Testany, Testsome, "
	       "Waitsome, Waitall with receives");
	return mt_finish();
}
