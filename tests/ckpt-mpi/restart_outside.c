/*
 * restart_outside.c - the application of tests/ckpt-mpi/restart_outside.sh.
 *
 *   restart_outside DIR STEPS
 *
 * Rank 0 is outside MPI when it is checkpointed and its first act once
 * it runs again is a Sendrecv whose message was drained.  Each step
 * sends 64 KiB to the right neighbour (the shim stages it in the
 * channel's arena), receives as much from the left and sums a checksum
 * over the ranks; each rank pauses 5 ms and appends one line per step to
 * DIR/out.<rank>.  After step STEPS/4 rank 0 waits, in nanosleep, until
 * a checkpoint is over (its own resume and restart hooks tell it), while
 * rank 1 goes on into its next Sendrecv.  So the checkpoint finds:
 *   - rank 1 inside Sendrecv, its send done, its receive abandoned at
 *     PARK; its message to rank 0 is drained into rank 0's memory.  Rank
 *     0's next Sendrecv must take it from there: the real MPI will never
 *     deliver it again (shim/p2p.c, sendrecv_drained; without it the job
 *     hung at once, rank 0 in Sendrecv and rank 1 in Allreduce, after a
 *     resume and after every restart);
 *   - rank 0 outside MPI.  Restored, it is let go as soon as the engine
 *     releases it and sends at once, racing the engine's client thread
 *     that is still finishing the restart: the new channel must already
 *     be mapped by then (shim/ckpt.c, hook_restart; without it every
 *     restart died of SIGSEGV in shim_stage_send).
 * A native run has no engine and does not wait; its files are the
 * reference.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "restart_app.h"

#define WORDS (64 * 1024 / sizeof(unsigned))

static unsigned out[WORDS], in[WORDS];

int main(int argc, char **argv)
{
	int rank, size;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	long steps = ra_steps(argc, argv, 1, "restart_outside DIR STEPS");
	int engine = ra_watch_checkpoints();
	int left = (rank + size - 1) % size, right = (rank + 1) % size;
	FILE *f = ra_fopen_out(argv[1], rank);
	ra_ring_fill(out, WORDS, 0, rank);
	for (long s = 0; s < steps; s++) {
		unsigned all, mine = ra_ring_step(out, in, WORDS, left, right, &all);
		ra_pause_ms(5); /* so the killed run is still going when it is killed */
		ra_ring_fill(out, WORDS, s + 1, rank);
		/* Rank 1 is in its next Sendrecv by the time the test sees this
		 * line and asks for the checkpoint. */
		fprintf(f, "%ld: from %d %08x all %08x\n", s, left, mine, all);
		fflush(f);
		/* Nothing between this wait and the next send. */
		if (engine && rank == 0 && s == steps / 4 - 1)
			ra_wait_ckpt_over();
	}
	fclose(f);
	printf("rank %d of %d done\n", rank, size);
	MPI_Finalize();
	return 0;
}
