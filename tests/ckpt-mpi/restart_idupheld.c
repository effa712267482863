/*
 * restart_idupheld.c - the application of tests/ckpt-mpi/restart_idupheld.sh.
 *
 *   restart_idupheld DIR STEPS
 *
 * Step after step both ranks run an Allreduce on A (a Comm_dup of WORLD
 * made at the start) and append the sum to DIR/out.<rank>; from the
 * checkpoint's step (STEPS/4 + 1) on they also run a Bcast on D, which
 * that step makes with MPI_Comm_idup of WORLD after an Iallreduce on
 * WORLD (its sum is in that step's line).
 *
 * The checkpoint catches rank 0's MPI_Comm_idup held at the gate while
 * rank 1 has not reached it.  At that step rank 0 starts an Iallreduce
 * on WORLD, creates DIR/started (the script asks for the checkpoint) and
 * waits for DIR/go, which the script creates once the coordinator is in
 * TARGETS: rank 1 is behind on WORLD and holds it there.  Rank 0 then
 * creates DIR/idup and calls MPI_Comm_idup, one collective past its
 * target: held.  Only then does rank 1 catch up (its Iallreduce) and
 * the checkpoint go on; rank 1 calls MPI_Comm_idup once the checkpoint
 * is over, outside MPI meanwhile.  If the checkpoint was over when rank
 * 0's idup returned and not when it began, the idup was in the image:
 * DIR/seen says so.  A restart must not make D on rank 0 (rank 1 has no
 * such record), or rank 0 would make it while rank 1 makes A, and
 * neither rebuild would finish.  A native run does not wait.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "restart_app.h"

#define PROBE_TAG 77 /* no message has it */

/* Rank 0's part of the checkpoint's step: d made by the idup held. */
static void hold_idup(const char *dir, MPI_Comm *d, MPI_Request *r)
{
	ra_touch(dir, "started");
	ra_wait_file(dir, "go");
	ra_touch(dir, "idup");
	int before = atomic_load(&ra_ckpt_over);
	MPI_Comm_idup(MPI_COMM_WORLD, d, r);
	if (!before && atomic_load(&ra_ckpt_over))
		ra_touch(dir, "seen");
}

/* Rank 1's: caught up once rank 0's idup is at the gate, then its own
 * idup after the checkpoint. */
static void late_idup(const char *dir, long *mine, long *sum, MPI_Comm *d, MPI_Request *r)
{
	MPI_Request ar;

	ra_wait_file(dir, "go");
	ra_wait_file(dir, "idup");
	/* Rank 0 is a few instructions from the gate; a margin for a loaded
	 * machine that stops it there (DIR/seen would then be missing). */
	ra_pause_ms(200);
	MPI_Iallreduce(mine, sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD, &ar);
	ra_wait_ckpt_over();
	/* The restart hook lets this thread go before the restart has made
	 * the image's communicators again; the Iprobe's call waits until it
	 * has, so the idup's record cannot be among them. */
	int flag;
	MPI_Iprobe(MPI_ANY_SOURCE, PROBE_TAG, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
	MPI_Comm_idup(MPI_COMM_WORLD, d, r);
	MPI_Wait(&ar, MPI_STATUS_IGNORE);
}

int main(int argc, char **argv)
{
	int rank, size;
	MPI_Comm a, d = MPI_COMM_NULL;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	long steps = ra_steps(argc, argv, size == 2, "restart_idupheld DIR STEPS (on 2 ranks)");
	int fd = ra_open_out(argv[1], rank);
	MPI_Comm_dup(MPI_COMM_WORLD, &a);
	long ckpt_step = steps / 4 + 1;
	int engine = ra_watch_checkpoints();
	for (long s = 1; s <= steps; s++) {
		long mine = s * (rank + 3), sum = 0, wmine = s + rank, wsum = 0;
		long root_val = s * 7 + rank;

		if (rank == 1)
			ra_pause_ms(20);
		if (s == ckpt_step) {
			MPI_Request wr = MPI_REQUEST_NULL, ir;
			if (engine && rank == 1) {
				late_idup(argv[1], &wmine, &wsum, &d, &ir);
			} else {
				MPI_Iallreduce(&wmine, &wsum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD,
					       &wr);
				if (engine)
					hold_idup(argv[1], &d, &ir);
				else
					MPI_Comm_idup(MPI_COMM_WORLD, &d, &ir);
			}
			MPI_Wait(&wr, MPI_STATUS_IGNORE);
			MPI_Wait(&ir, MPI_STATUS_IGNORE);
		}
		MPI_Allreduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, a);
		if (d != MPI_COMM_NULL)
			MPI_Bcast(&root_val, 1, MPI_LONG, (int)(s % size), d);
		dprintf(fd, "step %ld sum %ld bcast %ld world %ld\n", s, sum, root_val, wsum);
	}
	MPI_Comm_free(&d);
	MPI_Comm_free(&a);
	close(fd);
	printf("rank %d of %d done\n", rank, size);
	MPI_Finalize();
	return 0;
}
