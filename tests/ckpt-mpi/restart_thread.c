/*
 * restart_thread.c - the application of tests/ckpt-mpi/restart_thread.sh.
 *
 *   restart_thread DIR STEPS
 *
 * MPI_THREAD_MULTIPLE across a checkpoint.  Two worker threads per rank,
 * in lock step with the main thread (one barrier before and one after
 * each step): thread A receives from the left neighbour, then runs an
 * Allreduce on its own duplicate of MPI_COMM_WORLD; thread B first pauses
 * (so a checkpoint usually finds A polling its receive and B outside
 * MPI), then sends to the right neighbour and runs an Allreduce on the
 * other duplicate.  The main thread appends both results of each step to
 * DIR/out.<rank>; an interrupted run must leave the same files as one
 * that never was.
 */
#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "restart_app.h"

static int rank, size, left, right;
static long steps;
static MPI_Comm comm_a, comm_b;
static pthread_barrier_t step_start, step_end;
static int got[2], sum_a, sum_b;

static void *thread_a(void *arg)
{
	(void)arg;
	for (long s = 0; s < steps; s++) {
		int in;
		pthread_barrier_wait(&step_start);
		MPI_Recv(got, 2, MPI_INT, left, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		in = got[1] + rank;
		MPI_Allreduce(&in, &sum_a, 1, MPI_INT, MPI_SUM, comm_a);
		pthread_barrier_wait(&step_end);
	}
	return NULL;
}

static void *thread_b(void *arg)
{
	(void)arg;
	for (long s = 0; s < steps; s++) {
		int out[2] = { rank, (int)s * 5 + rank }, in = (int)s - rank;
		pthread_barrier_wait(&step_start);
		ra_pause_ms(10);
		MPI_Send(out, 2, MPI_INT, right, 1, MPI_COMM_WORLD);
		MPI_Allreduce(&in, &sum_b, 1, MPI_INT, MPI_SUM, comm_b);
		pthread_barrier_wait(&step_end);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int provided;
	pthread_t ta, tb;

	MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	steps = ra_steps(argc, argv, provided == MPI_THREAD_MULTIPLE,
			 "restart_thread DIR STEPS (needs MPI_THREAD_MULTIPLE)");
	FILE *f = ra_fopen_out(argv[1], rank);
	left = (rank + size - 1) % size;
	right = (rank + 1) % size;
	MPI_Comm_dup(MPI_COMM_WORLD, &comm_a);
	MPI_Comm_dup(MPI_COMM_WORLD, &comm_b);
	pthread_barrier_init(&step_start, NULL, 3);
	pthread_barrier_init(&step_end, NULL, 3);
	pthread_create(&ta, NULL, thread_a, NULL);
	pthread_create(&tb, NULL, thread_b, NULL);
	for (long s = 0; s < steps; s++) {
		pthread_barrier_wait(&step_start);
		pthread_barrier_wait(&step_end);
		fprintf(f, "%ld: from %d got %d; sums %d %d\n", s, got[0], got[1], sum_a, sum_b);
		fflush(f);
	}
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	MPI_Comm_free(&comm_a);
	MPI_Comm_free(&comm_b);
	fclose(f);
	printf("rank %d of %d done\n", rank, size);
	MPI_Finalize();
	return 0;
}
