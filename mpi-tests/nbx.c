/*
 * nbx.c - the nonblocking consensus exchange (NBX, Hoefler et al.; how
 * PETSc's PetscCommBuildTwoSided finds who sends to whom): each rank
 * Issends to a few targets the receivers do not know of, then receives
 * whatever MPI_Iprobe finds until an MPI_Ibarrier, entered once all its
 * own Issends completed, completes.  It is right only because a
 * synchronous send completes once its receive has started: when the
 * barrier completes, every message of the round has been received.  A
 * checkpoint that completed an Issend while its message sat unreceived
 * (drained) could let the receiver leave the round without it.
 *
 * Rounds of random sparse targets (1 or 2 messages each, mostly a few
 * ints, now and then 128 KiB), all on one tag.  Every rank can compute
 * what every other rank sends (same generator), so each checks that it
 * received exactly its messages, each with the round, sender and index
 * in its data, and that nothing is left once the barrier has completed.
 * It also checks the rule itself, which a lost message needs bad timing
 * to show: each receiver notes the time just before it calls MPI_Recv,
 * an Allgather brings those to the senders, and each Issend must have
 * been seen complete no earlier (CLOCK_MONOTONIC: only when every rank
 * runs on one host).  Under ckpt_all's pauses a rank sleeps at each
 * mt_say while the others' Issends to it wait, so a checkpoint at a
 * random moment often finds such sends to drain.
 */
/* ranks: 3 */
#include "mt.h"

enum { ROUNDS = 120, TAG = 7, MAXRANKS = 8, MAXMSG = 2 * MAXRANKS, BIG = 32768,
       SAY_EVERY = 20 };

static int me, size, one_host;

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* The messages src sends in round r: dest[i] and len[i] (ints), for
 * i < return value. */
static int plan(int r, int src, int *dest, int *len)
{
	uint32_t s = 2654435761u * (uint32_t)(r + 1) ^ 40503u * (uint32_t)(src + 7);
	int n = 0;

	for (int k = 0; k < 8; k++)
		rnd(&s);
	for (int d = 0; d < size; d++) {
		if (rnd(&s) % 100 >= 45)
			continue;
		int m = 1 + (int)(rnd(&s) % 2);
		for (int j = 0; j < m; j++) {
			dest[n] = d;
			len[n] = rnd(&s) % 9 == 0 ? BIG : 2 + (int)(rnd(&s) % 16);
			n++;
		}
	}
	return n;
}

/* Word k of message i of src in round r; word 0 is i itself. */
static int word(int r, int src, int i, int k)
{
	return k == 0 ? i : r * 100003 + src * 1009 + i * 101 + k;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Receive the message st announced; note when the receive started in
 * started[src][i].  Returns 1. */
static int take(int r, const MPI_Status *probed, int *in, int64_t started[][MAXMSG])
{
	int src = probed->MPI_SOURCE, count = 0, bad = 0;
	int64_t t = now_ns();

	MPI_Recv(in, BIG, MPI_INT, src, TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	MPI_Get_count(probed, MPI_INT, &count);
	int i = in[0];
	if (i < 0 || i >= MAXMSG) {
		MT_FAIL("round %d: message index %d from rank %d", r, i, src);
		return 1;
	}
	started[src][i] = t;
	for (int k = 1; k < count; k++)
		bad += in[k] != word(r, src, i, k);
	MT_CHECK(!bad, "round %d: %d wrong ints from rank %d", r, bad, src);
	return 1;
}

/* One round; returns the messages this rank received. */
static int round_of(int r, int **bufs, int *in)
{
	int dest[MAXMSG], len[MAXMSG], expect = 0, got = 0, done = 0, active = 0;
	int n = plan(r, me, dest, len), left = n;
	MPI_Request sends[MAXMSG], barrier = MPI_REQUEST_NULL;
	int64_t seen[MAXMSG];                      /* when each Issend was seen complete */
	static int64_t started[MAXRANKS][MAXRANKS][MAXMSG]; /* [receiver][src][i] */

	for (int src = 0; src < size; src++) {
		int d[MAXMSG], l[MAXMSG], m = plan(r, src, d, l);
		for (int i = 0; i < m; i++)
			expect += d[i] == me;
	}
	memset(started[me], 0, sizeof(started[me]));
	for (int i = 0; i < n; i++) {
		for (int k = 0; k < len[i]; k++)
			bufs[i][k] = word(r, me, i, k);
		MPI_Issend(bufs[i], len[i], MPI_INT, dest[i], TAG, MPI_COMM_WORLD, &sends[i]);
	}
	while (!done) {
		int flag = 0, idx[MAXMSG], nd = 0;
		MPI_Status st;
		MPI_Iprobe(MPI_ANY_SOURCE, TAG, MPI_COMM_WORLD, &flag, &st);
		if (flag)
			got += take(r, &st, in, started[me]);
		if (active) {
			MPI_Test(&barrier, &done, MPI_STATUS_IGNORE);
		} else if (left) {
			MPI_Testsome(n, sends, &nd, idx, MPI_STATUSES_IGNORE);
			int64_t t = now_ns();
			for (int k = 0; k < nd && nd != MPI_UNDEFINED; k++)
				seen[idx[k]] = t;
			left -= nd == MPI_UNDEFINED ? 0 : nd;
		} else {
			MPI_Ibarrier(MPI_COMM_WORLD, &barrier);
			active = 1;
		}
	}
	int stray = 0;
	MPI_Iprobe(MPI_ANY_SOURCE, TAG, MPI_COMM_WORLD, &stray, MPI_STATUS_IGNORE);
	MT_CHECK(got == expect && !stray, "round %d: received %d of %d messages%s", r, got,
		 expect, stray ? ", one still there after the barrier" : "");
	MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, started,
		      MAXRANKS * MAXMSG * (int)sizeof(int64_t), MPI_BYTE, MPI_COMM_WORLD);
	for (int i = 0; i < n && one_host; i++)
		MT_CHECK(seen[i] >= started[dest[i]][me][i],
			 "round %d: Issend %d to rank %d complete %.3f ms before its receive "
			 "started", r, i, dest[i], (started[dest[i]][me][i] - seen[i]) / 1e6);
	return got;
}

/* Every rank on this one's host: their clocks can be compared. */
static int same_host(void)
{
	char name[MPI_MAX_PROCESSOR_NAME] = { 0 }, root[MPI_MAX_PROCESSOR_NAME];
	int len = 0, differ = 0, any = 0;

	MPI_Get_processor_name(name, &len);
	memcpy(root, name, sizeof(root));
	MPI_Bcast(root, sizeof(root), MPI_CHAR, 0, MPI_COMM_WORLD);
	differ = strcmp(root, name) != 0;
	MPI_Allreduce(&differ, &any, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
	return !any;
}

int main(int argc, char **argv)
{
	int total = 0, *bufs[MAXMSG], *in;

	MPI_Init(&argc, &argv);
	mt_begin("nbx");
	me = mt_rank();
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size > MAXRANKS) {
		MT_FAIL("at most %d ranks", MAXRANKS);
		return mt_finish();
	}
	one_host = same_host();
	for (int i = 0; i < MAXMSG; i++)
		if (!(bufs[i] = malloc(BIG * sizeof(int))))
			MPI_Abort(MPI_COMM_WORLD, 3);
	if (!(in = malloc(BIG * sizeof(int))))
		MPI_Abort(MPI_COMM_WORLD, 3);
	for (int r = 0; r < ROUNDS; r++) {
		int mine = round_of(r, bufs, in), all = 0;
		MPI_Reduce(&mine, &all, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
		total += all;
		if ((r + 1) % SAY_EVERY == 0) {
			mt_say("rounds %d-%d: %d messages", r + 1 - SAY_EVERY, r, total);
			total = 0;
		}
	}
	for (int i = 0; i < MAXMSG; i++)
		free(bufs[i]);
	free(in);
	return mt_finish();
}
