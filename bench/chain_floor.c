/*
 * chain_floor.c - the fastest a 2-rank message can cross our process chain
 * on a machine where each rank and its proxy share one CPU.
 *
 *   build/bench/chain_floor [round trips]      prints "floor_8 <us>"
 *
 * Four processes pass a word along app0 -> proxy0 -> proxy1 -> app1 and
 * back through shared memory, placed as dmtcp_mpi places a 2-rank job on
 * 2 CPUs (app0 and proxy0 on the first CPU, proxy1 and app1 on the
 * second) and waiting as dmtcp_mpi does there: an app waiting for its
 * proxy, or a proxy for its app, re-checks and calls sched_yield, so each
 * hand-off on one CPU is one context switch (chan/wait.c with same_cpu);
 * a proxy waiting for the other proxy re-checks for PX_SPIN_NS before
 * each yield, as the proxy's MPI test loop does (proxy/progress.c).
 * There is no MPI, no call slot and no payload: what is left is the
 * scheduling cost of the chain itself, the reference for the 8-byte
 * ping-pong latency through dmtcp_mpi (bench/run.sh prints the ratio).
 *
 * Prints the median one-way time (half a round trip) of 7 batches.
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

#define HOPS 3                /* app0->proxy0, proxy0->proxy1, proxy1->app1 */
#define MIDDLE 1              /* the proxy0 <-> proxy1 link */
#define PX_SPIN_NS 3000       /* as proxy/progress.c */
#define BATCHES 7
#define ROUNDS_DEFAULT 20000

/* One word per direction of each hop, each on its own cache line. */
struct link {
	_Alignas(64) _Atomic uint32_t fwd;
	_Alignas(64) _Atomic uint32_t back;
};

static struct link *links; /* HOPS of them, shared */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) == 0)
		return 0;
	dm_err("cannot pin the chain floor to CPU (%d): %s", cpu, strerror(errno));
	return -1;
}

/* Wait as the channel does when its peer shares the CPU (spin_ns 0), or
 * as the proxy's test loop does (re-check for spin_ns between yields). */
static void wait_for(_Atomic uint32_t *w, uint32_t want, uint64_t spin_ns)
{
	uint64_t turn = spin_ns ? now_ns() : 0;

	while (atomic_load_explicit(w, memory_order_acquire) != want) {
		if (spin_ns == 0 || now_ns() - turn >= spin_ns) {
			sched_yield();
			turn = spin_ns ? now_ns() : 0;
		}
	}
}

static void post(_Atomic uint32_t *w, uint32_t v)
{
	atomic_store_explicit(w, v, memory_order_release);
}

/* Process p of the chain (0 = app0 .. 3 = app1) for round trips
 * first..last (numbered from 1).  Link i joins process i and i+1. */
static void relay(int p, uint32_t first, uint32_t last)
{
	for (uint32_t i = first; i <= last; i++) {
		if (p > 0)
			wait_for(&links[p - 1].fwd, i, p - 1 == MIDDLE ? PX_SPIN_NS : 0);
		if (p < HOPS) {
			post(&links[p].fwd, i);
			wait_for(&links[p].back, i, p == MIDDLE ? PX_SPIN_NS : 0);
		}
		if (p > 0)
			post(&links[p - 1].back, i);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int usable_cpus(int cpu[2])
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 0;
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			cpu[n++] = c;
	return n;
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : ROUNDS_DEFAULT;
	long per_batch = rounds / BATCHES;
	int cpu[2];
	pid_t kid[HOPS];
	double t[BATCHES];

	if (per_batch < 10) {
		dm_err("bad round count (%s): want at least %d", argv[1], 10 * BATCHES);
		return 64;
	}
	if (usable_cpus(cpu) < 2) {
		dm_err("chain floor needs two CPUs (affinity of pid %d)", (int)getpid());
		return 1;
	}
	links = mmap(NULL, HOPS * sizeof(*links), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (links == MAP_FAILED) {
		dm_err("cannot map the chain links (%zu bytes): %s",
		       HOPS * sizeof(*links), strerror(errno));
		return 1;
	}
	/* Processes 1..3 run every batch back to back (plus a warm-up
	 * batch); process 0, the timer, is this one. */
	for (int p = 1; p <= HOPS; p++) {
		kid[p - 1] = fork();
		if (kid[p - 1] == 0)
			{
			if (pin(cpu[p / 2]) < 0)
				_exit(1);
			relay(p, 1, (uint32_t)(per_batch * (BATCHES + 1)));
			_exit(0);
		}
		if (kid[p - 1] < 0) {
			dm_err("cannot fork chain process (%d): %s", p, strerror(errno));
			return 1;
		}
	}
	if (pin(cpu[0]) < 0)
		return 1;
	relay(0, 1, (uint32_t)per_batch); /* warm-up */
	for (int b = 0; b < BATCHES; b++) {
		uint32_t first = (uint32_t)(per_batch * (b + 1)) + 1;
		uint64_t t0 = now_ns();
		relay(0, first, first + (uint32_t)per_batch - 1);
		t[b] = (double)(now_ns() - t0) / 1e3 / (double)per_batch / 2;
	}
	for (int p = 0; p < HOPS; p++)
		waitpid(kid[p], NULL, 0);
	qsort(t, BATCHES, sizeof(*t), cmp_double);
	printf("floor_8 %.4f\n", t[BATCHES / 2]);
	return 0;
}
