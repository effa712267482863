/*
 * heap.c - a large heap (DMTCP_MPI_TEST_HEAP_MB, default 256 MiB): half
 * compressible doubles, half pseudo-random bytes, plus 20000 small
 * malloc'd list nodes in the brk heap.  Every step rewrites a slice and
 * allocates more; the final checksum covers all of it, and malloc must
 * still work after a restart.
 */
#include "tests/ckpt/harness.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
	struct node *next;
	uint64_t v;
};

static uint64_t mix(const uint64_t *p, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

int main(void)
{
	const char *s = getenv("DMTCP_MPI_TEST_HEAP_MB");
	size_t mb = s ? (size_t)atol(s) : 256, n = mb << 17;   /* words */
	uint64_t *buf = malloc(n * 8), x = 88172645463325252ULL;
	struct node *list = NULL;

	if (!buf)
		return 2;
	th_start("heap");
	for (size_t i = 0; i < n / 2; i++) {
		double d = (double)i * 0.001;
		memcpy(&buf[i], &d, 8);
	}
	for (size_t i = n / 2; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = x;
	}
	for (long k = 0; k < 100; k++) {
		for (int j = 0; j < 200; j++) {
			struct node *nd = malloc(sizeof(*nd) + (size_t)j);
			nd->v = (uint64_t)(k * 200 + j);
			nd->next = list;
			list = nd;
		}
		size_t at = ((size_t)k * 7919 * 4096) % (n - 512);
		for (size_t i = 0; i < 512; i++)
			buf[at + i] += (uint64_t)k;
		th_step(k);
	}
	th_done();
	uint64_t h = mix(buf, n, 1469598103934665603ULL), sum = 0;
	for (struct node *nd = list; nd; nd = nd->next)
		sum += nd->v;
	printf("heap: %zu MiB hash %016llx list %llu\n", mb,
	       (unsigned long long)h, (unsigned long long)sum);
	return 0;
}
