/*
 * p2p_wildcard.c - wildcard receives: MPI_ANY_SOURCE and MPI_ANY_TAG alone
 * and together, blocking and nonblocking, and Probe with wildcards followed
 * by a receive of exactly the probed message.  Every payload carries its
 * sender, sequence number and tag, so the status of each receive can be
 * checked against it, and order per sender must hold even under wildcards.
 * Arrival order across senders is not deterministic, so what is printed is
 * order-independent: counts per sender and a commutative checksum.
 */
/* ranks: 3 */
#include "mt.h"

#define M 60
#define MAXN 8

static int me;

/* Payload: {source, seq, tag, filler...}, 3..MAXN ints. */
static int len_of(int src, int seq)
{
	return 3 + (src * 5 + seq) % (MAXN - 2);
}

static int tag_of(int src, int seq)
{
	return src * 100 + seq % 5;
}

static void send_stream(int count)
{
	int msg[MAXN];

	for (int seq = 0; seq < count; seq++) {
		int n = len_of(me, seq);

		msg[0] = me;
		msg[1] = seq;
		msg[2] = tag_of(me, seq);
		for (int j = 3; j < n; j++)
			msg[j] = me * seq + j;
		MPI_Send(msg, n, MPI_INT, 0, msg[2], MPI_COMM_WORLD);
	}
}

/* Check one received message against its status; returns its sender. */
static int check_msg(const int *msg, const MPI_Status *st, int *next_seq, uint64_t *sum)
{
	int n = -1, src = msg[0];

	MPI_Get_count(st, MPI_INT, &n);
	if (src < 1 || src > 2 || st->MPI_SOURCE != src) {
		MT_FAIL("payload from %d but status source %d", src, st->MPI_SOURCE);
		return -1;
	}
	MT_CHECK(st->MPI_TAG == msg[2] && msg[2] == tag_of(src, msg[1]),
		 "status tag %d, payload tag %d", st->MPI_TAG, msg[2]);
	MT_CHECK(n == len_of(src, msg[1]), "count %d for message %d from %d", n, msg[1], src);
	MT_CHECK(msg[1] == next_seq[src], "message %d from %d arrived before %d",
		 msg[1], src, next_seq[src]);
	next_seq[src] = msg[1] + 1;
	*sum += mt_hash(MT_HASH_INIT, msg, n > 0 ? (size_t)n * sizeof *msg : 0);
	return src;
}

static void test_any_any(void)
{
	int msg[MAXN], next[3] = { 0 }, from[3] = { 0 };
	uint64_t sum = 0;
	MPI_Status st;

	if (me != 0) {
		send_stream(M);
		return;
	}
	for (int i = 0; i < 2 * M; i++) {
		int src;

		if (i % 2) {
			MPI_Recv(msg, MAXN, MPI_INT, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
		} else {
			MPI_Request rq;

			MPI_Irecv(msg, MAXN, MPI_INT, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &rq);
			MPI_Wait(&rq, &st);
		}
		src = check_msg(msg, &st, next, &sum);
		if (src > 0)
			from[src]++;
	}
	MT_CHECK(from[1] == M && from[2] == M, "received %d from 1, %d from 2", from[1], from[2]);
	mt_say("any_source+any_tag: %d from rank 1, %d from rank 2, sum %016llx",
	       from[1], from[2], (unsigned long long)sum);
}

/* ANY_SOURCE with a fixed tag, and ANY_TAG with a fixed source. */
static void test_half_wild(void)
{
	int v, got[3] = { 0 };
	MPI_Status st;

	if (me != 0) {
		v = me * 10 + 7;
		MPI_Send(&v, 1, MPI_INT, 0, 7, MPI_COMM_WORLD);
		v = me * 10 + 8;
		MPI_Send(&v, 1, MPI_INT, 0, 8, MPI_COMM_WORLD);
		return;
	}
	/* Tag 8 first: both tag-7 messages must stay queued meanwhile. */
	for (int tag = 8; tag >= 7; tag--)
		for (int i = 0; i < 2; i++) {
			MPI_Recv(&v, 1, MPI_INT, MPI_ANY_SOURCE, tag, MPI_COMM_WORLD, &st);
			MT_CHECK(st.MPI_TAG == tag && v == st.MPI_SOURCE * 10 + tag,
				 "any_source tag %d: got %d from %d", tag, v, st.MPI_SOURCE);
			if (st.MPI_SOURCE == 1 || st.MPI_SOURCE == 2)
				got[st.MPI_SOURCE]++;
		}
	MT_CHECK(got[1] == 2 && got[2] == 2, "any_source: %d from 1, %d from 2", got[1], got[2]);
	mt_say("any_source with fixed tag: 2 from each sender, tag order kept");
}

static void test_any_tag_fixed_source(void)
{
	int v;
	MPI_Status st;

	if (me != 0) {
		for (int i = 0; i < 3; i++) {
			v = me * 100 + i;
			MPI_Send(&v, 1, MPI_INT, 0, 40 + i * me, MPI_COMM_WORLD);
		}
		return;
	}
	for (int src = 2; src >= 1; src--)
		for (int i = 0; i < 3; i++) {
			MPI_Recv(&v, 1, MPI_INT, src, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
			MT_CHECK(st.MPI_SOURCE == src && st.MPI_TAG == 40 + i * src && v == src * 100 + i,
				 "any_tag from %d: value %d tag %d", src, v, st.MPI_TAG);
		}
	mt_say("any_tag with fixed source: order per source kept, tags reported");
}

/* Probe decides source, tag and size; the receive then names them exactly. */
static void test_probe_wild(void)
{
	int msg[MAXN], next[3] = { 0 }, n = -1;
	uint64_t sum = 0;
	MPI_Status st, st2;

	if (me != 0) {
		send_stream(M / 2);
		return;
	}
	for (int i = 0; i < M; i++) {
		MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
		MPI_Get_count(&st, MPI_INT, &n);
		MT_CHECK(n >= 3 && n <= MAXN, "probed count %d", n);
		if (n < 3 || n > MAXN)
			break;
		MPI_Recv(msg, n, MPI_INT, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, &st2);
		MT_CHECK(st2.MPI_SOURCE == st.MPI_SOURCE && st2.MPI_TAG == st.MPI_TAG,
			 "receive after probe got another message");
		check_msg(msg, &st2, next, &sum);
	}
	mt_say("probe any/any then exact recv: %d messages, sum %016llx", M, (unsigned long long)sum);
}

int main(int argc, char **argv)
{
	int size = 0;

	MPI_Init(&argc, &argv);
	mt_begin("p2p_wildcard");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != 3) {
		MT_FAIL("needs 3 ranks, got %d", size);
		return mt_finish();
	}
	test_any_any();
	MPI_Barrier(MPI_COMM_WORLD);
	test_half_wild();
	MPI_Barrier(MPI_COMM_WORLD);
	test_any_tag_fixed_source();
	MPI_Barrier(MPI_COMM_WORLD);
	test_probe_wild();
	return mt_finish();
}
