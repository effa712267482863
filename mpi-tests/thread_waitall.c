/*
 * thread_waitall.c - MPI_THREAD_MULTIPLE: several threads of a rank
 * complete windows of requests with MPI_Waitall while the others post
 * new ones.
 *
 * Each thread posts, per round, WINDOW receives from the peer's thread of
 * the same tag and WINDOW sends to it, then waits for all of them.  Some
 * of the requests are complete when they are posted (a small send, a
 * receive whose message is there), the others complete in the Waitall,
 * so each window mixes both.  A request's handle is free for reuse the
 * moment it completes, and another thread's next post may take it: the
 * Waitall must not look at a handle of its window again after freeing
 * it (MPICH's threads/pt2pt/threads failed that way through dmtcp_mpi
 * under Open MPI: "request N is not a live request").
 *
 * Checked: every call's return code (errors return), every payload, and
 * every receive's source, tag and count.  Output: one verdict line.
 */
/* ranks: 2 */
#include "mt_threads.h"

#define NT 4            /* threads per rank */
#define ROUNDS 1500     /* windows per thread */
#define WINDOW 8        /* receives and as many sends per window */
#define LEN 4           /* ints per message */

static int peer;

static int value(int tag, int round, int j, int i)
{
	return ((tag * ROUNDS + round) * WINDOW + j) * LEN + i;
}

static void check_window(int tag, int round, int rbuf[][LEN], const MPI_Status *st)
{
	for (int j = 0; j < WINDOW; j++) {
		int count = -1;

		MPI_Get_count(&st[j], MPI_INT, &count);
		CHECK(st[j].MPI_SOURCE == peer && st[j].MPI_TAG == tag && count == LEN,
		      "tag %d round %d recv %d: status source %d tag %d count %d", tag, round,
		      j, st[j].MPI_SOURCE, st[j].MPI_TAG, count);
		for (int i = 0; i < LEN; i++)
			CHECK(rbuf[j][i] == value(tag, round, j, i),
			      "tag %d round %d recv %d: int %d is %d", tag, round, j, i,
			      rbuf[j][i]);
	}
}

static void *run(void *arg)
{
	int tag = (int)(intptr_t)arg;
	int sbuf[WINDOW][LEN], rbuf[WINDOW][LEN];
	MPI_Request req[2 * WINDOW];
	MPI_Status st[2 * WINDOW];

	for (int round = 0; round < ROUNDS; round++) {
		int err = MPI_SUCCESS;

		memset(rbuf, 0xff, sizeof(rbuf));
		for (int j = 0; j < WINDOW && !err; j++) {
			for (int i = 0; i < LEN; i++)
				sbuf[j][i] = value(tag, round, j, i);
			err = MPI_Irecv(rbuf[j], LEN, MPI_INT, peer, tag, MPI_COMM_WORLD, &req[j]);
			if (!err)
				err = MPI_Isend(sbuf[j], LEN, MPI_INT, peer, tag, MPI_COMM_WORLD,
						&req[WINDOW + j]);
		}
		if (!err)
			err = MPI_Waitall(2 * WINDOW, req, st);
		CHECK(err == MPI_SUCCESS, "tag %d round %d: a post or Waitall returned %d", tag,
		      round, err);
		if (err)
			return NULL;
		for (int j = 0; j < 2 * WINDOW; j++)
			CHECK(req[j] == MPI_REQUEST_NULL, "tag %d round %d: request %d not freed",
			      tag, round, j);
		check_window(tag, round, rbuf, st);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (!mt_init_multiple(&argc, &argv, "thread_waitall"))
		return mt_finish();
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	peer = 1 - mt_rank();
	mt_run_threads(NT, run);
	mt_say("%d threads x %d windows of %d receives and %d sends, each by MPI_Waitall",
	       NT, ROUNDS, WINDOW, WINDOW);
	return mt_finish();
}
