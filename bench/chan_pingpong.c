/*
 * chan_pingpong.c - round-trip time of the channel alone, no MPI.
 *
 *   build/bench/chan_pingpong [rounds]      (make bench-chan)
 *
 * A forked child plays the proxy: it waits for each request and posts the
 * reply at once.  The parent times every round trip (post REQ .. reply
 * seen) and prints the median and 99th percentile for each placement:
 *   cpus  two CPUs, same_cpu=0: the spin phase answers
 *   one   one CPU,  same_cpu=1: sched_yield hands the CPU over
 *   one-spin  one CPU, same_cpu=0: what a wrong same_cpu flag costs
 *   futex two CPUs, no spin or yield: every wait sleeps in the kernel
 * Each placement pins both processes with sched_setaffinity.  Timestamps
 * add one clock_gettime (tens of ns) to each sample.
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chan/chan.h"
#include "util/log.h"

#define WARMUP 1000
#define ROUNDS_DEFAULT 100000

struct placement {
	const char *name;
	int same_cpu;  /* both on the first CPU, else first and second */
	uint32_t flag; /* hdr->same_cpu as told to the channel */
	int sleep_only; /* spin_ns = yield_ns = 0 */
};

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
	if (sched_setaffinity(0, sizeof(set), &set) < 0) {
		dm_err("cannot pin to CPU (%d): %s", cpu, strerror(errno));
		return -1;
	}
	return 0;
}

/* The first two CPUs this process may run on; cpu[1] = -1 if only one. */
static void usable_cpus(int cpu[2])
{
	cpu_set_t set;
	int n = 0;

	cpu[0] = 0;
	cpu[1] = -1;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return;
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			cpu[n++] = c;
}

static void serve(struct chan *ch)
{
	for (uint32_t seen = 0; chan_wait(ch, CHAN_REQ, seen) == 0; seen++)
		chan_post(ch, CHAN_RSP);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void tune(struct chan *ch, const struct placement *p)
{
	if (p->sleep_only) {
		ch->spin_ns = 0;
		ch->yield_ns = 0;
	}
}

static int run(const struct placement *p, const int cpu[2], uint64_t *t,
	       int rounds)
{
	int child_cpu = p->same_cpu ? cpu[0] : cpu[1];
	int fd = chan_create(1 << 20);
	struct chan ch;

	if (fd < 0 || chan_attach(&ch, fd) < 0 || pin(cpu[0]) < 0)
		return -1;
	ch.hdr->same_cpu = p->flag;
	tune(&ch, p);
	pid_t pid = fork();
	if (pid == 0) {
		if (pin(child_cpu) < 0)
			_exit(1);
		serve(&ch);
		_exit(0);
	}
	if (pid < 0) {
		dm_err("cannot fork the bench peer (%s): %s", p->name,
		       strerror(errno));
		return -1;
	}
	for (int i = 0; i < WARMUP + rounds; i++) {
		uint32_t seen = chan_seq(&ch, CHAN_RSP);
		uint64_t t0 = now_ns();
		chan_post(&ch, CHAN_REQ);
		if (chan_wait(&ch, CHAN_RSP, seen) < 0) {
			dm_err("bench peer stopped answering (%s)", p->name);
			return -1;
		}
		if (i >= WARMUP)
			t[i - WARMUP] = now_ns() - t0;
	}
	chan_set_state(&ch, CHAN_APP_GONE);
	waitpid(pid, NULL, 0);
	chan_detach(&ch);
	close(fd);
	qsort(t, (size_t)rounds, sizeof(*t), cmp_u64);
	printf("chan_pingpong: %-9s cpus %d,%d same_cpu=%u: median %llu ns, "
	       "p99 %llu ns (%d round trips)\n", p->name, cpu[0], child_cpu,
	       p->flag, (unsigned long long)t[rounds / 2],
	       (unsigned long long)t[rounds - rounds / 100 - 1], rounds);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct placement places[] = {
		{ "cpus", 0, 0, 0 },
		{ "one", 1, 1, 0 },
		{ "one-spin", 1, 0, 0 },
		{ "futex", 0, 0, 1 },
	};
	int rounds = argc > 1 ? atoi(argv[1]) : ROUNDS_DEFAULT;
	int cpu[2];

	if (rounds < 100) {
		dm_err("bad round count (%s): want at least 100", argv[1]);
		return 64;
	}
	uint64_t *t = malloc((size_t)rounds * sizeof(*t));
	if (t == NULL) {
		dm_err("cannot allocate %d samples: out of memory", rounds);
		return 1;
	}
	usable_cpus(cpu);
	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
		if (!places[i].same_cpu && cpu[1] < 0) {
			printf("chan_pingpong: %-9s skipped: one CPU only\n",
			       places[i].name);
			continue;
		}
		if (run(&places[i], cpu, t, rounds) < 0)
			return 1;
	}
	free(t);
	return 0;
}
