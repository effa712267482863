/*
 * p2p_nonblock.c - nonblocking point-to-point and every completion call:
 * Isend/Irecv/Issend, Wait, Waitall, Waitany, Waitsome, Test, Testall,
 * Testany, Testsome (each also on all-null request arrays), Request_free
 * on an active send, Request_get_status (which must not free), Cancel of
 * an unmatched Irecv with Test_cancelled, and MPI_STATUS(ES)_IGNORE.
 * Only facts that every correct MPI makes deterministic are printed: which
 * requests completed, never in which order or after how many polls.
 */
/* ranks: 2 */
#include "mt.h"

#define K 16

static int me, peer;
static int in[K], out[K];
static MPI_Request rr[K], sr[K];

/* Post K receives and K sends (in reverse tag order) on tags base.. */
static void post(int base)
{
	for (int k = 0; k < K; k++) {
		in[k] = -1;
		MPI_Irecv(&in[k], 1, MPI_INT, peer, base + k, MPI_COMM_WORLD, &rr[k]);
	}
	for (int k = K - 1; k >= 0; k--) {
		out[k] = me * 1000 + base + k;
		MPI_Isend(&out[k], 1, MPI_INT, peer, base + k, MPI_COMM_WORLD, &sr[k]);
	}
}

static void verify(int base, int k, const MPI_Status *st, const char *how)
{
	int n = -1;

	MT_CHECK(rr[k] == MPI_REQUEST_NULL, "%s: completed request %d not set to null", how, k);
	MT_CHECK(in[k] == peer * 1000 + base + k, "%s: request %d received %d", how, k, in[k]);
	if (!st)
		return;
	MPI_Get_count(st, MPI_INT, &n);
	MT_CHECK(st->MPI_SOURCE == peer && st->MPI_TAG == base + k && n == 1,
		 "%s: request %d status source %d tag %d count %d", how, k, st->MPI_SOURCE,
		 st->MPI_TAG, n);
}

static void finish(const char *how, int completed)
{
	MPI_Waitall(K, sr, MPI_STATUSES_IGNORE);
	for (int k = 0; k < K; k++)
		MT_CHECK(sr[k] == MPI_REQUEST_NULL, "%s: send %d not null after Waitall", how, k);
	MT_EQ(completed, K, how);
	mt_say("%s: %d receives completed, data and statuses ok", how, completed);
}

/* An empty status: what completing a null or inactive request yields. */
static void check_empty(const MPI_Status *st, const char *how)
{
	int n = -1;

	MPI_Get_count(st, MPI_INT, &n);
	MT_CHECK(st->MPI_SOURCE == MPI_ANY_SOURCE && st->MPI_TAG == MPI_ANY_TAG && n == 0,
		 "%s: status of a null request is not empty", how);
}

static void test_wait_waitall(void)
{
	MPI_Status st, sts[K];
	int done = 0;

	post(100);
	for (int k = 0; k < K; k++, done++) {
		MPI_Wait(&rr[k], &st);
		verify(100, k, &st, "wait");
	}
	finish("wait", done);

	post(200);
	MPI_Waitall(K, rr, sts);
	for (int k = 0; k < K; k++)
		verify(200, k, &sts[k], "waitall");
	finish("waitall", K);

	post(300);
	MPI_Waitall(K, rr, MPI_STATUSES_IGNORE);
	for (int k = 0; k < K; k++)
		verify(300, k, NULL, "waitall statuses_ignore");
	finish("waitall statuses_ignore", K);

	MPI_Wait(&rr[0], &st);
	check_empty(&st, "wait on null");
}

static void test_waitany_waitsome(void)
{
	MPI_Status st, sts[K];
	int seen[K] = { 0 }, done = 0, idx = -1, outcount = -1, idxs[K];

	post(400);
	for (int i = 0; i < K; i++) {
		MPI_Waitany(K, rr, &idx, &st);
		if (idx < 0 || idx >= K || seen[idx]++) {
			MT_FAIL("waitany returned index %d", idx);
			break;
		}
		verify(400, idx, &st, "waitany");
		done++;
	}
	MPI_Waitany(K, rr, &idx, &st);
	MT_EQ(idx, MPI_UNDEFINED, "waitany on all-null requests");
	check_empty(&st, "waitany on all-null requests");
	finish("waitany", done);

	post(500);
	memset(seen, 0, sizeof seen);
	for (done = 0; done < K;) {
		MPI_Waitsome(K, rr, &outcount, idxs, sts);
		if (outcount < 1 || outcount > K - done) {
			MT_FAIL("waitsome outcount %d with %d pending", outcount, K - done);
			break;
		}
		for (int j = 0; j < outcount; j++) {
			MT_CHECK(!seen[idxs[j]]++, "waitsome reported %d twice", idxs[j]);
			verify(500, idxs[j], &sts[j], "waitsome");
		}
		done += outcount;
	}
	MPI_Waitsome(K, rr, &outcount, idxs, sts);
	MT_EQ(outcount, MPI_UNDEFINED, "waitsome on all-null requests");
	finish("waitsome", done);
}

static void test_test_family(void)
{
	MPI_Status st, sts[K];
	int flag = 0, done = 0, idx, outcount, idxs[K], seen[K] = { 0 };

	post(600);
	for (int k = 0; k < K; k++, done++) {
		for (flag = 0; !flag;)
			MPI_Test(&rr[k], &flag, &st);
		verify(600, k, &st, "test");
	}
	MPI_Test(&rr[0], &flag, &st);
	MT_EQ(flag, 1, "test on a null request");
	check_empty(&st, "test on a null request");
	finish("test", done);

	post(700);
	for (flag = 0; !flag;)
		MPI_Testall(K, rr, &flag, sts);
	for (int k = 0; k < K; k++)
		verify(700, k, &sts[k], "testall");
	finish("testall", K);

	post(800);
	for (done = 0; done < K;) {
		MPI_Testany(K, rr, &idx, &flag, &st);
		if (!flag)
			continue;
		if (idx < 0 || idx >= K || seen[idx]++) {
			MT_FAIL("testany returned index %d", idx);
			break;
		}
		verify(800, idx, &st, "testany");
		done++;
	}
	MPI_Testany(K, rr, &idx, &flag, &st);
	MT_CHECK(flag == 1 && idx == MPI_UNDEFINED, "testany on all-null: flag %d index %d", flag, idx);
	finish("testany", done);

	post(900);
	memset(seen, 0, sizeof seen);
	for (done = 0; done < K;) {
		MPI_Testsome(K, rr, &outcount, idxs, MPI_STATUSES_IGNORE);
		MT_CHECK(outcount >= 0 && outcount <= K - done, "testsome outcount %d", outcount);
		if (outcount < 0 || outcount > K - done)
			break;
		for (int j = 0; j < outcount; j++) {
			MT_CHECK(!seen[idxs[j]]++, "testsome reported %d twice", idxs[j]);
			verify(900, idxs[j], NULL, "testsome");
		}
		done += outcount;
	}
	MPI_Testsome(K, rr, &outcount, idxs, sts);
	MT_EQ(outcount, MPI_UNDEFINED, "testsome on all-null requests");
	finish("testsome", done);
}

/* An Issend cannot complete before its receive is posted. */
static void test_issend(void)
{
	int v = 42 + me, got = -1, flag = 1;
	MPI_Request rq;
	MPI_Status st;

	if (me == 0) {
		MPI_Issend(&v, 1, MPI_INT, 1, 77, MPI_COMM_WORLD, &rq);
		for (int i = 0; i < 100 && flag; i++)
			MPI_Test(&rq, &flag, MPI_STATUS_IGNORE);
		MT_EQ(flag, 0, "Issend completed before the receive was posted");
		MPI_Barrier(MPI_COMM_WORLD);
		MPI_Wait(&rq, MPI_STATUS_IGNORE);
	} else {
		MPI_Barrier(MPI_COMM_WORLD);
		MPI_Recv(&got, 1, MPI_INT, 0, 77, MPI_COMM_WORLD, &st);
		MT_EQ(got, 42, "Issend payload");
	}
	mt_say("issend: incomplete until matched, then delivered");
}

/* A freed send still delivers; the reply proves it left the buffer. */
static void test_request_free(void)
{
	int v = 1234, got = -1;
	MPI_Request rq;

	if (me == 0) {
		MPI_Isend(&v, 1, MPI_INT, 1, 88, MPI_COMM_WORLD, &rq);
		MPI_Request_free(&rq);
		MT_CHECK(rq == MPI_REQUEST_NULL, "Request_free did not null the handle");
		MPI_Recv(&got, 1, MPI_INT, 1, 89, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		MT_EQ(got, 1235, "reply to the freed send");
	} else {
		MPI_Recv(&got, 1, MPI_INT, 0, 88, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		MT_EQ(got, 1234, "payload of a freed send");
		got++;
		MPI_Send(&got, 1, MPI_INT, 0, 89, MPI_COMM_WORLD);
	}
	mt_say("request_free: freed active send delivered");
}

/* Many freed sends in a row (the shim reaps them as they finish): each
 * is delivered, in order, with its own payload. */
static void test_request_free_many(void)
{
	enum { MANY = 500 };
	static int v[MANY];
	int got = -1, bad = 0;
	MPI_Request rq;

	if (me == 0) {
		for (int i = 0; i < MANY; i++) {
			v[i] = 7 * i + 3;
			MPI_Isend(&v[i], 1, MPI_INT, 1, 91, MPI_COMM_WORLD, &rq);
			MPI_Request_free(&rq);
		}
		MPI_Recv(&got, 1, MPI_INT, 1, 92, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		MT_EQ(got, MANY, "freed sends the peer received");
	} else {
		for (int i = 0; i < MANY; i++) {
			MPI_Recv(&got, 1, MPI_INT, 0, 91, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			bad += got != 7 * i + 3;
		}
		MT_EQ(bad, 0, "freed sends with a wrong payload");
		got = MANY;
		MPI_Send(&got, 1, MPI_INT, 0, 92, MPI_COMM_WORLD);
	}
	mt_say("request_free: 500 freed active sends delivered in order");
}

/* Get_status reports without freeing; the send comes only after a barrier. */
static void test_get_status(void)
{
	int v = 55, got = -1, flag = 1;
	MPI_Request rq;
	MPI_Status st;

	if (me == 1) {
		MPI_Irecv(&got, 1, MPI_INT, 0, 90, MPI_COMM_WORLD, &rq);
		MPI_Request_get_status(rq, &flag, &st);
		MT_EQ(flag, 0, "Request_get_status before the send");
		MPI_Barrier(MPI_COMM_WORLD);
		for (flag = 0; !flag;)
			MPI_Request_get_status(rq, &flag, &st);
		MT_CHECK(rq != MPI_REQUEST_NULL, "Request_get_status freed the request");
		MT_CHECK(st.MPI_SOURCE == 0 && st.MPI_TAG == 90, "Request_get_status status");
		MPI_Wait(&rq, &st);
		MT_CHECK(st.MPI_SOURCE == 0 && st.MPI_TAG == 90 && got == 55, "Wait after get_status");
	} else {
		MPI_Barrier(MPI_COMM_WORLD);
		MPI_Send(&v, 1, MPI_INT, 1, 90, MPI_COMM_WORLD);
	}
	MPI_Request_get_status(MPI_REQUEST_NULL, &flag, &st);
	MT_EQ(flag, 1, "Request_get_status on MPI_REQUEST_NULL");
	mt_say("request_get_status: pending, then complete without freeing");
}

static void test_cancel(void)
{
	int got = -7, flag = 0;
	MPI_Request rq;
	MPI_Status st;

	MPI_Irecv(&got, 1, MPI_INT, peer, 999, MPI_COMM_WORLD, &rq);
	MPI_Cancel(&rq);
	MPI_Wait(&rq, &st);
	MPI_Test_cancelled(&st, &flag);
	MT_EQ(flag, 1, "Test_cancelled after cancelling an unmatched Irecv");
	MT_EQ(got, -7, "cancelled receive wrote to its buffer");
	/* The tag still works after a cancel; the barrier keeps this message
	 * from reaching a peer whose receive is not cancelled yet. */
	int v = me, w = -1;
	MPI_Barrier(MPI_COMM_WORLD);
	MPI_Sendrecv(&v, 1, MPI_INT, peer, 999, &w, 1, MPI_INT, peer, 999, MPI_COMM_WORLD, &st);
	MT_EQ(w, peer, "message on the cancelled tag");
	MPI_Test_cancelled(&st, &flag);
	MT_EQ(flag, 0, "Test_cancelled on a normal receive");
	mt_say("cancel: unmatched irecv cancelled, tag usable afterwards");
}

int main(int argc, char **argv)
{
	int size = 0;

	MPI_Init(&argc, &argv);
	mt_begin("p2p_nonblock");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != 2) {
		MT_FAIL("needs 2 ranks, got %d", size);
		return mt_finish();
	}
	peer = 1 - me;
	test_wait_waitall();
	test_waitany_waitsome();
	test_test_family();
	test_issend();
	test_request_free();
	test_request_free_many();
	test_get_status();
	test_cancel();
	return mt_finish();
}
