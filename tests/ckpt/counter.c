/*
 * counter.c - single-threaded work (plus the harness's helper thread):
 * a tight FNV loop, checkpointed while it spins.  Also the program of
 * the 10-generation chain and of the forked-checkpoint test.
 */
#include "tests/ckpt/harness.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	const char *s = getenv("COUNTER_STEPS");
	long steps = s ? atol(s) : 200;
	uint64_t h = 1469598103934665603ULL;

	th_start("counter");
	for (long k = 0; k < steps; k++) {
		for (uint64_t i = 0; i < 1000000; i++)
			h = (h ^ ((uint64_t)k * 1000000 + i)) *
			    1099511628211ULL;
		th_step(k);
	}
	th_done();
	printf("counter: steps %ld hash %016llx\n", steps,
	       (unsigned long long)h);
	fprintf(stderr, "counter: generations %d\n", th_generation());
	return 0;
}
