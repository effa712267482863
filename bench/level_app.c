/*
 * level_app.c - the application of bench/restart_level.sh: the latency
 * of an 8-byte ping-pong and of an MPI_Iprobe that finds nothing, in a
 * fresh job and in a restarted one.
 *
 *   level_app DIR single|funneled|multiple
 *
 * After MPI_Init_thread at the level asked, each rank creates
 * DIR/ready.<rank> and waits, outside MPI, until DIR/go exists: a
 * checkpoint taken meanwhile resumes there after a restart, so the same
 * loops then run in the restarted job.  Rank 0 prints "pingpong_8 US",
 * "iprobe US" (the median over batches of the one-way time and of one
 * call, in microseconds; both ranks probe at once, rank 0's is printed)
 * and "level single|funneled|serialized|multiple" (MPI_Query_thread).
 * The loops are bench/mpibench.c's; DMTCP_MPI_BENCH_SMOKE runs each once
 * (bench/timing.h).
 */
#include <fcntl.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "timing.h"

#define BATCHES 9
#define PINGPONG_ITERS 4000
#define IPROBE_CALLS 40000
#define GO_WAIT_S 600

static int rank;

static double pingpong8(void)
{
	char buf[8] = { 0 };
	double t[BATCHES];
	int peer = 1 - rank, nb = bench_n(BATCHES), iters = bench_n(PINGPONG_ITERS);

	for (int b = -1; b < nb; b++) { /* batch -1 warms up */
		MPI_Barrier(MPI_COMM_WORLD);
		double t0 = now_us();
		for (int i = 0; i < iters; i++) {
			if (rank == 0)
				MPI_Send(buf, 8, MPI_BYTE, peer, 1, MPI_COMM_WORLD);
			MPI_Recv(buf, 8, MPI_BYTE, peer, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			if (rank == 1)
				MPI_Send(buf, 8, MPI_BYTE, peer, 1, MPI_COMM_WORLD);
		}
		if (b >= 0)
			t[b] = (now_us() - t0) / iters / 2;
	}
	return median(t, nb);
}

static double iprobe_null(void)
{
	double t[BATCHES];
	int flag = 0, nb = bench_n(BATCHES), calls = bench_n(IPROBE_CALLS);

	for (int b = -1; b < nb; b++) {
		MPI_Barrier(MPI_COMM_WORLD);
		double t0 = now_us();
		for (int i = 0; i < calls; i++)
			MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag,
				   MPI_STATUS_IGNORE);
		if (b >= 0)
			t[b] = (now_us() - t0) / calls;
		if (flag) {
			fprintf(stderr, "level_app: error: MPI_Iprobe found a message (rank %d)\n",
				rank);
			MPI_Abort(MPI_COMM_WORLD, 1);
		}
	}
	return median(t, nb);
}

static void touch_ready(const char *dir)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/ready.%d", dir, rank);
	int fd = open(path, O_WRONLY | O_CREAT, 0644);
	if (fd < 0) {
		perror(path);
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	close(fd);
}

static void wait_go(const char *dir)
{
	char path[4200];
	struct timespec tick = { 0, 10 * 1000 * 1000 };

	snprintf(path, sizeof(path), "%s/go", dir);
	for (int n = 0; access(path, F_OK) != 0; n++) {
		if (n == GO_WAIT_S * 100) {
			fprintf(stderr, "level_app: error: no %s came\n", path);
			exit(3);
		}
		nanosleep(&tick, NULL);
	}
}

static int level_of(const char *name)
{
	if (strcmp(name, "single") == 0)
		return MPI_THREAD_SINGLE;
	if (strcmp(name, "funneled") == 0)
		return MPI_THREAD_FUNNELED;
	if (strcmp(name, "multiple") == 0)
		return MPI_THREAD_MULTIPLE;
	return -1;
}

static const char *level_name(int level)
{
	return level == MPI_THREAD_SINGLE ? "single" :
	       level == MPI_THREAD_FUNNELED ? "funneled" :
	       level == MPI_THREAD_SERIALIZED ? "serialized" : "multiple";
}

int main(int argc, char **argv)
{
	int want = argc == 3 ? level_of(argv[2]) : -1, provided, size;

	if (want < 0) {
		fprintf(stderr, "usage: level_app DIR single|funneled|multiple\n");
		return 64;
	}
	MPI_Init_thread(&argc, &argv, want, &provided);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != 2) {
		fprintf(stderr, "level_app: error: needs 2 ranks, has %d\n", size);
		MPI_Abort(MPI_COMM_WORLD, 64);
	}
	touch_ready(argv[1]);
	wait_go(argv[1]);
	double pp = pingpong8(), ip = iprobe_null();
	MPI_Query_thread(&provided);
	if (rank == 0)
		printf("pingpong_8 %.4f\niprobe %.4f\nlevel %s\n", pp, ip, level_name(provided));
	MPI_Finalize();
	return 0;
}
