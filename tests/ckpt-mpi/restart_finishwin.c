/*
 * restart_finishwin.c - the application of tests/ckpt-mpi/restart_finishwin.sh.
 *
 *   restart_finishwin DIR STEPS
 *
 * Step after step both ranks start an Iallreduce and an Ibarrier on
 * WORLD and wait for both; each rank appends the sum to DIR/out.<rank>.
 * At step STEPS/4 + 1, under the checkpoint engine, rank 0 lets its
 * Iallreduce complete in the proxy (rank 1 takes part at once), starts
 * the Ibarrier (rank 1 holds its own back until DIR/go), creates
 * DIR/started and calls MPI_Test on the Iallreduce until the proxy
 * answers done; the shim, copying the result out, stops there for 2 s (the
 * fault point icoll-finish-slow, armed around that one call) while the checkpoint that DIR/started
 * asked for runs its phases.  The checkpoint's DRAIN completes the
 * nonblocking collectives still pending in the application
 * (shim_icoll_drained): this one must not be among them, or both
 * threads complete it and free its plan.  Then rank 0 waits outside MPI
 * until the checkpoint is over.
 */
#include <stdlib.h>

#include "restart_app.h"

int main(int argc, char **argv)
{
	int rank = ra_init_pair(&argc, &argv, 2, "restart_finishwin DIR STEPS");
	long steps = atol(argv[2]);
	int fd = ra_open_out(argv[1], rank);
	long cs = steps / 4 + 1;
	int engine = ra_watch_checkpoints();

	for (long s = 1; s <= steps; s++) {
		long mine = s * (rank + 3), sum = 0;
		MPI_Request rq[2];
		MPI_Status st[2];
		int flag = 0;
		int aimed = engine && s == cs;

		MPI_Iallreduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD, &rq[0]);
		if (aimed && rank == 1) {
			MPI_Wait(&rq[0], MPI_STATUS_IGNORE);
			ra_wait_file(argv[1], "go");
		}
		if (aimed && rank == 0)
			ra_pause_ms(200); /* rank 1's part is in: complete in the proxy */
		MPI_Ibarrier(MPI_COMM_WORLD, &rq[1]);
		if (aimed && rank == 0) {
			ra_touch(argv[1], "started");
			setenv("DMTCP_MPI_FAULT", "icoll-finish-slow", 1);
			while (!flag) /* the proxy moves it on at each Test */
				MPI_Test(&rq[0], &flag, MPI_STATUS_IGNORE);
			unsetenv("DMTCP_MPI_FAULT");
			ra_wait_ckpt_over();
		}
		MPI_Waitall(2, rq, st);
		dprintf(fd, "step %ld sum %ld\n", s, sum);
		ra_pause_ms(5);
	}
	close(fd);
	printf("rank %d done\n", rank);
	MPI_Finalize();
	return 0;
}
