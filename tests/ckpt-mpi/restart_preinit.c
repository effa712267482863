/*
 * restart_preinit.c - the application of tests/ckpt-mpi/restart_preinit.sh.
 *
 *   restart_preinit DIR
 *
 * Under the checkpoint engine each rank, before MPI_Init, creates
 * DIR/before.<rank> (the rank from DMTCP_MPI_RANK: there is no MPI yet)
 * and waits for DIR/done, which the script creates once its checkpoint
 * is complete.  So the images hold processes that never called MPI.  A
 * restart's proxies start MPI before the restored ranks ask
 * (proxy/env.c, px_init_early); the restored ranks' MPI_Init must get
 * that MPI's answer: the right rank and size, and a working world.  Then
 * the ranks sum their ranks and append the result to DIR/out.<rank>.  A
 * native run does not wait.
 */
#include "restart_app.h"

int main(int argc, char **argv)
{
	int rank, size, sum = 0;
	char name[32];

	if (argc != 2) {
		fprintf(stderr, "usage: restart_preinit DIR\n");
		return 64;
	}
	if (ra_watch_checkpoints()) {
		const char *r = getenv("DMTCP_MPI_RANK");
		snprintf(name, sizeof(name), "before.%s", r ? r : "?");
		ra_touch(argv[1], name);
		ra_wait_file(argv[1], "done");
	}
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	int fd = ra_open_out(argv[1], rank);
	MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	dprintf(fd, "rank %d of %d: sum %d\n", rank, size, sum);
	MPI_Finalize();
	close(fd);
	return 0;
}
