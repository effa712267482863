/*
 * p2p_large.c - messages of 16 MiB and more: a blocking Send/Recv of
 * 16 MiB + 1 byte (odd length, so no page or word rounding hides a short
 * copy), simultaneous Isend/Irecv of 3 Mi doubles both ways, and a
 * Sendrecv of 17 MiB.  The receiver verifies against the pattern the
 * sender used and rank 0 prints the checksums.  Large payloads take
 * the channel's staging path, which small tests never reach.
 */
/* ranks: 2 */
#include "mt.h"

#define BIG ((16u << 20) + 1)
#define NDBL (3u << 20)

static int me, peer;

static void show_hash(const char *what, uint64_t h)
{
	uint64_t all[2] = { 0, 0 };

	MPI_Gather(&h, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
	mt_say("%s: %016llx %016llx", what, (unsigned long long)all[0], (unsigned long long)all[1]);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p) {
		fprintf(stderr, "p2p_large: out of memory for %zu bytes\n", n);
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	return p;
}

static void test_blocking(unsigned char *buf, unsigned char *want)
{
	MPI_Status st;
	int n = -1;
	uint64_t h = MT_HASH_INIT;

	if (me == 0) {
		mt_pattern(buf, BIG, 16);
		MPI_Send(buf, BIG, MPI_BYTE, 1, 1, MPI_COMM_WORLD);
	} else {
		memset(buf, 0, BIG);
		MPI_Recv(buf, BIG, MPI_BYTE, 0, 1, MPI_COMM_WORLD, &st);
		MPI_Get_count(&st, MPI_BYTE, &n);
		MT_EQ(n, BIG, "bytes received by blocking Recv");
		mt_pattern(want, BIG, 16);
		MT_CHECK(memcmp(buf, want, BIG) == 0, "16 MiB + 1 payload differs from the pattern");
		h = mt_hash(h, buf, BIG);
	}
	show_hash("send/recv 16 MiB + 1", h);
}

static void test_both_ways(void)
{
	double *out = xmalloc(NDBL * sizeof *out), *in = xmalloc(NDBL * sizeof *in);
	MPI_Request rq[2];
	int bad = 0;

	for (size_t i = 0; i < NDBL; i++) {
		out[i] = (double)i * 0.25 + me;
		in[i] = -1.0;
	}
	MPI_Irecv(in, NDBL, MPI_DOUBLE, peer, 2, MPI_COMM_WORLD, &rq[0]);
	MPI_Isend(out, NDBL, MPI_DOUBLE, peer, 2, MPI_COMM_WORLD, &rq[1]);
	MPI_Waitall(2, rq, MPI_STATUSES_IGNORE);
	for (size_t i = 0; i < NDBL; i++)
		bad += in[i] != (double)i * 0.25 + peer;
	MT_EQ(bad, 0, "doubles wrong after 24 MiB exchange");
	show_hash("isend/irecv 24 MiB both ways", mt_hash(MT_HASH_INIT, in, NDBL * sizeof *in));
	free(out);
	free(in);
}

static void test_sendrecv(unsigned char *buf, unsigned char *want)
{
	size_t len = 17u << 20;
	unsigned char *in = xmalloc(len);
	MPI_Status st;
	int n = -1;

	mt_pattern(buf, len, 100 + me);
	MPI_Sendrecv(buf, len, MPI_BYTE, peer, 3, in, len, MPI_BYTE, peer, 3, MPI_COMM_WORLD, &st);
	MPI_Get_count(&st, MPI_BYTE, &n);
	MT_EQ(n, len, "bytes received by Sendrecv");
	mt_pattern(want, len, 100 + peer);
	MT_CHECK(memcmp(in, want, len) == 0, "17 MiB Sendrecv payload differs from the pattern");
	show_hash("sendrecv 17 MiB", mt_hash(MT_HASH_INIT, in, len));
	free(in);
}

int main(int argc, char **argv)
{
	int size = 0;

	MPI_Init(&argc, &argv);
	mt_begin("p2p_large");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != 2) {
		MT_FAIL("needs 2 ranks, got %d", size);
		return mt_finish();
	}
	peer = 1 - me;
	unsigned char *buf = xmalloc(17u << 20), *want = xmalloc(17u << 20);
	test_blocking(buf, want);
	test_both_ways();
	test_sendrecv(buf, want);
	free(buf);
	free(want);
	return mt_finish();
}
