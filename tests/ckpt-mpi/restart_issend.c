/*
 * restart_issend.c - the application of tests/ckpt-mpi/restart_issend.sh.
 *
 *   restart_issend DIR
 *
 * A checkpoint while rank 1's synchronous send has no receive posted:
 * rank 0 sees the message with MPI_Iprobe, creates DIR/started.K (the
 * script then checkpoints), waits until the checkpoint is over and its
 * next MPI call has passed the gate, waits 100 ms more, notes the time
 * t0 and only then receives.  DRAIN takes
 * the message into rank 0's drain queue, which completed the real send:
 * rank 1's send must still complete only after t0 (MPI: a synchronous
 * send completes once its receive has started).  Rank 0 sends t0 to
 * rank 1 afterwards, which compares it with the time its completion call
 * returned (one machine, CLOCK_MONOTONIC).  One step per shape: Issend of
 * 4 bytes (eager) and of 1 MiB (rendezvous), a blocking Ssend (kept at
 * PARK), Ssend_init and Start, and two Issends with one tag of which
 * rank 0 received the first before the checkpoint (rank 1 waits for
 * neither until the checkpoint is over): that one must complete without
 * waiting for rank 0's next receive, the second only after it.  Last, a
 * standard Isend of 1 MiB that rank 1 watches with MPI_Testsome: the
 * drain completes it before the image, and a restarted proxy does not
 * have it, so Testsome, which skips such a request, never reported it
 * (shim_req_sends_done); 10 s bound that.
 *
 * Each rank checks its data and prints one line per step: "step K rank
 * R SHAPE: ok" or what was wrong.  A native run waits for no checkpoint
 * and must print the same.
 *
 * Built with ISSEND_CKPT_FAILS 1 (restart_failckpt.c), each checkpoint
 * is one that fails, which runs no resume hook if it fails before the
 * image: both ranks then wait for DIR/over.K, which the script creates
 * once the command has returned.
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "restart_app.h"

#ifndef ISSEND_CKPT_FAILS
#define ISSEND_CKPT_FAILS 0
#endif

enum { BIG = 1 << 18 }; /* ints: 1 MiB */

enum shape { ISSEND_SMALL, ISSEND_BIG, SSEND, SSEND_INIT, ISSEND_AFTER_MATCHED, ISEND_TESTSOME,
	     NSHAPES };

static const char *const shape_name[NSHAPES] = {
	"Issend of 4 bytes", "Issend of 1 MiB", "Ssend", "Ssend_init and Start",
	"Issend after one a receive matched", "Isend of 1 MiB seen by Testsome",
};

enum { TAG_T0 = 100 };

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int count_of(enum shape s)
{
	return s == ISSEND_BIG || s == ISEND_TESTSOME ? BIG : 1;
}

/* Testsome until it reports r; 0 if it has not after 10 s. */
static int testsome_sees(MPI_Request *r)
{
	for (int ms = 0; ms < 10000; ms++) {
		int out = 0, idx;
		MPI_Status st[1];
		MPI_Testsome(1, r, &out, &idx, st);
		if (out == 1)
			return 1;
		ra_pause_ms(1);
	}
	return 0;
}

/* Until the checkpoint of step s is over. */
static void wait_ckpt_over(const char *dir, enum shape s)
{
	char name[32];

	if (!ISSEND_CKPT_FAILS) {
		ra_wait_ckpt_over();
		return;
	}
	snprintf(name, sizeof(name), "over.%d", (int)s);
	ra_wait_file(dir, name);
}

static int val(int step, int i)
{
	return step * 1000003 + i;
}

static void report(int step, int rank, const char *what)
{
	printf("step %d rank %d %s: %s\n", step, rank, shape_name[step], what);
	fflush(stdout);
}

/* Rank 1: the send, then its completion; returns when that returned. */
static int64_t send_and_wait(enum shape s, int *buf, int n)
{
	MPI_Request r;

	switch (s) {
	case SSEND:
		MPI_Ssend(buf, n, MPI_INT, 0, s, MPI_COMM_WORLD);
		break;
	case SSEND_INIT:
		MPI_Ssend_init(buf, n, MPI_INT, 0, s, MPI_COMM_WORLD, &r);
		MPI_Start(&r);
		MPI_Wait(&r, MPI_STATUS_IGNORE);
		MPI_Request_free(&r);
		break;
	case ISEND_TESTSOME:
		MPI_Isend(buf, n, MPI_INT, 0, s, MPI_COMM_WORLD, &r);
		if (!testsome_sees(&r))
			return -1;
		return INT64_MAX; /* not synchronous: any time will do */
	default:
		MPI_Issend(buf, n, MPI_INT, 0, s, MPI_COMM_WORLD, &r);
		MPI_Wait(&r, MPI_STATUS_IGNORE);
		break;
	}
	return now_ns();
}

static void sender(enum shape s, const char *dir, int watch)
{
	int n = count_of(s);
	int *buf = malloc((size_t)n * sizeof(int)), first = val(s, -1);
	int64_t t_first = 0, t, t0;
	MPI_Request r;

	if (!buf)
		MPI_Abort(MPI_COMM_WORLD, 3);
	for (int i = 0; i < n; i++)
		buf[i] = val(s, i);
	if (s == ISSEND_AFTER_MATCHED) {
		MPI_Request r2;
		atomic_store(&ra_ckpt_over, 0);
		MPI_Issend(&first, 1, MPI_INT, 0, s, MPI_COMM_WORLD, &r);
		MPI_Issend(buf, n, MPI_INT, 0, s, MPI_COMM_WORLD, &r2);
		/* Outside MPI until the checkpoint is over: the first Issend,
		 * matched, is still pending in the proxy at PARK. */
		if (watch && !atomic_load(&ra_restarted))
			wait_ckpt_over(dir, s);
		MPI_Wait(&r, MPI_STATUS_IGNORE);
		t_first = now_ns();
		MPI_Wait(&r2, MPI_STATUS_IGNORE);
		t = now_ns();
	} else {
		t = send_and_wait(s, buf, n);
	}
	MPI_Recv(&t0, 1, MPI_INT64_T, 0, TAG_T0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	if (t < 0)
		report(s, 1, "Testsome never reported it");
	else if (t < t0)
		report(s, 1, "completed before its receive was posted");
	else if (s == ISSEND_AFTER_MATCHED && t_first > t0)
		report(s, 1, "the matched Issend waited for the next receive");
	else
		report(s, 1, "ok");
	free(buf);
}

/* Rank 0: once the message is there, the checkpoint (if one is to
 * come), 100 ms, then the receive; t0 to rank 1. */
static void receiver(enum shape s, const char *dir, int watch)
{
	int n = count_of(s), flag = 0, bad = 0, first = 0;
	int *buf = malloc((size_t)n * sizeof(int));
	char name[32];

	if (!buf)
		MPI_Abort(MPI_COMM_WORLD, 3);
	if (s == ISSEND_AFTER_MATCHED)
		MPI_Recv(&first, 1, MPI_INT, 1, s, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	while (!flag) {
		MPI_Iprobe(1, s, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
		if (!flag)
			ra_pause_ms(1);
	}
	if (watch && !atomic_load(&ra_restarted)) {
		atomic_store(&ra_ckpt_over, 0);
		snprintf(name, sizeof(name), "started.%d", (int)s);
		ra_touch(dir, name);
		wait_ckpt_over(dir, s);
	}
	/* Past the gate: a restart has rebuilt MPI and released both ranks
	 * (the hook that said the checkpoint is over runs before). */
	MPI_Iprobe(1, TAG_T0, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
	ra_pause_ms(100);
	int64_t t0 = now_ns();
	MPI_Recv(buf, n, MPI_INT, 1, s, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	MPI_Send(&t0, 1, MPI_INT64_T, 1, TAG_T0, MPI_COMM_WORLD);
	for (int i = 0; i < n; i++)
		bad += buf[i] != val(s, i);
	bad += s == ISSEND_AFTER_MATCHED && first != val(s, -1);
	if (bad) {
		char what[64];
		snprintf(what, sizeof(what), "%d wrong ints", bad);
		report(s, 0, what);
	} else {
		report(s, 0, "ok");
	}
	free(buf);
}

int main(int argc, char **argv)
{
	int rank = ra_init_pair(&argc, &argv, 1, "restart_issend DIR");
	int watch = ra_watch_checkpoints();
	for (int s = 0; s < NSHAPES; s++) {
		if (rank == 1)
			sender((enum shape)s, argv[1], watch);
		else
			receiver((enum shape)s, argv[1], watch);
	}
	MPI_Finalize();
	return 0;
}
