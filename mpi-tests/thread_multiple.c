/*
 * thread_multiple.c - MPI_THREAD_MULTIPLE: several threads of a rank in MPI
 * at once, each blocked where MPI lets it block, and nothing deadlocks.
 *
 *   crossed   rank 0's thread A waits in MPI_Recv for what rank 1 sends
 *             only after it received what rank 0's thread B sends; and
 *             the mirror with MPI_Ssend on rank 1: a call that kept the
 *             rank's only way into MPI while it waits would hang here.
 *   pingpong  NT threads per rank, thread t ping-pongs with the peer's
 *             thread t on tag t (Send/Recv, Sendrecv, Isend/Irecv/Waitall,
 *             Probe + Recv by turns), payloads checked both ways.
 *   coll      NCOLL threads per rank each run collectives on their own
 *             duplicate of MPI_COMM_WORLD while another ping-pongs on
 *             MPI_COMM_WORLD.
 *   dup       two threads per rank duplicate two different communicators
 *             in opposite orders: rank 0 is in the dup of P0 and rank 1
 *             in that of P1 before rank 1's other thread receives the
 *             message that lets it dup P0.  A dup that kept the rank's
 *             way into MPI while it waits for the other members would
 *             (most likely) hang here.
 *
 * Thread levels are checked too.  Output: the verdict per part (rank 0).
 */
#include "mt.h"

#include <pthread.h>

#define NT 4            /* ping-pong threads per rank */
#define ROUNDS 200      /* ping-pongs per thread */
#define LEN 64          /* ints per message */
#define COLL_ROUNDS 100
#define NCOLL 2         /* collective threads per rank */

static pthread_mutex_t fail_mu = PTHREAD_MUTEX_INITIALIZER;
static int rank, peer;

/* mt.h's records are not thread-safe. */
#define CHECK(cond, ...) do { if (!(cond)) { pthread_mutex_lock(&fail_mu); \
	mt_fail_at(__LINE__, __VA_ARGS__); pthread_mutex_unlock(&fail_mu); } } while (0)

static void fill(int *v, int tag, int round, int from)
{
	for (int i = 0; i < LEN; i++)
		v[i] = tag * 1000003 + round * 101 + from * 7 + i;
}

static void expect(const int *v, int tag, int round, int from, const char *what)
{
	int want[LEN];

	fill(want, tag, round, from);
	CHECK(memcmp(v, want, sizeof(want)) == 0, "%s: tag %d round %d: wrong payload",
	      what, tag, round);
}

/* ---- crossed ---- */

static void *crossed_recv(void *arg)
{
	int v[LEN];
	MPI_Status st;

	(void)arg;
	MPI_Recv(v, LEN, MPI_INT, 1, 1, MPI_COMM_WORLD, &st);
	expect(v, 1, 0, 1, "crossed recv");
	CHECK(st.MPI_SOURCE == 1 && st.MPI_TAG == 1, "crossed recv: status %d/%d",
	      st.MPI_SOURCE, st.MPI_TAG);
	return NULL;
}

static void *crossed_send(void *arg)
{
	int v[LEN];

	(void)arg;
	fill(v, 2, 0, 0);
	MPI_Send(v, LEN, MPI_INT, 1, 2, MPI_COMM_WORLD);
	return NULL;
}

static void *crossed_ssend(void *arg)
{
	int v[LEN];

	(void)arg;
	fill(v, 3, 0, 1);
	MPI_Ssend(v, LEN, MPI_INT, 0, 3, MPI_COMM_WORLD);
	return NULL;
}

static void *crossed_recv4(void *arg)
{
	int v[LEN];

	(void)arg;
	MPI_Recv(v, LEN, MPI_INT, 0, 4, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	expect(v, 4, 0, 0, "crossed recv 4");
	return NULL;
}

static void two_threads(void *(*a)(void *), void *(*b)(void *))
{
	pthread_t ta, tb;

	pthread_create(&ta, NULL, a, NULL);
	pthread_create(&tb, NULL, b, NULL);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
}

static void crossed(void)
{
	int v[LEN];

	if (rank == 0) {
		/* Thread A is in Recv(tag 1) before or while B sends tag 2. */
		two_threads(crossed_recv, crossed_send);
		/* Rank 1's Ssend(tag 3) waits for our Recv, which comes after
		 * our Ssend(tag 4) that its other thread must receive. */
		fill(v, 4, 0, 0);
		MPI_Ssend(v, LEN, MPI_INT, 1, 4, MPI_COMM_WORLD);
		MPI_Recv(v, LEN, MPI_INT, 1, 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		expect(v, 3, 0, 1, "crossed recv 3");
	} else if (rank == 1) {
		MPI_Recv(v, LEN, MPI_INT, 0, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		expect(v, 2, 0, 0, "crossed recv 2");
		fill(v, 1, 0, 1);
		MPI_Send(v, LEN, MPI_INT, 0, 1, MPI_COMM_WORLD);
		two_threads(crossed_ssend, crossed_recv4);
	}
	mt_say("crossed: done");
}

/* ---- ping-pong, one style per thread ---- */

static void exchange(int t, int round, MPI_Comm comm)
{
	int out[LEN], in[LEN];
	int style = t % 4, first = rank == 0;
	MPI_Request rq[2];
	MPI_Status st;

	fill(out, t, round, rank);
	switch (style) {
	case 0: /* Send then Recv, or the other way round */
		if (first)
			MPI_Send(out, LEN, MPI_INT, peer, t, comm);
		MPI_Recv(in, LEN, MPI_INT, peer, t, comm, &st);
		if (!first)
			MPI_Send(out, LEN, MPI_INT, peer, t, comm);
		break;
	case 1:
		MPI_Sendrecv(out, LEN, MPI_INT, peer, t, in, LEN, MPI_INT, peer, t, comm, &st);
		break;
	case 2:
		MPI_Irecv(in, LEN, MPI_INT, peer, t, comm, &rq[0]);
		MPI_Isend(out, LEN, MPI_INT, peer, t, comm, &rq[1]);
		MPI_Waitall(2, rq, MPI_STATUSES_IGNORE);
		st.MPI_SOURCE = peer;
		st.MPI_TAG = t;
		break;
	default: /* Probe, then Recv what it announced; Ssend the other way */
		if (first)
			MPI_Ssend(out, LEN, MPI_INT, peer, t, comm);
		MPI_Probe(peer, t, comm, &st);
		MPI_Recv(in, LEN, MPI_INT, st.MPI_SOURCE, st.MPI_TAG, comm, &st);
		if (!first)
			MPI_Ssend(out, LEN, MPI_INT, peer, t, comm);
		break;
	}
	expect(in, t, round, peer, "pingpong");
	CHECK(st.MPI_SOURCE == peer && st.MPI_TAG == t, "pingpong thread %d: status %d/%d",
	      t, st.MPI_SOURCE, st.MPI_TAG);
}

static void *pingpong_thread(void *arg)
{
	int t = (int)(intptr_t)arg;

	for (int i = 0; i < ROUNDS; i++)
		exchange(t, i, MPI_COMM_WORLD);
	return NULL;
}

static void pingpong(void)
{
	pthread_t th[NT];

	for (int t = 0; t < NT; t++)
		pthread_create(&th[t], NULL, pingpong_thread, (void *)(intptr_t)t);
	for (int t = 0; t < NT; t++)
		pthread_join(th[t], NULL);
	mt_say("pingpong: %d threads x %d rounds done", NT, ROUNDS);
}

/* ---- collectives on per-thread communicators, next to p2p ---- */

static MPI_Comm dups[NCOLL];

static void *coll_thread(void *arg)
{
	int k = (int)(intptr_t)arg, size;
	MPI_Comm comm = dups[k];

	MPI_Comm_size(comm, &size);
	for (int i = 0; i < COLL_ROUNDS; i++) {
		int in = rank + i + k, sum = 0, root = i % size, b = rank == root ? i * 3 + k : -1;
		MPI_Allreduce(&in, &sum, 1, MPI_INT, MPI_SUM, comm);
		CHECK(sum == size * (size - 1) / 2 + size * (i + k),
		      "coll %d round %d: Allreduce %d", k, i, sum);
		MPI_Bcast(&b, 1, MPI_INT, root, comm);
		CHECK(b == i * 3 + k, "coll %d round %d: Bcast %d", k, i, b);
		MPI_Barrier(comm);
	}
	return NULL;
}

static void coll(void)
{
	pthread_t th[NCOLL + 1];

	for (int k = 0; k < NCOLL; k++)
		MPI_Comm_dup(MPI_COMM_WORLD, &dups[k]);
	for (int k = 0; k < NCOLL; k++)
		pthread_create(&th[k], NULL, coll_thread, (void *)(intptr_t)k);
	/* Thread index NT + 1: a tag no ping-pong thread used. */
	pthread_create(&th[NCOLL], NULL, pingpong_thread, (void *)(intptr_t)(NT + 1));
	for (int k = 0; k <= NCOLL; k++)
		pthread_join(th[k], NULL);
	for (int k = 0; k < NCOLL; k++)
		MPI_Comm_free(&dups[k]);
	mt_say("coll: %d communicator(s) x %d rounds next to p2p done", NCOLL, COLL_ROUNDS);
}

/* ---- communicator duplicates in crossed orders ---- */

static MPI_Comm dup_parent[2], dup_child[2];

/* Dup parent k, then check the child is a working copy of it. */
static void dup_and_check(int k)
{
	int size = 0, psize = -1, sum = 0;

	MPI_Comm_dup(dup_parent[k], &dup_child[k]);
	MPI_Comm_size(dup_child[k], &size);
	MPI_Comm_size(dup_parent[k], &psize);
	CHECK(size == psize, "dup %d: size %d, parent's %d", k, size, psize);
	MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, dup_child[k]);
	CHECK(sum == size * (size - 1) / 2, "dup %d: Allreduce %d", k, sum);
}

/* Rank 0 dups P0 at once, rank 1 P1. */
static void *dup_first(void *arg)
{
	(void)arg;
	dup_and_check(rank == 0 ? 0 : 1);
	return NULL;
}

/* Rank 1 dups P0 only once rank 0's message came.  Every dup is started
 * without waiting for another to finish (Open MPI 4.1 itself hangs
 * otherwise: it advances only the oldest pending dup of a process). */
static void *dup_second(void *arg)
{
	int go = 1;

	(void)arg;
	if (rank == 0) {
		MPI_Send(&go, 1, MPI_INT, 1, 50, MPI_COMM_WORLD);
		dup_and_check(1);
	} else {
		MPI_Recv(&go, 1, MPI_INT, 0, 50, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		dup_and_check(0);
	}
	return NULL;
}

static void dup_crossed(void)
{
	for (int k = 0; k < 2; k++)
		MPI_Comm_dup(MPI_COMM_WORLD, &dup_parent[k]);
	two_threads(dup_first, dup_second);
	for (int k = 0; k < 2; k++) {
		MPI_Comm_free(&dup_child[k]);
		MPI_Comm_free(&dup_parent[k]);
	}
	mt_say("dup: two communicators duplicated in crossed orders");
}

int main(int argc, char **argv)
{
	int provided = -1, level = -1, main_flag = 0, size;

	MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
	mt_begin("thread_multiple");
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	peer = rank ^ 1;
	MT_EQ(provided, MPI_THREAD_MULTIPLE, "provided");
	MPI_Query_thread(&level);
	MT_EQ(level, MPI_THREAD_MULTIPLE, "MPI_Query_thread");
	MPI_Is_thread_main(&main_flag);
	MT_EQ(main_flag, 1, "MPI_Is_thread_main on the main thread");
	mt_say("provided MPI_THREAD_MULTIPLE: %s", provided == MPI_THREAD_MULTIPLE ? "yes" : "no");
	if (size % 2 == 0 && provided == MPI_THREAD_MULTIPLE) {
		crossed();
		pingpong();
		coll();
		dup_crossed();
	}
	return mt_finish();
}
