/*
 * thread_typefree.c - MPI_THREAD_MULTIPLE: several threads of a rank make
 * and free derived datatypes while receives with them complete.
 *
 * Each thread, per round, makes a contiguous type, posts a receive of
 * one element of it from the peer's thread of the same tag, frees the
 * type at once (the pending receive keeps it alive, as MPI says) and
 * waits for the receive; the next round makes the next type.  A type's
 * record thus dies when its receive completes, in one thread, while
 * other threads make and free types.  The shim tells the proxy of dead
 * types in batches (shim/typeops.c): a record that died while another
 * thread was sending a batch must be neither lost nor sent twice, or a
 * handle index is freed twice and a live type of another thread loses
 * its handle ("not a valid datatype") or its real type in the proxy.
 *
 * Checked: every call's return code (errors return), every payload and
 * every receive's count.  Output: one verdict line.
 */
/* ranks: 2 */
#include "mt.h"

#include <pthread.h>

#define NT 4            /* threads per rank */
#define ROUNDS 3000     /* types per thread */
#define LEN 8           /* most ints per message */

static pthread_mutex_t fail_mu = PTHREAD_MUTEX_INITIALIZER;
static int peer;

/* mt.h's records are not thread-safe. */
#define CHECK(cond, ...) do { if (!(cond)) { pthread_mutex_lock(&fail_mu); \
	mt_fail_at(__LINE__, __VA_ARGS__); pthread_mutex_unlock(&fail_mu); } } while (0)

static int value(int tag, int round, int i)
{
	return (tag * ROUNDS + round) * LEN + i;
}

/* One round: a type of n ints, a receive with it, the type freed, the
 * send, both waited for.  Returns the first error. */
static int round_trip(int tag, int n, int *sbuf, int *rbuf, int *count)
{
	MPI_Datatype t;
	MPI_Request rr, sr;
	MPI_Status st;
	int err;

	if ((err = MPI_Type_contiguous(n, MPI_INT, &t)) || (err = MPI_Type_commit(&t)))
		return err;
	err = MPI_Irecv(rbuf, 1, t, peer, tag, MPI_COMM_WORLD, &rr);
	int ferr = MPI_Type_free(&t);
	if (err || (err = ferr))
		return err;
	if ((err = MPI_Isend(sbuf, n, MPI_INT, peer, tag, MPI_COMM_WORLD, &sr)))
		return err;
	if ((err = MPI_Wait(&rr, &st)) || (err = MPI_Wait(&sr, MPI_STATUS_IGNORE)))
		return err;
	return MPI_Get_count(&st, MPI_INT, count);
}

static void *run(void *arg)
{
	int tag = (int)(intptr_t)arg;
	int sbuf[LEN], rbuf[LEN];

	for (int round = 0; round < ROUNDS; round++) {
		int n = 1 + (tag + round) % LEN, count = -1;

		memset(rbuf, 0xff, sizeof(rbuf));
		for (int i = 0; i < n; i++)
			sbuf[i] = value(tag, round, i);
		int err = round_trip(tag, n, sbuf, rbuf, &count);
		CHECK(err == MPI_SUCCESS, "tag %d round %d: a call returned %d", tag, round, err);
		if (err)
			return NULL;
		CHECK(count == n, "tag %d round %d: count %d, expected %d", tag, round, count, n);
		for (int i = 0; i < n; i++)
			CHECK(rbuf[i] == value(tag, round, i), "tag %d round %d: int %d is %d",
			      tag, round, i, rbuf[i]);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[NT];
	int provided;

	MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
	mt_begin("thread_typefree");
	if (provided < MPI_THREAD_MULTIPLE) {
		MT_FAIL("MPI_THREAD_MULTIPLE not provided (%d)", provided);
		return mt_finish();
	}
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN); /* datatype errors */
	peer = 1 - mt_rank();
	int started = 0;
	while (started < NT && pthread_create(&th[started], NULL, run,
					      (void *)(intptr_t)started) == 0)
		started++;
	CHECK(started == NT, "only %d of %d threads started", started, NT);
	for (int t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	mt_say("%d threads x %d contiguous types, each freed while its receive is pending",
	       NT, ROUNDS);
	return mt_finish();
}
