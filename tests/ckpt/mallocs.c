/*
 * mallocs.c - 4 threads allocate and free without pause, so a stop
 * signal often lands inside malloc; the harness's hooks allocate too
 * (DMTCP_MPI_TEST_HOOKS=1).  Nothing may hang, and the heap must still
 * be consistent after a restart: each thread checks its live blocks.
 */
#include "tests/ckpt/harness.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NT 4
#define LIVE 512

static uint64_t result[NT];
static volatile int step_done[NT];

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	unsigned char *live[LIVE] = { 0 };
	size_t size[LIVE] = { 0 };
	uint64_t x = 0x9e3779b97f4a7c15ULL * (uint64_t)(id + 1), h = 0;

	for (long k = 0; k < 60; k++) {
		for (int i = 0; i < 4000; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			int s = (int)(x % LIVE);
			if (live[s]) {
				for (size_t j = 0; j < size[s]; j++)
					if (live[s][j] != (unsigned char)(s + j))
						h += 1000000;   /* corrupt */
				free(live[s]);
			}
			size[s] = (size_t)(x >> 20) % 3000 + 1;
			live[s] = malloc(size[s]);
			for (size_t j = 0; j < size[s]; j++)
				live[s][j] = (unsigned char)(s + j);
			h = h * 31 + size[s];
		}
		if (id == 0)
			th_step(k);
	}
	for (int s = 0; s < LIVE; s++)
		free(live[s]);
	result[id] = h;
	return NULL;
}

int main(void)
{
	pthread_t t[NT];

	th_start("mallocs");
	for (int i = 0; i < NT; i++)
		pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
	for (int i = 0; i < NT; i++)
		pthread_join(t[i], NULL);
	th_done();
	for (int i = 0; i < NT; i++)
		printf("mallocs: %d %016llx\n", i,
		       (unsigned long long)result[i]);
	return 0;
}
