/*
 * sleeper.c - the main thread sleeps on absolute deadlines most of the
 * time, so checkpoints find it inside clock_nanosleep.  The stop signal
 * interrupts the sleep (EINTR); sleeping again to the same deadline is
 * what robust programs do anyway.
 */
#include "tests/ckpt/harness.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

int main(void)
{
	struct timespec next;
	uint64_t h = 1469598103934665603ULL;
	long wakeups = 0;

	th_start("sleeper");
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (long k = 0; k < 60; k++) {
		next.tv_nsec += 10 * 1000 * 1000;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
				       NULL) == EINTR)
			;
		wakeups++;
		h = (h ^ (uint64_t)k) * 1099511628211ULL;
		th_step(k);
	}
	th_done();
	printf("sleeper: %ld wakeups hash %016llx\n", wakeups,
	       (unsigned long long)h);
	return 0;
}
