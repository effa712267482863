/*
 * thread_pcollfree.c - MPI_THREAD_MULTIPLE: threads of a rank free
 * persistent collectives that hold the last reference to a derived
 * datatype while other threads exchange messages with MPI_Waitall.
 *
 * Half the threads, per round, make a contiguous type, make an
 * MPI_Bcast_init with it on a communicator of their own, free the type
 * (the request holds it, as the application would) and free the request,
 * which drops the type's last reference: the shim then tells the proxy of
 * the dead type with a call of its own.  The other half post receives and
 * sends to the peer's thread of the same tag and complete them with
 * MPI_Waitall, whose completion takes the shim's state lock while it holds
 * the call slot.  A release that made its call with the state lock held
 * waited for the slot while the slot's holder waited for that lock: the
 * rank hung.
 *
 * Persistent collectives are MPI-4.0: natively under an older MPI (Open
 * MPI 4.1) the freeing threads only make and free the types, and the
 * output is the same.  Checked: every call's return code (errors
 * return), every payload.  Output: one verdict line.
 */
/* ranks: 2 */
#include "mt_threads.h"

#define NT 4            /* threads per rank: even ones free, odd ones exchange */
#define ROUNDS 3000     /* rounds per thread */
#define LEN 4           /* ints per message */

static int peer;
static MPI_Comm own[NT];  /* a communicator for each freeing thread */

/* A type whose last reference a persistent collective drops when freed. */
static int made_and_freed(int tag, int n)
{
	int buf[LEN];
	MPI_Datatype t;
	int err;

	if ((err = MPI_Type_contiguous(n, MPI_INT, &t)) || (err = MPI_Type_commit(&t)))
		return err;
#if MPI_VERSION >= 4
	MPI_Request r;
	if ((err = MPI_Bcast_init(buf, 1, t, 0, own[tag], MPI_INFO_NULL, &r))) {
		MPI_Type_free(&t);
		return err;
	}
	if ((err = MPI_Type_free(&t)))
		return err;
	return MPI_Request_free(&r);
#else
	(void)tag;
	(void)buf;
	return MPI_Type_free(&t);
#endif
}

static void freeing(int tag)
{
	for (int round = 0; round < ROUNDS; round++) {
		int err = made_and_freed(tag, 1 + round % LEN);
		CHECK(err == MPI_SUCCESS, "tag %d round %d: a call returned %d", tag, round, err);
		if (err)
			return;
	}
}

static int value(int tag, int round, int i)
{
	return (tag * ROUNDS + round) * LEN + i;
}

static void exchanging(int tag)
{
	int sbuf[LEN], rbuf[LEN];
	MPI_Request req[2];

	for (int round = 0; round < ROUNDS; round++) {
		memset(rbuf, 0xff, sizeof(rbuf));
		for (int i = 0; i < LEN; i++)
			sbuf[i] = value(tag, round, i);
		int err = MPI_Irecv(rbuf, LEN, MPI_INT, peer, tag, MPI_COMM_WORLD, &req[0]);
		if (!err)
			err = MPI_Isend(sbuf, LEN, MPI_INT, peer, tag, MPI_COMM_WORLD, &req[1]);
		if (!err)
			err = MPI_Waitall(2, req, MPI_STATUSES_IGNORE);
		CHECK(err == MPI_SUCCESS, "tag %d round %d: a call returned %d", tag, round, err);
		if (err)
			return;
		for (int i = 0; i < LEN; i++)
			CHECK(rbuf[i] == value(tag, round, i), "tag %d round %d: int %d is %d",
			      tag, round, i, rbuf[i]);
	}
}

static void *run(void *arg)
{
	int tag = (int)(intptr_t)arg;

	if (tag % 2 == 0)
		freeing(tag);
	else
		exchanging(tag);
	return NULL;
}

int main(int argc, char **argv)
{
	if (!mt_init_multiple(&argc, &argv, "thread_pcollfree"))
		return mt_finish();
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN); /* datatype errors */
	peer = 1 - mt_rank();
	for (int t = 0; t < NT; t += 2)
		MPI_Comm_dup(MPI_COMM_SELF, &own[t]);
	mt_run_threads(NT, run);
	for (int t = 0; t < NT; t += 2)
		MPI_Comm_free(&own[t]);
	mt_say("%d threads x %d rounds: half free types held by persistent collectives, "
	       "half exchange with MPI_Waitall", NT, ROUNDS);
	return mt_finish();
}
