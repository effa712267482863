/*
 * restart_idup.c - the application of tests/ckpt-mpi/restart_idup.sh.
 *
 *   restart_idup DIR STEPS
 *
 * Three communicators made by MPI_Comm_idup: A from WORLD, B from A with
 * MPI_Comm_idup_with_info, and C from A, freed again at once (so A's
 * sequence numbers and B's id are not the first ones).  Step after step
 * both ranks run an Allreduce on B, then a Bcast on A from a root that
 * moves, and append what they got to DIR/out.<rank>.
 *
 * One step is the checkpoint's (STEPS/4 + 1), as in restart_nbc.c: rank 0
 * starts an Iallreduce on B, creates DIR/started and waits, outside MPI,
 * until a checkpoint is over; rank 1 starts it only once DIR/go exists,
 * which restart_app.sh creates when the coordinator is in TARGETS.  So
 * the checkpoint begins with a collective on B that rank 0 has entered
 * and rank 1 has not: only if B's collectives are counted under an id
 * both ranks share does rank 1 count as behind and catch up before the
 * image.  After a restart A and B must have been made again alike on
 * both ranks for the steps that follow.  A native run does not wait.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "restart_app.h"

static void idup_wait(MPI_Comm parent, MPI_Info info, MPI_Comm *out)
{
	MPI_Request r;

	if (info == MPI_INFO_NULL)
		MPI_Comm_idup(parent, out, &r);
	else
		MPI_Comm_idup_with_info(parent, info, out, &r);
	MPI_Wait(&r, MPI_STATUS_IGNORE);
}

int main(int argc, char **argv)
{
	int rank, size;
	MPI_Comm a, b, c;
	MPI_Info info;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	long steps = ra_steps(argc, argv, size == 2, "restart_idup DIR STEPS (on 2 ranks)");
	int fd = ra_open_out(argv[1], rank);
	idup_wait(MPI_COMM_WORLD, MPI_INFO_NULL, &a);
	idup_wait(a, MPI_INFO_NULL, &c);
	MPI_Comm_free(&c);
	MPI_Info_create(&info);
	MPI_Info_set(info, "mpi_assert_no_any_tag", "true");
	idup_wait(a, info, &b);
	MPI_Info_free(&info);
	long ckpt_step = steps / 4 + 1;
	int engine = ra_watch_checkpoints();
	for (long s = 1; s <= steps; s++) {
		long mine = s * (rank + 3), sum = 0, root_val = s * 11 + rank;

		if (rank == 1)
			ra_pause_ms(20);
		if (engine && s == ckpt_step) {
			MPI_Request r;
			if (rank == 1)
				ra_wait_file(argv[1], "go");
			MPI_Iallreduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, b, &r);
			if (rank == 0)
				ra_hold_for_checkpoint(argv[1]);
			MPI_Wait(&r, MPI_STATUS_IGNORE);
		} else {
			MPI_Allreduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, b);
		}
		MPI_Bcast(&root_val, 1, MPI_LONG, (int)(s % size), a);
		dprintf(fd, "step %ld sum %ld bcast %ld\n", s, sum, root_val);
	}
	MPI_Comm_free(&b);
	MPI_Comm_free(&a);
	close(fd);
	printf("rank %d of %d done\n", rank, size);
	MPI_Finalize();
	return 0;
}
