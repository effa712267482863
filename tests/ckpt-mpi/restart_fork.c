/*
 * restart_fork.c - the application of restart_fork.sh: each rank forks in
 * a loop while checkpoints come, with a large malloc'ed block live.
 *
 *   restart_fork DIR
 *
 * The block (1 MiB, so the shim's shared heap holds it: shim/heap.c)
 * makes every checkpoint copy the arena with malloc while the other
 * threads are stopped.  The main thread forks a child that exits at once,
 * waits for it, and again, until DIR/stop exists; 256 MiB of private
 * memory it has touched make each fork's clone long, so a stop signal
 * mostly comes during one (glibc holds its malloc locks across the
 * clone).  DIR/forking.<rank> tells the script the loop runs.  Then the
 * block is checked and rank 0 prints "forked: ok" (or FAIL; each rank
 * says on stderr what failed).
 */
#include <errno.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define BLOCK (1 << 20)
#define TOUCHED (256u << 20)

static void touch(const char *dir, const char *name, int rank)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s.%d", dir, name, rank);
	FILE *f = fopen(path, "w");
	if (f)
		fclose(f);
}

static int stopped(const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/stop", dir);
	return access(path, F_OK) == 0;
}

/* A child does not survive a restart: waited for across one, it is
 * gone (ECHILD), which is no failure here. */
static int fork_once(void)
{
	int st;
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return 0;
	if (waitpid(pid, &st, 0) != pid)
		return errno == ECHILD;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(int argc, char **argv)
{
	int rank, bad = 0, all = 0;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	if (argc < 2)
		MPI_Abort(MPI_COMM_WORLD, 2);
	unsigned char *block = malloc(BLOCK);
	char *big = mmap(NULL, TOUCHED, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!block || big == MAP_FAILED)
		MPI_Abort(MPI_COMM_WORLD, 3);
	for (int i = 0; i < BLOCK; i++)
		block[i] = (unsigned char)(i * 7 + rank);
	memset(big, 1, TOUCHED);
	touch(argv[1], "forking", rank);
	while (!stopped(argv[1]))
		if (!fork_once() && !bad++)
			fprintf(stderr, "restart_fork: rank %d: a fork failed\n", rank);
	for (int i = 0; i < BLOCK; i++)
		if (block[i] != (unsigned char)(i * 7 + rank) && !bad++)
			fprintf(stderr, "restart_fork: rank %d: byte %d of the block changed\n",
				rank, i);
	MPI_Allreduce(&bad, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	if (rank == 0)
		printf("forked: %s\n", all ? "FAIL" : "ok");
	free(block);
	MPI_Finalize();
	return all != 0;
}
