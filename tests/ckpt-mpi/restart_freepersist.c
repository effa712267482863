/*
 * restart_freepersist.c - the application of
 * tests/ckpt-mpi/restart_freepersist.sh.
 *
 *   restart_freepersist DIR STEPS
 *
 * A persistent synchronous send started on a communicator both ranks
 * have freed, unmatched across a checkpoint (MPI-4.1 7.4.3: operations on
 * a freed communicator continue to work).  Each step is a 64 KiB
 * Sendrecv ring and an Allreduce of checksums, one line per step in
 * DIR/out.<rank>.  At step STEPS/4 + 1 both ranks make a dup A of WORLD:
 * rank 1 an Ssend_init to rank 0 on it, rank 0 a Recv_init from rank 1.
 * Rank 0 frees A and waits, outside MPI, until a checkpoint is over
 * (DIR/started first).  Rank 1 starts its send, waits for DIR/go (the
 * coordinator is in TARGETS, waiting for rank 1's free of A), frees A
 * and waits for the checkpoint's end too.  So the checkpoint parks the
 * synchronous send on a freed communicator: its message goes to rank 0's
 * drain queue and its completion waits for rank 0's receive, which rank
 * 0 then starts (the drained message serves it).  Until 2026-11-27 the
 * park could not find the freed communicator's record, and rank 1 waited
 * for ever.  Then both start their requests once more, after the restart
 * in a restarted run: a restart made no freed communicator again, and
 * rank 1's send failed with MPI_ERR_COMM.  Rank 1 also has a receive
 * pending on B, another dup both free, which rank 0 lets go at once: the
 * restart can make B again only with rank 0's help, though rank 0 no
 * longer knows B (shim/commheld.c); rank 1 cancels it at the end.  The
 * same twice over on intercommunicators between the two ranks: rank 1
 * starts a persistent send on C, freed by both, after the checkpoint
 * (until 2026-11-27 a restart made no freed intercommunicator again, and
 * it failed with MPI_ERR_COMM), and keeps a receive pending on D, which
 * rank 0 lets go at once.  A native run (no engine) does not wait.
 */
#include <mpi.h>
#include <stdio.h>

#include "restart_app.h"

#define MSG 8
#define TAG 3

static int sum_of(const int *buf)
{
	int sum = 0;

	for (int i = 0; i < MSG; i++)
		sum = sum * 31 + buf[i];
	return sum;
}

/* The receive of a pending request that must not complete, cancelled. */
static void cancel_pending(MPI_Request *pending, const char *on)
{
	MPI_Status st;
	int cancelled = 0;

	MPI_Cancel(pending);
	MPI_Wait(pending, &st);
	MPI_Test_cancelled(&st, &cancelled);
	if (!cancelled) {
		fprintf(stderr, "restart_freepersist: the receive on freed %s completed\n", on);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
}

/* Step STEPS/4 + 1's exchange (see the top of the file). */
static void freed_persist_step(FILE *f, int rank, int engine, const char *dir, long s)
{
	int buf[MSG], never, never_d;
	MPI_Comm a, b, c, d;
	MPI_Request r, rc, pending, pending_d;
	MPI_Status st;

	MPI_Comm_dup(MPI_COMM_WORLD, &a);
	MPI_Comm_dup(MPI_COMM_WORLD, &b);
	MPI_Intercomm_create(MPI_COMM_SELF, 0, MPI_COMM_WORLD, 1 - rank, TAG, &c);
	MPI_Intercomm_create(MPI_COMM_SELF, 0, MPI_COMM_WORLD, 1 - rank, TAG + 1, &d);
	if (rank == 0) {
		MPI_Comm_free(&b);
		MPI_Comm_free(&d);
		MPI_Recv_init(buf, MSG, MPI_INT, 0, TAG, c, &rc);
		MPI_Comm_free(&c);
		MPI_Recv_init(buf, MSG, MPI_INT, 1, TAG, a, &r);
		MPI_Comm_free(&a);
		if (engine)
			ra_hold_for_checkpoint(dir);
		for (int round = 0; round < 3; round++) {
			int cnt = -1;
			MPI_Request *q = round < 2 ? &r : &rc;
			MPI_Start(q);
			MPI_Wait(q, &st);
			MPI_Get_count(&st, MPI_INT, &cnt);
			fprintf(f, "persistent receive %d on freed %s: source %d tag %d count %d "
				"sum %d\n", round, round < 2 ? "A" : "intercomm C", st.MPI_SOURCE,
				st.MPI_TAG, cnt, sum_of(buf));
		}
		MPI_Request_free(&rc);
	} else {
		for (int i = 0; i < MSG; i++)
			buf[i] = (int)s * 100 + i;
		MPI_Irecv(&never, 1, MPI_INT, 0, TAG, b, &pending);
		MPI_Comm_free(&b);
		MPI_Irecv(&never_d, 1, MPI_INT, 0, TAG, d, &pending_d);
		MPI_Comm_free(&d);
		MPI_Send_init(buf, MSG, MPI_INT, 0, TAG, c, &rc);
		MPI_Comm_free(&c);
		MPI_Ssend_init(buf, MSG, MPI_INT, 0, TAG, a, &r);
		MPI_Start(&r);
		if (engine)
			ra_wait_file(dir, "go");
		MPI_Comm_free(&a);
		if (engine)
			ra_wait_ckpt_over();
		MPI_Wait(&r, &st); /* out.1 keeps one line a step: the harness counts them */
		buf[0] = -1;
		MPI_Start(&r);
		MPI_Wait(&r, &st);
		buf[1] = -2;
		MPI_Start(&rc);
		MPI_Wait(&rc, &st);
		MPI_Request_free(&rc);
		cancel_pending(&pending, "B");
		cancel_pending(&pending_d, "intercomm D");
	}
	MPI_Request_free(&r);
	fflush(f);
}

int main(int argc, char **argv)
{
	return ra_ring_around(argc, argv, "restart_freepersist DIR STEPS", freed_persist_step);
}
