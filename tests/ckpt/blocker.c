/*
 * blocker.c - a thread blocks every signal with the raw system call
 * (getting round the engine's wrappers) while the main thread works.
 * The checkpoint cannot stop it: it must fail with one error line after
 * DMTCP_MPI_CKPT_STOP_TIMEOUT, release the threads it did stop, and the
 * program must finish as if nothing had happened.
 */
#include "tests/ckpt/harness.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile int stop;

static void *blocker(void *arg)
{
	uint64_t all = ~0ULL;

	(void)arg;
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, 8);
	while (!stop)
		usleep(1000);
	return NULL;
}

int main(void)
{
	pthread_t t;
	uint64_t h = 1469598103934665603ULL;

	pthread_create(&t, NULL, blocker, NULL);
	th_start("blocker");
	for (long k = 0; k < 40; k++) {
		for (uint64_t i = 0; i < 300000; i++)
			h = (h ^ i) * 1099511628211ULL;
		th_step(k);
		usleep(1000);
	}
	th_done();
	stop = 1;
	pthread_join(t, NULL);
	printf("blocker: hash %016llx failures %d\n", (unsigned long long)h,
	       th_failures());
	return 0;
}
