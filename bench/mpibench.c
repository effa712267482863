/*
 * mpibench.c - the MPI micro-benchmarks of `make bench`.
 *
 * One source, compiled twice: natively (mpicc.mpich / mpicc.openmpi) and
 * with dmtcp_mpicc, so the same loops time the real MPI alone and the
 * real MPI behind our shim and proxy.  bench/run.sh runs both builds in
 * turn and compares the medians.
 *
 *   mpibench null                  1 rank: MPI_Iprobe that finds nothing
 *   mpibench p2p                   2 ranks: ping-pong latency, bandwidth,
 *                                  windowed bandwidth, 8 B Allreduce
 *   mpibench compute STEPS WORK    2 ranks: STEPS x (WORK flops-ish loop
 *                                  + 8 B Allreduce); prints the wall time
 *   mpibench calibrate             1 rank: WORK for a ~10 ms step here
 *   mpibench exchange              2 ranks: a 2-D halo exchange whose faces
 *                                  are vector columns, and MPI_Alltoall
 *                                  (p2p and exchange: some also with
 *                                  MPI_Alloc_mem buffers)
 *
 * Rows named *mem (bwmem, halomem, a2amem) repeat a measurement with
 * buffers from MPI_Alloc_mem, which dmtcp_mpi hands to the real MPI in
 * place instead of copying (shim/mem.c); natively it is malloc-like.
 *
 * DMTCP_MPI_BENCH_SMOKE runs each loop once (bench/timing.h).
 *
 * Output: one "key value" line per measurement on rank 0, times in
 * microseconds, bandwidths in MB/s (10^6 bytes per second), halo
 * exchanges per second.  Each value
 * is the median over a few batches of the run, so one preempted batch
 * (the machine may be busy) does not move it.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timing.h"

#define BATCHES 7
#define WINDOW 16                  /* Isends in flight, windowed bandwidth */
#define WINDOW_BYTES (64u << 20)   /* ... at most this much in flight */
#define STEP_TARGET_NS 10000000.0  /* calibrate: one compute step */

static int rank;

static void result(const char *key, size_t size, double value)
{
	if (rank == 0)
		printf("%s_%zu %.4f\n", key, size, value);
}

/* Message buffers: malloc, or MPI_Alloc_mem for the *mem rows. */
static void *buf_alloc(size_t n, int mem, const char *what)
{
	void *p = NULL;

	if (mem)
		MPI_Alloc_mem((MPI_Aint)n, MPI_INFO_NULL, &p);
	else
		p = malloc(n);
	if (p == NULL) {
		fprintf(stderr, "dmtcp_mpi: error: cannot allocate %s (mpibench rank %d): "
			"out of memory\n", what, rank);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	return p;
}

static void buf_free(void *p, int mem)
{
	if (mem)
		MPI_Free_mem(p);
	else
		free(p);
}

/* ---- null call ---- */

static void bench_null(void)
{
	const int calls = bench_n(100000), nb = bench_n(BATCHES);
	double t[BATCHES];
	int flag;
	MPI_Status st;

	for (int b = -1; b < nb; b++) { /* batch -1 warms up */
		double t0 = now_us();
		for (int i = 0; i < calls; i++)
			MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
		if (b >= 0)
			t[b] = (now_us() - t0) / calls;
		if (flag)
			fprintf(stderr, "dmtcp_mpi: error: null call found a message "
				"(mpibench rank %d): nothing was sent\n", rank);
	}
	result("null", 0, median(t, nb));
}

/* ---- ping-pong ---- */

/* Iterations for a message size: ~20 MB moved per batch, 50..2000. */
static int pingpong_iters(size_t size)
{
	size_t n = (20u << 20) / (size ? size : 1);

	return bench_n(n < 50 ? 50 : n > 2000 ? 2000 : (int)n);
}

/* One-way time in us: half the round trip, median over batches. */
static double pingpong(char *buf, size_t size)
{
	int iters = pingpong_iters(size);
	double t[BATCHES];
	int nb = bench_n(BATCHES);

	for (int b = -1; b < nb; b++) {
		MPI_Barrier(MPI_COMM_WORLD);
		double t0 = now_us();
		for (int i = 0; i < iters; i++) {
			if (rank == 0) {
				MPI_Send(buf, (int)size, MPI_BYTE, 1, 1, MPI_COMM_WORLD);
				MPI_Recv(buf, (int)size, MPI_BYTE, 1, 1, MPI_COMM_WORLD,
					 MPI_STATUS_IGNORE);
			} else {
				MPI_Recv(buf, (int)size, MPI_BYTE, 0, 1, MPI_COMM_WORLD,
					 MPI_STATUS_IGNORE);
				MPI_Send(buf, (int)size, MPI_BYTE, 0, 1, MPI_COMM_WORLD);
			}
		}
		if (b >= 0)
			t[b] = (now_us() - t0) / iters / 2;
	}
	return median(t, nb);
}

/* Rank 0 streams a window of Isends, rank 1 a window of Irecvs and a
 * zero-byte acknowledgement; MB/s, median over batches. */
static double windowed(char *buf, size_t size)
{
	int win = size * WINDOW > WINDOW_BYTES ? (int)(WINDOW_BYTES / size) : WINDOW;

	if (win < 1)
		win = 1;
	int reps = pingpong_iters(size) / win + 2;
	MPI_Request req[WINDOW];
	MPI_Status sts[WINDOW]; /* not MPI_STATUSES_IGNORE: gcc 12 warns on MPICH's */
	double t[BATCHES];
	int nb = bench_n(BATCHES);

	for (int b = -1; b < nb; b++) {
		MPI_Barrier(MPI_COMM_WORLD);
		double t0 = now_us();
		for (int r = 0; r < reps; r++) {
			for (int w = 0; w < win; w++) {
				char *p = buf + (size_t)w * size;
				if (rank == 0)
					MPI_Isend(p, (int)size, MPI_BYTE, 1, 2, MPI_COMM_WORLD, &req[w]);
				else
					MPI_Irecv(p, (int)size, MPI_BYTE, 0, 2, MPI_COMM_WORLD, &req[w]);
			}
			MPI_Waitall(win, req, sts);
			if (rank == 0)
				MPI_Recv(NULL, 0, MPI_BYTE, 1, 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			else
				MPI_Send(NULL, 0, MPI_BYTE, 0, 3, MPI_COMM_WORLD);
		}
		if (b >= 0)
			t[b] = (double)size * win * reps / (now_us() - t0);
	}
	return median(t, nb);
}

static double allreduce8(void)
{
	const int iters = bench_n(20000), nb = bench_n(BATCHES);
	double t[BATCHES], in = rank + 1, out = 0;

	for (int b = -1; b < nb; b++) {
		MPI_Barrier(MPI_COMM_WORLD);
		double t0 = now_us();
		for (int i = 0; i < iters; i++)
			MPI_Allreduce(&in, &out, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
		if (b >= 0)
			t[b] = (now_us() - t0) / iters;
	}
	if (out != 3.0)
		fprintf(stderr, "dmtcp_mpi: error: 8-byte Allreduce (mpibench rank %d): "
			"gave %g, want 3\n", rank, out);
	return median(t, nb);
}

static void bench_p2p(void)
{
	static const size_t sizes[] = { 8, 1024, 64 << 10, 1 << 20, 16 << 20 };
	size_t nsizes = sizeof(sizes) / sizeof(sizes[0]);
	char *buf = malloc(WINDOW_BYTES > (size_t)WINDOW * sizes[3] ?
			   WINDOW_BYTES : (size_t)WINDOW * sizes[3]);

	if (buf == NULL) {
		fprintf(stderr, "dmtcp_mpi: error: cannot allocate the message buffer "
			"(mpibench rank %d): out of memory\n", rank);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	memset(buf, rank, WINDOW_BYTES);
	for (size_t i = 0; i < nsizes; i++) {
		double us = pingpong(buf, sizes[i]);
		result("lat", sizes[i], us);
		result("bw", sizes[i], (double)sizes[i] / us);
	}
	for (size_t i = 0; i < nsizes; i++)
		result("bwwin", sizes[i], windowed(buf, sizes[i]));
	result("allreduce", 8, allreduce8());
	free(buf);
	buf = buf_alloc(sizes[3], 1, "the message buffer");
	memset(buf, rank, sizes[3]);
	result("bwmem", sizes[3], (double)sizes[3] / pingpong(buf, sizes[3]));
	buf_free(buf, 1);
}

/* ---- halo exchange and Alltoall ---- */

/* Iterations of an exchange moving `bytes` per iteration for the warm-up
 * batch: ~4 MB, 50..1000. */
static int exchange_iters(size_t bytes)
{
	size_t n = (4u << 20) / (bytes ? bytes : 1);

	return bench_n(n < 50 ? 50 : n > 1000 ? 1000 : (int)n);
}

#define BATCH_US 30000.0 /* a timed batch of exchanges, about */

/* Iterations for a batch of about BATCH_US, given that `iters` took `us`
 * in the warm-up: this machine's rate shifts by a third for stretches of
 * 50-150 ms, so a batch of a few ms would land in one stretch at random
 * (doc/performance.md, the Open MPI 2048x2048 halo).  Rank 0 decides, so
 * every rank runs as many. */
static int batch_iters(int iters, double us, MPI_Comm comm)
{
	double n = us > 0 ? iters * BATCH_US / us : iters;
	int k = n < iters ? iters : n > 1e6 ? 1000000 : (int)n;

	MPI_Bcast(&k, 1, MPI_INT, 0, comm);
	return bench_n(k);
}

/* What rank r holds at row i, column j of its n x n interior: known to
 * every rank, so a ghost cell can be checked against its owner. */
static double cell(int r, int n, int i, int j)
{
	return (double)r * 1e8 + (double)i * (n + 2) + j;
}

struct halo {
	MPI_Comm cart;
	MPI_Datatype col;  /* one column of the (n+2) x (n+2) array */
	int n, west, east;
	double *a;         /* row-major, ghost ring included */
};

/* One exchange along x: the first and last interior columns go west and
 * east, the ghost columns 0 and n+1 come from west and east. */
static void halo_exchange(const struct halo *h)
{
	int ld = h->n + 2;
	MPI_Request req[4];
	MPI_Status sts[4];

	MPI_Irecv(&h->a[ld], 1, h->col, h->west, 0, h->cart, &req[0]);
	MPI_Irecv(&h->a[ld + h->n + 1], 1, h->col, h->east, 1, h->cart, &req[1]);
	MPI_Isend(&h->a[ld + h->n], 1, h->col, h->east, 0, h->cart, &req[2]);
	MPI_Isend(&h->a[ld + 1], 1, h->col, h->west, 1, h->cart, &req[3]);
	MPI_Waitall(4, req, sts);
}

static void halo_check(const struct halo *h, int west_rank, int east_rank)
{
	int n = h->n, ld = n + 2;

	for (int i = 1; i <= n; i++) {
		double w = h->a[i * ld], e = h->a[i * ld + n + 1];
		if (w == cell(west_rank, n, i, n) && e == cell(east_rank, n, i, 1))
			continue;
		fprintf(stderr, "dmtcp_mpi: error: halo exchange %dx%d (mpibench rank %d): "
			"row %d has ghosts %g and %g, want %g and %g\n", n, n, rank, i, w, e,
			cell(west_rank, n, i, n), cell(east_rank, n, i, 1));
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
}

/* Exchanges per second for an n x n interior of doubles per rank on a
 * 1 x 2 grid, periodic along x, so each rank's west and east are the
 * other rank and each exchange moves two columns each way. */
static double halo(MPI_Comm cart, int n, int mem)
{
	struct halo h = { .cart = cart, .n = n };
	size_t ld = (size_t)n + 2;
	double t[BATCHES];
	int iters = exchange_iters(4 * (size_t)n * sizeof(double)), nb = bench_n(BATCHES);

	h.a = buf_alloc(ld * ld * sizeof(double), mem, "a grid");
	for (size_t i = 0; i < ld; i++)
		for (size_t j = 0; j < ld; j++)
			h.a[i * ld + j] = cell(rank, n, (int)i, (int)j);
	MPI_Cart_shift(cart, 1, 1, &h.west, &h.east);
	MPI_Type_vector(n, 1, n + 2, MPI_DOUBLE, &h.col);
	MPI_Type_commit(&h.col);
	for (int b = -1; b < nb; b++) {
		MPI_Barrier(cart);
		double t0 = now_us();
		for (int i = 0; i < iters; i++)
			halo_exchange(&h);
		if (b >= 0)
			t[b] = iters / (now_us() - t0) * 1e6;
		else
			iters = batch_iters(iters, now_us() - t0, cart);
	}
	int wr, er;
	MPI_Group g, wg;
	MPI_Comm_group(cart, &g);
	MPI_Comm_group(MPI_COMM_WORLD, &wg);
	MPI_Group_translate_ranks(g, 1, &h.west, wg, &wr);
	MPI_Group_translate_ranks(g, 1, &h.east, wg, &er);
	halo_check(&h, wr, er);
	MPI_Group_free(&g);
	MPI_Group_free(&wg);
	MPI_Type_free(&h.col);
	buf_free(h.a, mem);
	return median(t, nb);
}

/* Byte of the block rank `from` sends rank `to`. */
static unsigned char a2a_byte(int from, int to)
{
	return (unsigned char)(from * 16 + to + 1);
}

/* MPI_Alltoall of `size` bytes per peer; MB/s of the bytes each rank
 * hands over (size x ranks per call), median over batches. */
static double alltoall(size_t size, int nranks, int mem)
{
	size_t total = size * (size_t)nranks;
	unsigned char *s = buf_alloc(total, mem, "Alltoall buffers");
	unsigned char *r = buf_alloc(total, mem, "Alltoall buffers");
	int iters = exchange_iters(total), nb = bench_n(BATCHES);
	double t[BATCHES];

	for (int p = 0; p < nranks; p++)
		memset(s + (size_t)p * size, a2a_byte(rank, p), size);
	memset(r, 0, total);
	for (int b = -1; b < nb; b++) {
		MPI_Barrier(MPI_COMM_WORLD);
		double t0 = now_us();
		for (int i = 0; i < iters; i++)
			MPI_Alltoall(s, (int)size, MPI_BYTE, r, (int)size, MPI_BYTE,
				     MPI_COMM_WORLD);
		if (b >= 0)
			t[b] = (double)total * iters / (now_us() - t0);
		else
			iters = batch_iters(iters, now_us() - t0, MPI_COMM_WORLD);
	}
	for (int p = 0; p < nranks; p++) {
		unsigned char *blk = r + (size_t)p * size;
		if (blk[0] == a2a_byte(p, rank) && blk[size - 1] == a2a_byte(p, rank))
			continue;
		fprintf(stderr, "dmtcp_mpi: error: Alltoall of %zu bytes (mpibench rank %d): "
			"the block from rank %d holds %u, want %u\n", size, rank, p, blk[0],
			a2a_byte(p, rank));
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	buf_free(s, mem);
	buf_free(r, mem);
	return median(t, nb);
}

static void bench_exchange(int nranks)
{
	static const int grids[] = { 64, 512, 2048 };
	static const size_t sizes[] = { 8, 64 << 10, 1 << 20 };
	int dims[2] = { 1, nranks }, periods[2] = { 0, 1 };
	MPI_Comm cart;

	MPI_Cart_create(MPI_COMM_WORLD, 2, dims, periods, 0, &cart);
	for (size_t i = 0; i < sizeof(grids) / sizeof(grids[0]); i++)
		result("halo", (size_t)grids[i], halo(cart, grids[i], 0));
	result("halomem", 2048, halo(cart, 2048, 1));
	MPI_Comm_free(&cart);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		result("a2a", sizes[i], alltoall(sizes[i], nranks, 0));
	result("a2amem", 1 << 20, alltoall(1 << 20, nranks, 1));
}

/* ---- compute kernel ---- */

/* About `work` dependent multiply-adds on a few lanes; returns a value
 * the caller folds into the Allreduce so nothing is optimised away. */
static double kernel(long work, double seed)
{
	double x[8];

	for (int l = 0; l < 8; l++)
		x[l] = seed + l;
	for (long i = 0; i < work; i += 8)
		for (int l = 0; l < 8; l++)
			x[l] = x[l] * 0.9999999 + 1e-7;
	return x[0] + x[7];
}

static void bench_compute(int steps, long work)
{
	double acc = rank, sum = 0;

	steps = bench_n(steps);
	MPI_Barrier(MPI_COMM_WORLD);
	double t0 = now_us();
	for (int s = 0; s < steps; s++) {
		acc = kernel(work, acc * 1e-3);
		MPI_Allreduce(&acc, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
		acc = sum;
	}
	result("compute", 0, (now_us() - t0) / 1e6);
	if (sum != sum)
		fprintf(stderr, "dmtcp_mpi: error: compute kernel (mpibench rank %d): "
			"the sum is not a number\n", rank);
}

/* WORK giving a step of ~10 ms on this machine, median of 7 tries. */
static void calibrate(void)
{
	const long probe = 1 << 22;
	double t[BATCHES];

	for (int b = 0; b < BATCHES; b++) {
		double t0 = now_us();
		volatile double sink = kernel(probe, b);
		(void)sink;
		t[b] = now_us() - t0;
	}
	printf("%ld\n", (long)(probe * (STEP_TARGET_NS / 1e3) / median(t, BATCHES)));
}

static int usage(void)
{
	if (rank == 0)
		fprintf(stderr, "usage: mpibench null | p2p | exchange | compute STEPS WORK | "
			"calibrate\n");
	MPI_Finalize();
	return 64;
}

int main(int argc, char **argv)
{
	int size;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "null") == 0 && size == 1)
		bench_null();
	else if (strcmp(argv[1], "calibrate") == 0 && size == 1)
		calibrate();
	else if (strcmp(argv[1], "p2p") == 0 && size == 2)
		bench_p2p();
	else if (strcmp(argv[1], "exchange") == 0 && size == 2)
		bench_exchange(size);
	else if (strcmp(argv[1], "compute") == 0 && size == 2 && argc == 4)
		bench_compute(atoi(argv[2]), atol(argv[3]));
	else
		return usage();
	MPI_Finalize();
	return 0;
}
