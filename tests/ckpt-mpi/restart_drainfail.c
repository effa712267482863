/*
 * restart_drainfail.c - the application of tests/ckpt-mpi/restart_drainfail.sh.
 *
 *   restart_drainfail DIR
 *
 * Three steps, one checkpoint in each.  In every step but the first
 * (STEP_QUIET, nothing in flight) each rank posts receives for the first
 * NPOST of the peer's NMSG messages, then sends its own NMSG (one of
 * them 1 MiB, rendezvous under both MPIs; the rest small, eager; tags
 * TAG_A and TAG_B alternating; rank 1's last one an MPI_Issend), creates
 * DIR/ready.S.R and waits, outside MPI, for DIR/over.S, which the script
 * creates once its checkpoint command has returned: the checkpoint finds
 * receives to park and messages to drain.  Under DMTCP_MPI_FAULT=
 * drain-fail(-late) the checkpoint of STEP_FAIL fails in DRAIN after a
 * rank has drained messages; the one of STEP_AGAIN must then succeed.
 * After the wait each rank waits 100 ms, notes the time (rank 0: t0),
 * posts its other receives (every fourth with MPI_ANY_TAG) and completes
 * every request (rank 1: the Issend returned at t1).  In STEP_FAIL each
 * rank then creates DIR/waited.1.R, enters a Barrier, creates
 * DIR/took.1.R and waits for DIR/rescued, which the script creates after
 * one more checkpoint, taken while rank 0 is in the Barrier: with
 * drain-fail-late rank 1 is then still waiting for its Issend, which
 * only that checkpoint can complete (it must reach the Barrier first, so
 * a checkpoint that needs its DRAIN to bring the info never gets past
 * TARGETS).  Last, each rank checks
 * that the messages came in their send order, intact, each once (nothing
 * more is waiting after a barrier), rank 0 sends t0 to rank 1, which
 * checks t1 >= t0 (a synchronous send completes once its receive is
 * posted), and each prints "step S rank R: ok" or what was wrong.  A
 * restarted process waits for no later checkpoint, a native run for none.
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restart_app.h"

enum { STEP_QUIET, STEP_FAIL, STEP_AGAIN, NSTEPS };
enum { NMSG = 12, NPOST = 4, BIG = 5, SMALL = 64, LARGE = 1 << 18 };
enum { TAG_A = 7, TAG_B = 9, TAG_T0 = 100 };

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int words(int i)
{
	return i == BIG ? LARGE : SMALL;
}

static int tag_of(int i)
{
	return i % 2 ? TAG_B : TAG_A;
}

/* Word j of message i of step s from rank r; word 0 is i. */
static int val(int s, int r, int i, int j)
{
	return j == 0 ? i : s * 1000003 + r * 7919 + i * 131 + j;
}

/* Until the script creates DIR/NAME, unless we are a restarted process
 * (no checkpoint will come) or run natively. */
static void wait_for(const char *dir, const char *name, int watch)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	for (int ms = 0; watch && !atomic_load(&ra_restarted) && access(path, F_OK) != 0;
	     ms += 10) {
		if (ms >= RA_WAIT_MS) {
			fprintf(stderr, "restart app: no %s came\n", path);
			exit(3);
		}
		ra_pause_ms(10);
	}
}

/* DIR/NAME for the script (not in a restarted process, nor natively). */
static void tell(const char *dir, const char *name, int watch)
{
	if (watch && !atomic_load(&ra_restarted))
		ra_touch(dir, name);
}

/* What was wrong with message i (its buffer in, its status st), or NULL. */
static const char *check_msg(int s, int peer, int i, const int *in, const MPI_Status *st)
{
	int n = 0;

	MPI_Get_count(st, MPI_INT, &n);
	if (st->MPI_SOURCE != peer || st->MPI_TAG != tag_of(i) || n != words(i))
		return "wrong envelope";
	if (in[0] != i)
		return "out of order";
	for (int j = 1; j < n; j++)
		if (in[j] != val(s, peer, i, j))
			return "wrong data";
	return NULL;
}

static void step(const char *dir, int s, int rank, int watch)
{
	int peer = 1 - rank;
	int *out[NMSG], *in[NMSG];
	MPI_Request r[2 * NMSG];
	MPI_Status st[2 * NMSG];
	char why[160] = "", name[32];
	int64_t t0 = 0, t1 = 0;

	snprintf(name, sizeof(name), "ready.%d.%d", s, rank);
	if (s == STEP_QUIET) {
		MPI_Barrier(MPI_COMM_WORLD);
		tell(dir, name, watch);
		wait_for(dir, "over.0", watch);
		MPI_Barrier(MPI_COMM_WORLD);
		printf("step %d rank %d: ok\n", s, rank);
		fflush(stdout);
		return;
	}
	for (int i = 0; i < NMSG; i++) {
		out[i] = malloc((size_t)words(i) * sizeof(int));
		in[i] = calloc((size_t)words(i), sizeof(int));
		if (!out[i] || !in[i])
			MPI_Abort(MPI_COMM_WORLD, 3);
		for (int j = 0; j < words(i); j++)
			out[i][j] = val(s, rank, i, j);
	}
	MPI_Barrier(MPI_COMM_WORLD);
	for (int i = 0; i < NPOST; i++)
		MPI_Irecv(in[i], words(i), MPI_INT, peer, tag_of(i), MPI_COMM_WORLD, &r[NMSG + i]);
	for (int i = 0; i < NMSG; i++)
		(rank == 1 && i == NMSG - 1 ? MPI_Issend : MPI_Isend)(
			out[i], words(i), MPI_INT, peer, tag_of(i), MPI_COMM_WORLD, &r[i]);
	tell(dir, name, watch);
	snprintf(name, sizeof(name), "over.%d", s);
	wait_for(dir, name, watch);
	ra_pause_ms(100);
	t0 = now_ns();
	for (int i = NPOST; i < NMSG; i++)
		MPI_Irecv(in[i], words(i), MPI_INT, peer, i % 4 == 0 ? MPI_ANY_TAG : tag_of(i),
			  MPI_COMM_WORLD, &r[NMSG + i]);
	MPI_Waitall(2 * NMSG, r, st);
	t1 = now_ns();
	if (s == STEP_FAIL) {
		/* In a Barrier rank 1 reaches once its Issend is complete. */
		snprintf(name, sizeof(name), "waited.%d.%d", s, rank);
		tell(dir, name, watch);
		MPI_Barrier(MPI_COMM_WORLD);
		snprintf(name, sizeof(name), "took.%d.%d", s, rank);
		tell(dir, name, watch);
		wait_for(dir, "rescued", watch);
	}
	for (int i = 0; i < NMSG && !why[0]; i++) {
		const char *bad = check_msg(s, peer, i, in[i], &st[NMSG + i]);
		if (bad)
			snprintf(why, sizeof(why), "message %d: %s (word 0 is %d)", i, bad,
				 in[i][0]);
	}
	MPI_Barrier(MPI_COMM_WORLD);
	int extra = 0;
	MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &extra, MPI_STATUS_IGNORE);
	if (extra && !why[0])
		snprintf(why, sizeof(why), "a message more than was sent");
	MPI_Barrier(MPI_COMM_WORLD);
	if (rank == 0)
		MPI_Send(&t0, 1, MPI_INT64_T, 1, TAG_T0, MPI_COMM_WORLD);
	else
		MPI_Recv(&t0, 1, MPI_INT64_T, 0, TAG_T0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	if (rank == 1 && t1 < t0 && !why[0])
		snprintf(why, sizeof(why), "the Issend completed before its receive was posted");
	printf("step %d rank %d: %s\n", s, rank, why[0] ? why : "ok");
	fflush(stdout);
	for (int i = 0; i < NMSG; i++) {
		free(out[i]);
		free(in[i]);
	}
}

int main(int argc, char **argv)
{
	int rank = ra_init_pair(&argc, &argv, 1, "restart_drainfail DIR");
	int watch = ra_watch_checkpoints();
	for (int s = 0; s < NSTEPS; s++)
		step(argv[1], s, rank, watch);
	MPI_Finalize();
	return 0;
}
