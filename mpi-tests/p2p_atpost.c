/*
 * p2p_atpost.c - nonblocking requests that are complete when they are
 * posted: a receive whose message is already there, an eager send.
 * Through dmtcp_mpi the proxy tests each new request once and the shim
 * completes it on the spot (CALL_ARG_DONE), so every completion call
 * below is answered from the application's records: the status, count,
 * data and error it reports must be what MPI reports natively.
 *
 *   arrived   rank 1 sends eight messages and both pass a barrier; rank 0
 *             then posts the receives and completes them with Test,
 *             Request_get_status + Wait, Waitall, Waitany, Testsome and a
 *             wildcard Wait, checking source, tag, count and data.
 *   truncate  messages longer than the receive buffer, already there:
 *             Wait reports MPI_ERR_TRUNCATE, Waitall MPI_ERR_IN_STATUS
 *             with the error in the status, a blocking Recv
 *             MPI_ERR_TRUNCATE.
 *   issend    an Issend is not complete before it is matched: Test stays
 *             false while the receiver waits for our go-ahead, then Wait
 *             completes it.
 *   isend     eager sends completed at once: Waitall, Test, and
 *             Request_free of one.
 *
 * thread_atpost.c runs the same under MPI_THREAD_MULTIPLE, where a
 * blocking Send or Recv is an Isend or Irecv plus Test polls in the shim.
 * Timing never changes the output: loops poll until a bound of 30 s.
 */
/* ranks: 2 */
#include "mt.h"

#include <unistd.h>

#ifndef ATPOST_NAME
#define ATPOST_NAME "p2p_atpost"
#endif

#define N 8
#define POLL_S 30.0

/* Rank 1 sends, rank 0 receives (and prints what it found). */
enum { RECEIVER = 0, SENDER = 1 };

static int me;

static int value(int tag, int i)
{
	return tag * 1000 + i;
}

static void send_tagged(int tag, int n)
{
	int buf[64];

	for (int i = 0; i < n; i++)
		buf[i] = value(tag, i);
	MPI_Send(buf, n, MPI_INT, RECEIVER, tag, MPI_COMM_WORLD);
}

static void check_msg(const char *how, const MPI_Status *st, const int *buf, int tag, int n)
{
	int got = -1;

	MPI_Get_count(st, MPI_INT, &got);
	MT_CHECK(st->MPI_SOURCE == SENDER && st->MPI_TAG == tag && got == n,
		 "%s: status source %d tag %d count %d, want %d %d %d", how, st->MPI_SOURCE,
		 st->MPI_TAG, got, SENDER, tag, n);
	for (int i = 0; i < n && i < got; i++)
		MT_CHECK(buf[i] == value(tag, i), "%s: element %d is %d", how, i, buf[i]);
}

/* Test until complete, or fail after POLL_S seconds. */
static void poll_test(MPI_Request *r, MPI_Status *st, const char *how)
{
	double end = MPI_Wtime() + POLL_S;
	int flag = 0;

	while (!flag && MPI_Wtime() < end)
		MPI_Test(r, &flag, st);
	MT_CHECK(flag, "%s: not complete after %.0f s", how, POLL_S);
}

static void arrived_receiver(void)
{
	static int buf[N][64];
	MPI_Request r[N];
	MPI_Status st, sts[3];
	int len[N], flag = 0, idx = -1, out = 0, ind[1];

	for (int k = 0; k < N; k++) {
		len[k] = 1 + 9 * k;
		int tag = k == N - 1 ? MPI_ANY_TAG : 10 + k;
		int src = k == N - 1 ? MPI_ANY_SOURCE : SENDER;
		MPI_Irecv(buf[k], 64, MPI_INT, src, tag, MPI_COMM_WORLD, &r[k]);
	}
	poll_test(&r[0], &st, "Test");
	check_msg("Test", &st, buf[0], 10, len[0]);
	MT_CHECK(r[0] == MPI_REQUEST_NULL, "Test left the request");

	double end = MPI_Wtime() + POLL_S;
	while (!flag && MPI_Wtime() < end)
		MPI_Request_get_status(r[1], &flag, &st);
	MT_CHECK(flag && r[1] != MPI_REQUEST_NULL, "Request_get_status: flag %d", flag);
	check_msg("Request_get_status", &st, buf[1], 11, len[1]);
	MPI_Wait(&r[1], &st);
	check_msg("Wait after Request_get_status", &st, buf[1], 11, len[1]);

	MPI_Waitall(3, &r[2], sts);
	for (int k = 2; k < 5; k++)
		check_msg("Waitall", &sts[k - 2], buf[k], 10 + k, len[k]);

	MPI_Request two[2] = { MPI_REQUEST_NULL, r[5] };
	MPI_Waitany(2, two, &idx, &st);
	MT_EQ(idx, 1, "Waitany index");
	check_msg("Waitany", &st, buf[5], 15, len[5]);

	end = MPI_Wtime() + POLL_S;
	while (out == 0 && MPI_Wtime() < end)
		MPI_Testsome(1, &r[6], &out, ind, &st);
	MT_CHECK(out == 1 && ind[0] == 0, "Testsome: outcount %d", out);
	check_msg("Testsome", &st, buf[6], 16, len[6]);

	MPI_Wait(&r[7], &st);
	check_msg("wildcard Wait", &st, buf[7], 17, len[7]);
}

static void test_arrived(void)
{
	if (me == SENDER)
		for (int k = 0; k < N; k++)
			send_tagged(10 + k, 1 + 9 * k);
	MPI_Barrier(MPI_COMM_WORLD);
	if (me == RECEIVER)
		arrived_receiver();
	mt_say("arrived: Test, Request_get_status, Waitall, Waitany, Testsome, "
	       "wildcard Wait: statuses and data ok");
}

/* The standard's name for the class of error code err. */
static const char *class_of(int err)
{
	int cls = -1;

	MPI_Error_class(err, &cls);
	return mt_class_name(cls);
}

static void test_truncate(void)
{
	int small[16], ok[4];
	MPI_Request r[2];
	MPI_Status st;
	const char *wait = "", *waitall = "", *in_status = "", *recv = "";

	if (me == SENDER) {
		send_tagged(30, 16);
		send_tagged(31, 16);
		send_tagged(32, 4);
		send_tagged(33, 16);
	}
	MPI_Barrier(MPI_COMM_WORLD);
	if (me == RECEIVER) {
		MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
		MPI_Irecv(small, 4, MPI_INT, SENDER, 30, MPI_COMM_WORLD, &r[0]);
		wait = class_of(MPI_Wait(&r[0], &st));
#ifdef ATPOST_MULTIPLE
		/* Open MPI 4.1's Waitall never returns here under MULTIPLE. */
		MPI_Recv(small, 16, MPI_INT, SENDER, 31, MPI_COMM_WORLD, &st);
		MPI_Recv(ok, 4, MPI_INT, SENDER, 32, MPI_COMM_WORLD, &st);
		waitall = in_status = "(not run)";
#else
		MPI_Status sts[2];
		MPI_Irecv(small, 4, MPI_INT, SENDER, 31, MPI_COMM_WORLD, &r[0]);
		MPI_Irecv(ok, 4, MPI_INT, SENDER, 32, MPI_COMM_WORLD, &r[1]);
		waitall = class_of(MPI_Waitall(2, r, sts));
		in_status = class_of(sts[0].MPI_ERROR);
		/* The other request may be left pending (MPICH does). */
		if (sts[1].MPI_ERROR == MPI_ERR_PENDING)
			MPI_Wait(&r[1], &sts[1]);
		check_msg("Waitall next to a truncated one", &sts[1], ok, 32, 4);
#endif
		recv = class_of(MPI_Recv(small, 4, MPI_INT, SENDER, 33, MPI_COMM_WORLD, &st));
		MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
	}
	mt_say("truncate: Wait returns %s", wait);
	mt_say("truncate: Waitall returns %s, the truncated status says %s", waitall, in_status);
	mt_say("truncate: Recv returns %s", recv);
}

static void test_issend(void)
{
	int v = 4242, w = 0, go = 1, flag = 0;
	MPI_Request r;
	MPI_Status st;

	if (me == SENDER) {
		MPI_Issend(&v, 1, MPI_INT, RECEIVER, 40, MPI_COMM_WORLD, &r);
		/* The receiver posts its receive only after our go-ahead. */
		for (int i = 0; i < 20 && !flag; i++) {
			MPI_Test(&r, &flag, MPI_STATUS_IGNORE);
			usleep(1000);
		}
		MT_EQ(flag, 0, "Issend complete before its receive was posted");
		MPI_Send(&go, 1, MPI_INT, RECEIVER, 41, MPI_COMM_WORLD);
		MPI_Wait(&r, MPI_STATUS_IGNORE);
	} else {
		MPI_Recv(&go, 1, MPI_INT, SENDER, 41, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		MPI_Recv(&w, 1, MPI_INT, SENDER, 40, MPI_COMM_WORLD, &st);
		MT_EQ(w, 4242, "Issend's data");
	}
	mt_say("issend: incomplete until matched, then complete");
}

static void test_isend(void)
{
	int out[N], in[N];
	MPI_Request r[N];
	MPI_Status st;

	if (me == SENDER) {
		for (int k = 0; k < N; k++) {
			out[k] = value(50, k);
			MPI_Isend(&out[k], 1, MPI_INT, RECEIVER, 50, MPI_COMM_WORLD, &r[k]);
		}
		MPI_Waitall(N - 2, r, MPI_STATUSES_IGNORE);
		for (int k = 0; k < N - 2; k++)
			MT_CHECK(r[k] == MPI_REQUEST_NULL, "Waitall left send %d", k);
		poll_test(&r[N - 2], &st, "Test of an Isend");
		MPI_Request_free(&r[N - 1]);
		MT_CHECK(r[N - 1] == MPI_REQUEST_NULL, "Request_free left the handle");
	} else {
		for (int k = 0; k < N; k++) {
			MPI_Recv(&in[k], 1, MPI_INT, SENDER, 50, MPI_COMM_WORLD, &st);
			MT_EQ(in[k], value(50, k), "Isend's data in order");
		}
	}
	MPI_Barrier(MPI_COMM_WORLD);
	mt_say("isend: %d sends complete, received in order", N);
}

int main(int argc, char **argv)
{
	int size = 0, provided = 0;

#ifdef ATPOST_MULTIPLE
	MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
#else
	MPI_Init(&argc, &argv);
#endif
	mt_begin(ATPOST_NAME);
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != 2) {
		MT_FAIL("needs 2 ranks, got %d", size);
		return mt_finish();
	}
#ifdef ATPOST_MULTIPLE
	MT_EQ(provided, MPI_THREAD_MULTIPLE, "thread level provided");
#else
	(void)provided;
#endif
	test_arrived();
	test_truncate();
	test_issend();
	test_isend();
	return mt_finish();
}
