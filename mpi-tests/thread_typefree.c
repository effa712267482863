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
#include "mt_threads.h"

#define NT 4            /* threads per rank */
#define ROUNDS 3000     /* types per thread */
#define LEN 8           /* most ints per message */

static int peer;

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
	if (!mt_init_multiple(&argc, &argv, "thread_typefree"))
		return mt_finish();
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN); /* datatype errors */
	peer = 1 - mt_rank();
	mt_run_threads(NT, run);
	mt_say("%d threads x %d contiguous types, each freed while its receive is pending",
	       NT, ROUNDS);
	return mt_finish();
}
