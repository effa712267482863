/*
 * p2p_heap.c - large malloc'ed, calloc'ed, realloc'ed and aligned
 * buffers in point-to-point calls and collectives.  Through dmtcp_mpi
 * such blocks come from the memory the proxy shares (shim/heap.c) and the
 * real MPI uses them in place; everything must behave as natively: the
 * contents, calloc's zeroes, realloc keeping contents across sizes (and
 * across the 128 KiB threshold both ways), alignment, blocks freed and
 * made again in a loop, a fork()ed child whose writes must not reach the
 * parent's arrays, and arrays read, freed and allocated after
 * MPI_Finalize.  Every value is computed here.
 */
/* ranks: 2 */
#include <errno.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mt.h"

enum { MIB = 1 << 20 };

static int me, peer;

static void *must(void *p, const char *what)
{
	if (!p)
		MT_FAIL("%s failed", what);
	return p;
}

static int differ(const void *a, const void *b, size_t n)
{
	return memcmp(a, b, n) != 0;
}

/* Both ways, blocking then nonblocking, 1 MiB each. */
static void test_p2p(int round)
{
	unsigned char *s = must(malloc(MIB), "malloc");
	unsigned char *r = must(malloc(MIB), "malloc");
	unsigned char *want = must(malloc(MIB), "malloc");
	MPI_Request q[2];

	mt_pattern(s, MIB, 10 * round + me);
	mt_pattern(want, MIB, 10 * round + peer);
	MPI_Sendrecv(s, MIB, MPI_BYTE, peer, 1, r, MIB, MPI_BYTE, peer, 1, MPI_COMM_WORLD,
		     MPI_STATUS_IGNORE);
	MT_CHECK(!differ(r, want, MIB), "round %d: Sendrecv: wrong bytes", round);
	memset(r, 0, MIB);
	MPI_Irecv(r, MIB, MPI_BYTE, peer, 2, MPI_COMM_WORLD, &q[0]);
	MPI_Isend(s, MIB, MPI_BYTE, peer, 2, MPI_COMM_WORLD, &q[1]);
	MPI_Waitall(2, q, MPI_STATUSES_IGNORE);
	MT_CHECK(!differ(r, want, MIB), "round %d: Isend/Irecv: wrong bytes", round);
	if (me == 0)
		MPI_Send(s + 12345, 200000, MPI_BYTE, peer, 3, MPI_COMM_WORLD);
	else
		MPI_Recv(r + 999, 200000, MPI_BYTE, peer, 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	if (me == 1)
		MT_CHECK(!differ(r + 999, want + 12345, 200000), "round %d: inner span", round);
	free(want);
	free(r);
	free(s);
}

/* calloc'ed blocks are zero even where an earlier block was freed. */
static void test_calloc_coll(int round)
{
	enum { N = MIB / sizeof(int) };
	int *a = must(calloc(N, sizeof(int)), "calloc");
	int *b = must(calloc(N, sizeof(int)), "calloc");
	int bad = 0;

	for (int i = 0; i < N; i++)
		bad += a[i] != 0 || b[i] != 0;
	MT_EQ(bad, 0, "calloc: not zero");
	for (int i = 0; i < N; i++)
		a[i] = i * (me + 1) + round;
	MPI_Allreduce(a, b, N, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	bad = 0;
	for (int i = 0; i < N; i++)
		bad += b[i] != 3 * i + 2 * round;
	MT_EQ(bad, 0, "Allreduce: wrong sums");
	MPI_Bcast(a, N, MPI_INT, 1, MPI_COMM_WORLD);
	bad = 0;
	for (int i = 0; i < N; i++)
		bad += a[i] != 2 * i + round;
	MT_EQ(bad, 0, "Bcast: wrong values");
	MPI_Alltoall(b, N / 2, MPI_INT, a, N / 2, MPI_INT, MPI_COMM_WORLD);
	bad = 0;
	for (int i = 0; i < N / 2; i++)
		bad += a[i] != 3 * (i + me * (N / 2)) + 2 * round ||
		       a[N / 2 + i] != 3 * (i + me * (N / 2)) + 2 * round;
	MT_EQ(bad, 0, "Alltoall: wrong values");
	free(a);
	free(b);
}

/* realloc from small to large to larger to small keeps the contents;
 * the grown block is then sent. */
static void test_realloc(int round)
{
	size_t n = 1000;
	unsigned char *p = must(malloc(n), "malloc"), *want = must(malloc(3 * MIB), "malloc");

	mt_pattern(want, 3 * MIB, 77 + round);
	memcpy(p, want, n);
	for (size_t to = 300000; to <= 3 * MIB; to = to * 3) {
		p = must(realloc(p, to), "realloc");
		MT_CHECK(!differ(p, want, n), "realloc to %zu lost bytes", to);
		memcpy(p, want, to);
		n = to;
	}
	if (me == 0)
		MPI_Send(p, (int)n, MPI_BYTE, peer, 4, MPI_COMM_WORLD);
	else {
		memset(p, 0, n);
		MPI_Recv(p, (int)n, MPI_BYTE, peer, 4, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		MT_CHECK(!differ(p, want, n), "realloc'ed buffer: wrong bytes");
	}
	p = must(realloc(p, 5000), "realloc");
	MT_CHECK(!differ(p, want, 5000), "realloc down lost bytes");
	free(p);
	free(want);
}

static void test_aligned(void)
{
	void *p = NULL, *q = aligned_alloc(4096, 2 * MIB);
	int rc = posix_memalign(&p, 256, 600000);

	MT_CHECK(rc == 0 && p && ((uintptr_t)p % 256) == 0, "posix_memalign: %d %p", rc, p);
	MT_CHECK(q && ((uintptr_t)q % 4096) == 0, "aligned_alloc: %p", q);
	if (!p || !q)
		return;
	mt_pattern(p, 600000, 5);
	MPI_Allreduce(MPI_IN_PLACE, p, 600000, MPI_BYTE, MPI_BOR, MPI_COMM_WORLD);
	mt_pattern(q, 600000, 5);
	MT_CHECK(!differ(p, q, 600000), "aligned buffers: wrong bytes");
	free(p);
	free(q);
}

/* A child writes into the parent's large block: the parent's stays. */
static void test_fork(void)
{
	unsigned char *p = must(malloc(MIB), "malloc");
	int status = 0;

	memset(p, 'a', MIB);
	pid_t pid = fork();
	if (pid == 0) {
		memset(p, 'b', MIB);
		_exit(p[MIB - 1] == 'b' ? 0 : 1);
	}
	MT_CHECK(pid > 0, "fork failed");
	/* A child is not part of an image: waited for across a restart, it
	 * is gone (ECHILD), which is no failure. */
	if (waitpid(pid, &status, 0) == pid)
		MT_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fork: child failed");
	else
		MT_CHECK(errno == ECHILD, "fork: waitpid failed");
	unsigned char *a = must(malloc(MIB), "malloc");
	memset(a, 'a', MIB);
	MT_CHECK(!differ(p, a, MIB), "fork: the child's writes reached the parent");
	free(a);
	free(p);
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	mt_begin("p2p_heap");
	me = mt_rank();
	peer = 1 - me;
	for (int round = 0; round < 4; round++) {
		test_p2p(round);
		test_calloc_coll(round);
		test_realloc(round);
	}
	mt_say("p2p, collectives, realloc, 4 rounds: ok");
	test_aligned();
	mt_say("aligned: ok");
	test_fork();
	mt_say("fork: ok");
	unsigned char *keep = must(malloc(2 * MIB), "malloc");
	mt_pattern(keep, 2 * MIB, 1234 + me);
	int total = mt_collect();
	MPI_Finalize();
	/* After MPI_Finalize: the array is still there, and new ones work. */
	unsigned char *want = must(malloc(2 * MIB), "malloc");
	mt_pattern(want, 2 * MIB, 1234 + me);
	if (differ(keep, want, 2 * MIB)) {
		fprintf(stderr, "rank %d: array changed after MPI_Finalize\n", me);
		total++;
	}
	free(keep);
	free(want);
	return mt_report(total);
}
