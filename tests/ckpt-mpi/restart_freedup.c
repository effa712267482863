/*
 * restart_freedup.c - the application of tests/ckpt-mpi/restart_freedup.sh.
 *
 *   restart_freedup DIR STEPS
 *
 * Receives pending on a communicator their rank has freed, across a
 * checkpoint (MPI-4.1 7.4.3: they complete normally).  Each step is a
 * 64 KiB Sendrecv ring and an Allreduce of checksums, one line per step
 * in DIR/out.<rank>.  At step STEPS/4 + 1 both ranks make a dup A of
 * WORLD; rank 0 posts two receives on A, tag 7 (rank 1 sends it) and
 * tag 9 (nobody does), frees A, makes a dup N (the call that takes a
 * freed handle again), posts a receive on N with tag 9 and waits,
 * outside MPI, until a checkpoint is over (DIR/started first).  Rank 1
 * makes N too, waits for DIR/go (the coordinator is in TARGETS), sends
 * tag 7 on A and frees it, which it must do to reach its target on A.
 * Then rank 1 sends tag 9 on N, rank 0 cancels its tag-9 receive on A
 * and waits for all three.  After a restart A is not made again (every
 * member had freed it), so the tag-7 receive is served from the drain
 * queue if its message was drained, and the tag-9 one, which nothing can
 * match, must stay out of the new proxy until it is cancelled.  Until
 * 2026-11-27 A's handle went to N at once, and the restart posted the
 * tag-9 receive on N, where it took N's message and rank 0 waited for
 * ever.  A native run (no engine) does not wait.
 */
#include <mpi.h>
#include <stdio.h>

#include "restart_app.h"

#define MSG 8

static void say_msg(FILE *f, const char *what, const MPI_Status *st, const int *got)
{
	int cnt = -1, sum = 0;

	MPI_Get_count(st, MPI_INT, &cnt);
	for (int i = 0; i < MSG; i++)
		sum = sum * 31 + got[i];
	fprintf(f, "%s: source %d tag %d count %d sum %d\n", what, st->MPI_SOURCE, st->MPI_TAG,
		cnt, sum);
}

/* Step STEPS/4 + 1's exchange (see the top of the file). */
static void freed_dup_step(FILE *f, int rank, int engine, const char *dir, long s)
{
	int on7[MSG], on9[MSG], onN[MSG], send[MSG], cancelled = 0;
	MPI_Comm a, n;
	MPI_Request r7, r9, rn;
	MPI_Status st;

	MPI_Comm_dup(MPI_COMM_WORLD, &a);
	if (rank == 0) {
		MPI_Irecv(on7, MSG, MPI_INT, 1, 7, a, &r7);
		MPI_Irecv(on9, MSG, MPI_INT, 1, 9, a, &r9);
		MPI_Comm_free(&a);
		MPI_Comm_dup(MPI_COMM_WORLD, &n);
		MPI_Irecv(onN, MSG, MPI_INT, 1, 9, n, &rn);
		if (engine)
			ra_hold_for_checkpoint(dir);
		MPI_Cancel(&r9);
		MPI_Wait(&r9, &st);
		MPI_Test_cancelled(&st, &cancelled);
		fprintf(f, "tag 9 on freed A: %s\n", cancelled ? "cancelled" : "not cancelled");
		MPI_Wait(&r7, &st);
		say_msg(f, "tag 7 on freed A", &st, on7);
		MPI_Wait(&rn, &st);
		say_msg(f, "tag 9 on new N", &st, onN);
	} else {
		MPI_Comm_dup(MPI_COMM_WORLD, &n);
		if (engine)
			ra_wait_file(dir, "go");
		for (int i = 0; i < MSG; i++)
			send[i] = (int)s * 100 + i;
		MPI_Send(send, MSG, MPI_INT, 0, 7, a);
		MPI_Comm_free(&a);
		for (int i = 0; i < MSG; i++)
			send[i] = (int)s * 1000 + i;
		MPI_Send(send, MSG, MPI_INT, 0, 9, n);
	}
	fflush(f);
	MPI_Comm_free(&n);
}

int main(int argc, char **argv)
{
	return ra_ring_around(argc, argv, "restart_freedup DIR STEPS", freed_dup_step);
}
