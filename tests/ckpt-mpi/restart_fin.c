/*
 * restart_fin.c - the application of tests/ckpt-mpi/restart_fin.sh.
 *
 *   restart_fin DIR STEPS
 *
 * One rank is inside MPI_Finalize while the other still computes.  Both
 * ranks run an Allreduce on WORLD for STEPS/4 steps; then rank 0 calls
 * MPI_Finalize, having created DIR/started, while rank 1 runs the other
 * steps alone (an Allreduce on MPI_COMM_SELF each) before its own
 * MPI_Finalize; under dmtcp_mpi rank 1 begins them only once DIR/go
 * exists, which restart_fin.sh creates after asking for a checkpoint.
 * Each rank appends what it did to DIR/out.<rank>, the last line after
 * MPI_Finalize has returned.  A native run does not wait.
 */
#include "restart_app.h"

static long sum_on(MPI_Comm comm, long v)
{
	long sum = 0;

	MPI_Allreduce(&v, &sum, 1, MPI_LONG, MPI_SUM, comm);
	return sum;
}

int main(int argc, char **argv)
{
	int rank = ra_init_pair(&argc, &argv, 2, "restart_fin DIR STEPS");
	long steps = atol(argv[2]), together = steps / 4;
	int fd = ra_open_out(argv[1], rank);
	int engine = ra_watch_checkpoints();
	for (long s = 1; s <= together; s++)
		dprintf(fd, "step %ld world %ld\n", s, sum_on(MPI_COMM_WORLD, s * (rank + 3)));
	if (rank == 0 && engine)
		ra_touch(argv[1], "started");
	if (rank == 1) {
		if (engine)
			ra_wait_file(argv[1], "go");
		for (long s = together + 1; s <= steps; s++) {
			ra_pause_ms(10);
			dprintf(fd, "step %ld self %ld\n", s, sum_on(MPI_COMM_SELF, s * 5));
		}
	}
	dprintf(fd, "rank %d finalizing\n", rank);
	int err = MPI_Finalize();
	dprintf(fd, "rank %d finalized: %d\n", rank, err);
	close(fd);
	return 0;
}
