/*
 * p2p_many.c - volume: thousands of outstanding requests at once, matched
 * by tag against sends posted in the opposite order; and unexpected
 * messages, i.e. a thousand sends of mixed sizes that reach the receiver
 * before it has posted anything (the barrier orders it), received in
 * order afterwards.  A proxy that serialises requests or loses queued
 * messages fails here; rank 0 prints checksums of all data received.
 */
/* ranks: 2 */
#include "mt.h"

#define NREQ 1500
#define NUNEXP 1000
#define MAXLEN 4096

static int me, peer;

static void show_hash(const char *what, uint64_t h)
{
	uint64_t all[2] = { 0, 0 };

	MPI_Gather(&h, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
	mt_say("%s: %016llx %016llx", what, (unsigned long long)all[0], (unsigned long long)all[1]);
}

/* Each rank has 2 * NREQ requests in flight before it waits on any. */
static void test_outstanding(void)
{
	static int in[NREQ], out[NREQ];
	static MPI_Request rq[2 * NREQ];
	static MPI_Status st[2 * NREQ];
	int bad = 0;

	for (int t = 0; t < NREQ; t++) {
		in[t] = -1;
		MPI_Irecv(&in[t], 1, MPI_INT, peer, t, MPI_COMM_WORLD, &rq[t]);
	}
	for (int t = NREQ - 1; t >= 0; t--) {
		out[t] = me * 1000000 + t * 3;
		MPI_Isend(&out[t], 1, MPI_INT, peer, t, MPI_COMM_WORLD, &rq[NREQ + t]);
	}
	MPI_Waitall(2 * NREQ, rq, st);
	for (int t = 0; t < NREQ; t++)
		bad += in[t] != peer * 1000000 + t * 3 || st[t].MPI_TAG != t || st[t].MPI_SOURCE != peer;
	MT_EQ(bad, 0, "outstanding receives with wrong data or status");
	mt_say("outstanding: %d receives and %d sends in flight per rank", NREQ, NREQ);
	show_hash("outstanding", mt_hash(MT_HASH_INIT, in, sizeof in));
}

static int msg_len(int i)
{
	return 1 + (i * 37) % MAXLEN;
}

static void test_unexpected(void)
{
	static unsigned char out[NUNEXP][MAXLEN];
	static unsigned char in[MAXLEN], want[MAXLEN];
	static MPI_Request rq[NUNEXP];
	uint64_t h = MT_HASH_INIT;
	MPI_Status st;
	int bad = 0, n;

	if (me == 0) {
		for (int i = 0; i < NUNEXP; i++) {
			mt_pattern(out[i], msg_len(i), i);
			MPI_Isend(out[i], msg_len(i), MPI_BYTE, 1, 7, MPI_COMM_WORLD, &rq[i]);
		}
		MPI_Barrier(MPI_COMM_WORLD);
		MPI_Waitall(NUNEXP, rq, MPI_STATUSES_IGNORE);
	} else {
		MPI_Barrier(MPI_COMM_WORLD);
		for (int i = 0; i < NUNEXP; i++) {
			MPI_Recv(in, MAXLEN, MPI_BYTE, 0, 7, MPI_COMM_WORLD, &st);
			MPI_Get_count(&st, MPI_BYTE, &n);
			mt_pattern(want, msg_len(i), i);
			bad += n != msg_len(i) || memcmp(in, want, msg_len(i)) != 0;
			h = mt_hash(h, in, n > 0 ? n : 0);
		}
		MT_EQ(bad, 0, "unexpected messages wrong, short or out of order");
	}
	mt_say("unexpected: %d messages of 1..%d bytes sent before any receive", NUNEXP, MAXLEN);
	show_hash("unexpected", h);
}

int main(int argc, char **argv)
{
	int size = 0;

	MPI_Init(&argc, &argv);
	mt_begin("p2p_many");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != 2) {
		MT_FAIL("needs 2 ranks, got %d", size);
		return mt_finish();
	}
	peer = 1 - me;
	test_outstanding();
	test_unexpected();
	return mt_finish();
}
