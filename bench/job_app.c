/*
 * job_app.c - the MPI job that bench/job_ckpt.sh checkpoints and restarts.
 *
 *   mpirun -n N dmtcp_mpi job_app DIR MIB
 *
 * Each rank fills MIB MiB with data that compresses about as well as
 * floating-point results do (24 random bits in every 64-bit word, so
 * neither zeros nor noise), records a checksum of it, and says so in
 * DIR/ready.RANK.  Then, until DIR/stop exists, the ranks do an
 * Allreduce every 10 ms and rank 0 writes the wall-clock time, in
 * nanoseconds, to DIR/alive: the first value written after a restart
 * tells the benchmark when the restarted job was working again (every
 * rank restored, the new proxies' MPI carrying a collective).  At the end
 * each rank checks its data against the checksum; the exit status is 1
 * if any rank's data came back wrong.
 */
#include <mpi.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t checksum(const uint64_t *w, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ w[i]) * 0x100000001b3ULL;
	return h;
}

static void fill(uint64_t *w, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		w[i] = (x >> 40) | ((uint64_t)0x3ff0 << 48);
	}
}

/* Replace DIR/NAME with text; by rename, so a reader never sees half. */
static void put(const char *dir, const char *name, const char *text)
{
	char path[4096], tmp[4200];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(tmp);
		return;
	}
	if (write(fd, text, strlen(text)) < 0)
		perror(tmp);
	close(fd);
	if (rename(tmp, path) != 0)
		perror(path);
}

static int exists(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

int main(int argc, char **argv)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 }, now;
	char name[64], text[64];
	int rank, bad = 0, anybad = 0;
	int stop = 0, stop_seen = 0;

	MPI_Init(&argc, &argv);
	if (argc != 3) {
		fprintf(stderr, "usage: job_app DIR MIB\n");
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	size_t n = (size_t)atol(argv[2]) << 17;   /* 8-byte words in MIB MiB */
	uint64_t *w = malloc(n * sizeof *w);
	if (!w) {
		fprintf(stderr, "job_app: rank %d: no memory for %s MiB\n", rank, argv[2]);
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	fill(w, n, (uint64_t)rank + 1);
	uint64_t sum0 = checksum(w, n);
	MPI_Barrier(MPI_COMM_WORLD);
	snprintf(name, sizeof name, "ready.%d", rank);
	put(argv[1], name, "ready\n");

	/* Rank 0 looks for DIR/stop and the Allreduce tells everyone, so all
	 * ranks leave the loop after the same collective. */
	while (!stop) {
		stop_seen = rank == 0 && exists(argv[1], "stop");
		MPI_Allreduce(&stop_seen, &stop, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
		if (rank == 0) {
			clock_gettime(CLOCK_REALTIME, &now);
			snprintf(text, sizeof text, "%lld\n",
				 (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
			put(argv[1], "alive", text);
		}
		nanosleep(&tick, NULL);
	}
	bad = checksum(w, n) != sum0;
	if (bad)
		fprintf(stderr, "job_app: rank %d: data changed\n", rank);
	MPI_Allreduce(&bad, &anybad, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	free(w);
	MPI_Finalize();
	return anybad ? 1 : 0;
}
