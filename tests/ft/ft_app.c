/*
 * ft_app.c - the application of the fault tests (tests/ft/).
 *
 *   ft_app DIR STEPS PAUSE_MS EXIT_STATUS
 *
 * A deterministic job that is slow enough to be killed anywhere: each
 * step passes a value to the right neighbour (Sendrecv), sums the ranks'
 * values (Allreduce), pauses PAUSE_MS, and appends one line to
 * DIR/out.<rank>.  The file is opened once, in append mode, so a rank
 * restored from a checkpoint cuts it back to its size at the checkpoint
 * and goes on: a run killed and restarted any number of times must leave
 * the same files as one that never was.  Every rank ends with
 * EXIT_STATUS after MPI_Finalize, so the tests can check that the run
 * script hands the application's own status back.
 */
#include <fcntl.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The next value of a rank's state: mixes in the neighbour and the sum,
 * so a lost or repeated message changes every later line. */
static unsigned long mix(unsigned long self, unsigned long left,
			 unsigned long sum, long step)
{
	return (self * 6364136223846793005ul + left * 31 + sum) ^
	       (unsigned long)step;
}

static int open_output(const char *dir, int rank)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/out.%d", dir, rank);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (fd < 0) {
		perror(path);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	int rank, size;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (argc != 5) {
		fprintf(stderr, "usage: ft_app DIR STEPS PAUSE_MS EXIT_STATUS\n");
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	long steps = atol(argv[2]), pause = atol(argv[3]);
	int status = atoi(argv[4]);
	int fd = open_output(argv[1], rank);
	int left = (rank + size - 1) % size, right = (rank + 1) % size;
	unsigned long state = (unsigned long)rank + 1;

	for (long s = 1; s <= steps; s++) {
		unsigned long from_left, sum;
		char line[128];

		MPI_Sendrecv(&state, 1, MPI_UNSIGNED_LONG, right, 1, &from_left,
			     1, MPI_UNSIGNED_LONG, left, 1, MPI_COMM_WORLD,
			     MPI_STATUS_IGNORE);
		MPI_Allreduce(&state, &sum, 1, MPI_UNSIGNED_LONG, MPI_SUM,
			      MPI_COMM_WORLD);
		state = mix(state, from_left, sum, s);
		int n = snprintf(line, sizeof(line), "step %ld rank %d %016lx\n",
				 s, rank, state);
		if (write(fd, line, (size_t)n) != n) {
			perror("write");
			MPI_Abort(MPI_COMM_WORLD, 1);
		}
		pause_ms(pause);
	}
	close(fd);
	if (rank == 0)
		printf("ft_app: %d ranks, %ld steps done\n", size, steps);
	MPI_Finalize();
	return status;
}
