/*
 * mutex_cost.c - the cost of an uncontended pthread_mutex_lock/unlock
 * pair, for bench/mutex_cost.sh, which runs it with and without the
 * checkpoint engine preloaded (its wrappers, ckpt/mutexown.c, come before
 * glibc's then).
 *
 *   mutex_cost
 *
 * Prints "normal=NS recursive=NS": nanoseconds per lock+unlock pair on a
 * default and on a recursive mutex, each the fastest of 41 batches of
 * 100000 pairs (1 pair each under DMTCP_MPI_BENCH_SMOKE): on a shared
 * machine most batches are preempted, and the fastest is the one that
 * measured the code rather than the neighbours.
 */
#include <pthread.h>
#include <stdio.h>

#include "bench/timing.h"

enum { BATCHES = 41, PAIRS = 100000 };

static double ns_per_pair(pthread_mutex_t *m)
{
	double best = 0;
	int batches = bench_n(BATCHES), pairs = bench_n(PAIRS);

	for (int b = 0; b < batches; b++) {
		double t0 = now_us();
		for (int i = 0; i < pairs; i++) {
			pthread_mutex_lock(m);
			pthread_mutex_unlock(m);
		}
		double ns = (now_us() - t0) * 1e3 / pairs;
		if (b == 0 || ns < best)
			best = ns;
	}
	return best;
}

int main(void)
{
	pthread_mutex_t normal = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_t recursive = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

	printf("normal=%.2f recursive=%.2f\n", ns_per_pair(&normal), ns_per_pair(&recursive));
	return 0;
}
