/*
 * thread_heap.c - plain threads allocating large blocks while the main
 * thread communicates from large malloc'ed buffers (MPI_THREAD_FUNNELED:
 * only main calls MPI).  Through dmtcp_mpi both kinds of block come from
 * the arena the proxy shares (shim/heap.c), which the workers' malloc,
 * realloc and free change under main's staging (of buffers below the
 * threshold) and borrowing: every
 * block's contents must stay its own.  Every value is computed here.
 */
/* ranks: 2 */
#include <pthread.h>
#include <stdint.h>

#include "mt.h"

enum { WORKERS = 2, ITERS = 300, MIB = 1 << 20, ROUNDS = 60 };

static int me, peer;
static unsigned char small_buf[100000];
static _Atomic int worker_bad;

/* Sizes from 64 KiB to 2 MiB, so both sides of the 128 KiB threshold. */
static size_t size_of(uint32_t x)
{
	return ((size_t)64 << 10) + (x % (2 * MIB - (64 << 10)));
}

static int holds(const unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i += 4093)
		if (p[i] != v)
			return 0;
	return p[n - 1] == v;
}

static void *worker(void *arg)
{
	uint32_t x = 12345u + (uint32_t)(uintptr_t)arg * 7919u;

	for (int i = 0; i < ITERS; i++) {
		x = x * 1664525u + 1013904223u;
		size_t n = size_of(x);
		unsigned char v = (unsigned char)(i + 1);
		unsigned char *p = i % 3 ? malloc(n) : calloc(1, n);
		if (!p) {
			worker_bad++;
			break;
		}
		if (i % 3 == 0 && !holds(p, n, 0))
			worker_bad++;
		memset(p, v, n);
		size_t m = size_of(x >> 7);
		unsigned char *q = realloc(p, m);
		if (!q) {
			free(p);
			worker_bad++;
			break;
		}
		if (!holds(q, n < m ? n : m, v))
			worker_bad++;
		free(q);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int provided;
	pthread_t t[WORKERS];

	MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
	mt_begin("thread_heap");
	me = mt_rank();
	peer = 1 - me;
	for (int i = 0; i < WORKERS; i++)
		pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 2 * me));
	for (int r = 0; r < ROUNDS; r++) {
		unsigned char *s = malloc(MIB), *d = malloc(MIB), *want = malloc(MIB);
		long sum = 0, got = 0;
		MT_CHECK(s && d && want, "malloc failed");
		if (!s || !d || !want)
			break;
		mt_pattern(s, MIB, (uint32_t)(r * 2 + me));
		mt_pattern(want, MIB, (uint32_t)(r * 2 + peer));
		MPI_Sendrecv(s, MIB, MPI_BYTE, peer, r, d, MIB, MPI_BYTE, peer, r,
			     MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		MT_CHECK(!memcmp(d, want, MIB), "round %d: wrong bytes", r);
		/* Below the threshold: glibc's, staged through the arena
		 * while the workers cut blocks from it. */
		enum { SMALL = 100000 };
		for (int k = 0; k < 8; k++) {
			MPI_Sendrecv(s + k, SMALL, MPI_BYTE, peer, k, small_buf, SMALL, MPI_BYTE, peer, k,
				     MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			MT_CHECK(!memcmp(small_buf, want + k, SMALL), "round %d: staged: wrong bytes", r);
		}
		for (int i = 0; i < MIB; i += 512)
			sum += s[i];
		MPI_Allreduce(&sum, &got, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
		free(want);
		free(d);
		free(s);
	}
	for (int i = 0; i < WORKERS; i++)
		pthread_join(t[i], NULL);
	MT_EQ(worker_bad, 0, "workers saw foreign bytes in their blocks");
	mt_say("%d rounds with %d allocating threads: ok", ROUNDS, WORKERS);
	return mt_finish();
}
