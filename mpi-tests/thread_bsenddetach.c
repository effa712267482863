/*
 * thread_bsenddetach.c - MPI_THREAD_MULTIPLE: one thread detaches a
 * communicator's buffer (MPI-4.1) while another makes a buffered send
 * through another communicator's buffer, and the receiver takes that
 * second message first.
 *
 * Rank 0 attaches a buffer to each of two duplicates of WORLD, X and Y.
 * Its thread 0 sends a large message (4 MiB: not complete before it is
 * received) buffered on X and detaches X's buffer, which waits until the
 * message is sent.  Its thread 1, once thread 0 is in that wait, sends a
 * small message buffered on Y.  Rank 1 receives the one on Y first, then
 * the one on X.  So the detach can end only after the send on Y went
 * out: a detach that kept the buffers' lock while it waited held the
 * send on Y back and the two ranks waited for each other for ever.
 *
 * Checked: every call's return code (errors return), both payloads, the
 * buffer and size each detach gives back.  An MPI older than 4.1 has no
 * communicator buffers: the checks are skipped there and the same line
 * is printed, so native outputs still agree.  Output: one verdict line.
 */
/* ranks: 2 */
#include "mt_threads.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#define BIG (1 << 20)    /* ints of the message on X: 4 MiB */
#define SMALL 4          /* ints of the message on Y */

#if MPI_VERSION > 4 || (MPI_VERSION == 4 && MPI_SUBVERSION >= 1)
static MPI_Comm x, y;
static int *big;
static char *xbuf, *ybuf;
static int xsize, ysize;
static atomic_int x_sent;

static void detach_check(MPI_Comm comm, const char *buf, int size, const char *name)
{
	void *got = NULL;
	int n = -1;
	int err = MPI_Comm_detach_buffer(comm, &got, &n);

	CHECK(err == MPI_SUCCESS, "detach of %s's buffer returned %d", name, err);
	CHECK(got == buf && n == size, "detach of %s's buffer gave %p and %d, not %p and %d",
	      name, got, n, (const void *)buf, size);
}

/* Thread 0 sends on X and detaches X's buffer; thread 1, once thread 0
 * waits in that detach, sends on Y. */
static void *run(void *arg)
{
	int id = (int)(intptr_t)arg, err;

	if (id == 0) {
		err = MPI_Bsend(big, BIG, MPI_INT, 1, 1, x);
		CHECK(err == MPI_SUCCESS, "Bsend on X returned %d", err);
		atomic_store(&x_sent, 1);
		detach_check(x, xbuf, xsize, "X");
		return NULL;
	}
	int small[SMALL] = { 5, 6, 7, 8 };
	struct timespec pause = { 0, 200 * 1000 * 1000 };

	while (!atomic_load(&x_sent))
		nanosleep(&(struct timespec){ 0, 1000 * 1000 }, NULL);
	nanosleep(&pause, NULL); /* thread 0 is in its detach by now */
	err = MPI_Bsend(small, SMALL, MPI_INT, 1, 2, y);
	CHECK(err == MPI_SUCCESS, "Bsend on Y returned %d", err);
	detach_check(y, ybuf, ysize, "Y");
	return NULL;
}

static void receive_both(void)
{
	int small[SMALL];
	int err = MPI_Recv(small, SMALL, MPI_INT, 0, 2, y, MPI_STATUS_IGNORE);

	CHECK(err == MPI_SUCCESS, "Recv on Y returned %d", err);
	for (int i = 0; i < SMALL; i++)
		CHECK(small[i] == 5 + i, "int %d on Y is %d", i, small[i]);
	err = MPI_Recv(big, BIG, MPI_INT, 0, 1, x, MPI_STATUS_IGNORE);
	CHECK(err == MPI_SUCCESS, "Recv on X returned %d", err);
	for (int i = 0; i < BIG; i++)
		if (big[i] != i) {
			CHECK(0, "int %d on X is %d", i, big[i]);
			break;
		}
}

static void exchange(void)
{
	MPI_Comm_dup(MPI_COMM_WORLD, &x);
	MPI_Comm_dup(MPI_COMM_WORLD, &y);
	big = malloc(BIG * sizeof(int));
	MT_CHECK(big != NULL, "no memory");
	if (!big)
		return;
	if (mt_rank() == 1) {
		receive_both();
	} else {
		for (int i = 0; i < BIG; i++)
			big[i] = i;
		xsize = BIG * (int)sizeof(int) + MPI_BSEND_OVERHEAD;
		ysize = SMALL * (int)sizeof(int) + MPI_BSEND_OVERHEAD;
		xbuf = malloc((size_t)xsize);
		ybuf = malloc((size_t)ysize);
		MT_CHECK(xbuf && ybuf, "no memory");
		if (!xbuf || !ybuf)
			return;
		MT_CHECK(MPI_Comm_attach_buffer(x, xbuf, xsize) == MPI_SUCCESS,
			 "attach to X failed");
		MT_CHECK(MPI_Comm_attach_buffer(y, ybuf, ysize) == MPI_SUCCESS,
			 "attach to Y failed");
		mt_run_threads(2, run);
		free(xbuf);
		free(ybuf);
	}
	free(big);
	MPI_Comm_free(&x);
	MPI_Comm_free(&y);
}
#endif

int main(int argc, char **argv)
{
	if (!mt_init_multiple(&argc, &argv, "thread_bsenddetach"))
		return mt_finish();
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
#if MPI_VERSION > 4 || (MPI_VERSION == 4 && MPI_SUBVERSION >= 1)
	exchange();
#endif
	mt_say("a communicator's buffer detached while another thread sends buffered "
	       "on another's, received first");
	return mt_finish();
}
