/*
 * threads.c - 8 threads pass a token round a ring under one mutex and a
 * condition variable, each folding it into thread-local state.  After
 * the run each thread checks what a restart could break:
 *   - an error-checking mutex (its owner is glibc's cached tid);
 *   - pthread_kill to itself (glibc signals the cached tid);
 *   - rseq still registered (registering again must say EBUSY);
 * and main joins them all (the kernel clears the cached tid at exit).
 */
#include "tests/ckpt/harness.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NT 8

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t emu;
static int turn;
static long rounds;
static __thread uint64_t acc;
static __thread int got_signal;
static uint64_t result[NT];
static int checks[NT];

static void on_usr1(int sig)
{
	(void)sig;
	got_signal++;
}

static int rseq_registered(void)
{
	if (__rseq_size == 0)
		return 1;   /* glibc did not register one: nothing to check */
	char *area = (char *)__builtin_thread_pointer() + __rseq_offset;
	long r = syscall(SYS_rseq, area, 32, 0, 0x53053053);
	return r == -1 && errno == EBUSY;
}

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg;

	acc = 0x9e3779b97f4a7c15ULL * (uint64_t)(id + 1);
	for (long r = 0; r < rounds; r++) {
		pthread_mutex_lock(&mu);
		while (turn != id)
			pthread_cond_wait(&cv, &mu);
		acc = (acc ^ (uint64_t)(r * NT + id)) * 0x100000001b3ULL;
		if (id == 0)
			th_step(r);
		turn = (id + 1) % NT;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mu);
	}
	int ok = 0;
	if (pthread_mutex_lock(&emu) == 0 && pthread_mutex_unlock(&emu) == 0)
		ok |= 1;
	pthread_kill(pthread_self(), SIGUSR1);
	if (got_signal == 1)
		ok |= 2;
	if (rseq_registered())
		ok |= 4;
	result[id] = acc;
	checks[id] = ok;
	return NULL;
}

int main(void)
{
	pthread_mutexattr_t ma;
	pthread_t t[NT];
	const char *s = getenv("THREADS_ROUNDS");

	rounds = s ? atol(s) : 20000;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&emu, &ma);
	signal(SIGUSR1, on_usr1);
	th_start("threads");
	for (int i = 0; i < NT; i++)
		pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
	for (int i = 0; i < NT; i++)
		if (pthread_join(t[i], NULL) != 0)
			printf("threads: join %d failed\n", i);
	th_done();
	for (int i = 0; i < NT; i++)
		printf("threads: %d acc %016llx checks %d\n", i,
		       (unsigned long long)result[i], checks[i]);
	return 0;
}
