/*
 * restart_final.c - the application of tests/ckpt-mpi/restart_final.sh.
 *
 *   restart_final DIR
 *
 * Two ranks sum their ranks, call MPI_Finalize and end; each appends
 * what it did to DIR/out.<rank>, the last line ("end") after the
 * checkpoint.  Under the checkpoint engine both ranks, past
 * MPI_Finalize, create DIR/after.<rank> and wait, outside MPI, for
 * DIR/done, which the script creates once its checkpoint is complete (a
 * rank that ended before every image was written would fail it).  Their
 * proxies have finalized then; they used to exit at once, and PARK
 * waited for ever for an answer.  A restart starts MPI in the new
 * proxies and ends it again before the ranks go on; they then write
 * their last line.  A native run does not wait.  A large malloc'ed
 * array, filled before MPI_Finalize, is summed in the last line: through
 * dmtcp_mpi it lives in the channel arena (shim/heap.c), which the image
 * must keep although the checkpoint came after MPI_Finalize.
 */
#include "restart_app.h"

int main(int argc, char **argv)
{
	int rank, size, sum = 0, done = 0;
	char name[32];

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (argc != 2) {
		fprintf(stderr, "usage: restart_final DIR\n");
		MPI_Abort(MPI_COMM_WORLD, 64);
	}
	int fd = ra_open_out(argv[1], rank);
	int engine = ra_watch_checkpoints();
	enum { N = 1 << 18 };
	unsigned *arr = malloc(N * sizeof(unsigned)), h = 2166136261u;
	if (!arr)
		MPI_Abort(MPI_COMM_WORLD, 3);
	for (int i = 0; i < N; i++)
		arr[i] = (unsigned)(i * 2654435761u) ^ (unsigned)rank;
	MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	dprintf(fd, "rank %d of %d: sum %d\n", rank, size, sum);
	int err = MPI_Finalize();
	MPI_Finalized(&done);
	dprintf(fd, "finalized: %d, error %d\n", done, err);
	if (engine) {
		snprintf(name, sizeof(name), "after.%d", rank);
		ra_touch(argv[1], name);
		ra_wait_file(argv[1], "done");
	}
	for (int i = 0; i < N; i++)
		h = (h ^ arr[i]) * 16777619u;
	free(arr);
	dprintf(fd, "end, array %08x\n", h);
	close(fd);
	return 0;
}
