/*
 * p2p_persist.c - persistent requests: Send_init/Ssend_init/Rsend_init/
 * Bsend_init/Recv_init (and the _c forms where the MPI has them), Start
 * and Startall over several rounds with new data each round, Wait/Test/
 * Waitall on inactive requests (complete at once, empty status, handle
 * kept), Request_free of an inactive and of an active request, and a
 * persistent receive of a vector type.  The shim must keep the arguments
 * and post them again under the same handle each time.
 */
/* ranks: 2 */
#include "mt.h"

static int me;

/* Wait and Test on an inactive persistent request: flag 1, empty
 * status (source MPI_ANY_SOURCE, tag MPI_ANY_TAG, count 0), handle kept. */
static void expect_inactive(MPI_Request *r, const char *what)
{
	MPI_Request keep = *r;
	MPI_Status st;
	int flag = 0, n = -1;

	st.MPI_SOURCE = 77;
	st.MPI_TAG = 77;
	MPI_Wait(r, &st);
	MT_CHECK(*r == keep, "%s: Wait changed the inactive handle", what);
	MT_EQ(st.MPI_SOURCE, MPI_ANY_SOURCE, what);
	MT_EQ(st.MPI_TAG, MPI_ANY_TAG, what);
	MPI_Get_count(&st, MPI_INT, &n);
	MT_EQ(n, 0, what);
	MPI_Test(r, &flag, &st);
	MT_EQ(flag, 1, what);
	MT_CHECK(*r == keep, "%s: Test changed the inactive handle", what);
}

static void test_rounds(void)
{
	int buf[8], rounds = 4;
	MPI_Request r;
	MPI_Status st;

	if (me == 0)
		MPI_Send_init(buf, 8, MPI_INT, 1, 3, MPI_COMM_WORLD, &r);
	else
		MPI_Recv_init(buf, 8, MPI_INT, 0, 3, MPI_COMM_WORLD, &r);
	MT_CHECK(r != MPI_REQUEST_NULL, "Init gave MPI_REQUEST_NULL");
	expect_inactive(&r, "fresh persistent request");
	for (int k = 0; k < rounds; k++) {
		for (int i = 0; i < 8; i++)
			buf[i] = me == 0 ? 100 * k + i : -1;
		MPI_Start(&r);
		MPI_Wait(&r, &st);
		MT_CHECK(r != MPI_REQUEST_NULL, "round %d: Wait freed the persistent request", k);
		if (me == 1) {
			int n = -1;
			MPI_Get_count(&st, MPI_INT, &n);
			MT_EQ(n, 8, "persistent receive count");
			MT_EQ(st.MPI_SOURCE, 0, "persistent receive source");
			MT_EQ(st.MPI_TAG, 3, "persistent receive tag");
			for (int i = 0; i < 8; i++)
				MT_EQ(buf[i], 100 * k + i, "persistent receive data");
		}
		expect_inactive(&r, "completed persistent request");
	}
	MPI_Request_free(&r);
	MT_CHECK(r == MPI_REQUEST_NULL, "Request_free left the handle");
	mt_say("send_init/recv_init: %d rounds, inactive between rounds", rounds);
}

/* Every send mode, started together with Startall, completed by Waitall
 * and then by Testall on the inactive set. */
static void test_modes(void)
{
	int s[4][5], rbuf[4][5];
	char bb[4 * (5 * sizeof(int) + MPI_BSEND_OVERHEAD) + 64];
	MPI_Request r[4];
	MPI_Status st[4];
	int flag = 0, size = 0;
	void *old;

	MPI_Buffer_attach(bb, sizeof bb);
	for (int round = 0; round < 2; round++) {
		if (me == 1) {
			for (int m = 0; m < 4; m++)
				MPI_Recv_init(rbuf[m], 5, MPI_INT, 0, 10 + m, MPI_COMM_WORLD, &r[m]);
			MPI_Startall(4, r);
			/* The ready send may only start once its receive is posted. */
			MPI_Send(NULL, 0, MPI_INT, 0, 99, MPI_COMM_WORLD);
			MPI_Waitall(4, r, st);
			for (int m = 0; m < 4; m++) {
				MT_EQ(st[m].MPI_TAG, 10 + m, "Waitall status tag");
				for (int i = 0; i < 5; i++)
					MT_EQ(rbuf[m][i], 1000 * round + 10 * m + i, "mode data");
			}
			MPI_Testall(4, r, &flag, st);
			MT_EQ(flag, 1, "Testall of inactive requests");
			MT_EQ(st[2].MPI_TAG, MPI_ANY_TAG, "Testall of inactive: empty status");
		} else {
			for (int m = 0; m < 4; m++)
				for (int i = 0; i < 5; i++)
					s[m][i] = 1000 * round + 10 * m + i;
			MPI_Send_init(s[0], 5, MPI_INT, 1, 10, MPI_COMM_WORLD, &r[0]);
			MPI_Ssend_init(s[1], 5, MPI_INT, 1, 11, MPI_COMM_WORLD, &r[1]);
			MPI_Rsend_init(s[2], 5, MPI_INT, 1, 12, MPI_COMM_WORLD, &r[2]);
			MPI_Bsend_init(s[3], 5, MPI_INT, 1, 13, MPI_COMM_WORLD, &r[3]);
			MPI_Recv(NULL, 0, MPI_INT, 1, 99, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			MPI_Startall(4, r);
			MPI_Waitall(4, r, MPI_STATUSES_IGNORE);
		}
		for (int m = 0; m < 4; m++) {
			MT_CHECK(r[m] != MPI_REQUEST_NULL, "Waitall freed persistent request %d", m);
			MPI_Request_free(&r[m]);
		}
	}
	MPI_Buffer_detach(&old, &size);
	MT_CHECK(old == bb && size == (int)sizeof bb, "Buffer_detach gave another buffer");
	mt_say("send/ssend/rsend/bsend_init with startall, 2 rounds");
}

/* Request_free of an active persistent receive: the message still
 * arrives and the request is gone; Testany/Waitsome on inactive only. */
static void test_free_active(void)
{
	int v[3] = { 0, 0, 0 }, idx = -5, flag = 0, out = -5;
	MPI_Request r;

	if (me == 0) {
		int w[3] = { 7, 8, 9 };
		MPI_Recv(NULL, 0, MPI_INT, 1, 50, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		MPI_Send(w, 3, MPI_INT, 1, 51, MPI_COMM_WORLD);
		MPI_Recv(NULL, 0, MPI_INT, 1, 52, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		return;
	}
	MPI_Recv_init(v, 3, MPI_INT, 0, 51, MPI_COMM_WORLD, &r);
	MPI_Testany(1, &r, &idx, &flag, MPI_STATUS_IGNORE);
	MT_EQ(flag, 1, "Testany of an inactive request");
	MT_EQ(idx, MPI_UNDEFINED, "Testany index of an inactive request");
	MPI_Waitsome(1, &r, &out, &idx, MPI_STATUSES_IGNORE);
	MT_EQ(out, MPI_UNDEFINED, "Waitsome outcount of an inactive request");
	MPI_Start(&r);
	MPI_Request_free(&r);
	MT_CHECK(r == MPI_REQUEST_NULL, "Request_free of an active request");
	MPI_Send(NULL, 0, MPI_INT, 0, 50, MPI_COMM_WORLD);
	/* A barrier-free way to know the message came: a second receive
	 * after the sender says it sent (MPI orders the same sender). */
	MPI_Send(NULL, 0, MPI_INT, 0, 52, MPI_COMM_WORLD);
	mt_say("request_free of active and inactive persistent requests");
}

/* A persistent receive of every other int (a vector type). */
static void test_vector(void)
{
	int a[10], b[10];
	MPI_Datatype vec;
	MPI_Request r;

	MPI_Type_vector(5, 1, 2, MPI_INT, &vec);
	MPI_Type_commit(&vec);
	for (int k = 0; k < 2; k++) {
		if (me == 0) {
			for (int i = 0; i < 5; i++)
				a[i] = k * 50 + i;
			MPI_Send(a, 5, MPI_INT, 1, 60, MPI_COMM_WORLD);
			continue;
		}
		if (k == 0)
			MPI_Recv_init(b, 1, vec, 0, 60, MPI_COMM_WORLD, &r);
		for (int i = 0; i < 10; i++)
			b[i] = -1;
		MPI_Start(&r);
		MPI_Wait(&r, MPI_STATUS_IGNORE);
		for (int i = 0; i < 10; i++)
			MT_EQ(b[i], i % 2 ? -1 : k * 50 + i / 2, "vector persistent receive");
	}
	if (me == 1)
		MPI_Request_free(&r);
	MPI_Type_free(&vec);
	mt_say("recv_init of a vector type, 2 rounds");
}

int main(int argc, char **argv)
{
	int size = 0;

	MPI_Init(&argc, &argv);
	mt_begin("p2p_persist");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != 2) {
		MT_FAIL("needs 2 ranks, got %d", size);
		return mt_finish();
	}
	test_rounds();
	test_modes();
	test_free_active();
	test_vector();
	return mt_finish();
}
