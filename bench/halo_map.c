/*
 * halo_map.c - does the mapping a grid lives in change the real MPI's
 * halo exchange?  (`make bench-halo-map`, doc/performance.md)
 *
 * Natively built only (mpicc.mpich / mpicc.openmpi), 2 ranks.  With the
 * shared heap (shim/heap.c) a large malloc'ed grid lives in the channel
 * arena, a MAP_SHARED memfd mapping, and the proxy's real MPI packs its
 * columns there; natively it is private anonymous memory.  This program
 * times mpibench's 2-D halo exchange (bench/mpibench.c: 2 Irecv + 2 Isend
 * of one MPI_Type_vector column each, then Waitall) on three grids of
 * the same size:
 *   heap    malloc, as the native benchmark
 *   shared  a memfd mapped MAP_SHARED, as the arena
 *   thp     2 MiB aligned, MADV_HUGEPAGE: what huge pages would give
 * Batches of the three kinds take turns in one run, so a change in
 * machine load (on a shared VM the speed of a whole run may drop by a
 * third for a while) hits all three alike; each kind's rate is the
 * median of its batches, and "vs heap" the median of the ratios of
 * batches run one after the other.
 *
 *   mpirun -n 2 halo_map-openmpi [n] [rounds]   (n = 2048, rounds = 15)
 *
 * Output on rank 0, per kind: "KIND RATE exch/s RATIOx heap".
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "timing.h"

#define ITERS 200     /* exchanges per batch: ~5 ms at 2048 */
#define MAX_ROUNDS 64
#define HUGE_PAGE (2u << 20)

enum kind { HEAP, SHARED, THP, KINDS };

static const char *const kind_name[KINDS] = { "heap", "shared", "thp" };

static int rank;

static void die(const char *what)
{
	fprintf(stderr, "dmtcp_mpi: error: halo_map rank %d: %s\n", rank, what);
	MPI_Abort(MPI_COMM_WORLD, 1);
}

/* A grid of `bytes` in memory of kind k (dies if it cannot have one). */
static double *grid_map(enum kind k, size_t bytes)
{
	void *p = NULL;

	if (k == SHARED) {
		int fd = memfd_create("halo_map", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, (off_t)bytes) < 0)
			die("cannot make the shared grid (memfd_create, ftruncate)");
		p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
		if (p == MAP_FAILED)
			die("cannot map the shared grid");
		return p;
	}
	if (k == THP) {
		size_t len = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
		if (posix_memalign(&p, HUGE_PAGE, len) != 0)
			die("out of memory for the huge-page grid");
		madvise(p, len, MADV_HUGEPAGE); /* a hint: THP may be off */
		return p;
	}
	if (!(p = malloc(bytes)))
		die("out of memory for the grid");
	return p;
}

static void grid_unmap(enum kind k, double *a, size_t bytes)
{
	if (k == SHARED)
		munmap(a, bytes);
	else
		free(a);
}

/* The exchange of bench/mpibench.c: columns 1 and n out, 0 and n+1 in. */
static void exchange(double *a, int n, MPI_Datatype col, int peer)
{
	int ld = n + 2;
	MPI_Request req[4];
	MPI_Status sts[4]; /* not MPI_STATUSES_IGNORE: MPICH's prototype warns */

	MPI_Irecv(&a[ld], 1, col, peer, 0, MPI_COMM_WORLD, &req[0]);
	MPI_Irecv(&a[ld + n + 1], 1, col, peer, 1, MPI_COMM_WORLD, &req[1]);
	MPI_Isend(&a[ld + n], 1, col, peer, 0, MPI_COMM_WORLD, &req[2]);
	MPI_Isend(&a[ld + 1], 1, col, peer, 1, MPI_COMM_WORLD, &req[3]);
	MPI_Waitall(4, req, sts);
}

/* Exchanges per second of one batch on grid a. */
static double batch(double *a, int n, MPI_Datatype col, int peer, int iters)
{
	MPI_Barrier(MPI_COMM_WORLD);
	double t0 = now_us();
	for (int i = 0; i < iters; i++)
		exchange(a, n, col, peer);
	return iters / (now_us() - t0) * 1e6;
}

int main(int argc, char **argv)
{
	int size;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	int n = argc > 1 ? atoi(argv[1]) : 2048;
	int rounds = bench_n(argc > 2 ? atoi(argv[2]) : 15), iters = bench_n(ITERS);
	if (size != 2 || n < 1 || rounds < 1 || rounds > MAX_ROUNDS) {
		if (rank == 0)
			fprintf(stderr, "usage: mpirun -n 2 halo_map [n] [rounds <= %d]\n",
				MAX_ROUNDS);
		MPI_Finalize();
		return 64;
	}
	size_t ld = (size_t)n + 2, bytes = ld * ld * sizeof(double);
	double *grid[KINDS], rate[KINDS][MAX_ROUNDS], ratio[KINDS][MAX_ROUNDS];
	MPI_Datatype col;

	MPI_Type_vector(n, 1, n + 2, MPI_DOUBLE, &col);
	MPI_Type_commit(&col);
	for (int k = 0; k < KINDS; k++) {
		grid[k] = grid_map(k, bytes);
		for (size_t i = 0; i < ld * ld; i++)
			grid[k][i] = (double)i;
		batch(grid[k], n, col, 1 - rank, 1); /* faults the pages in */
	}
	for (int r = 0; r < rounds; r++)
		for (int k = 0; k < KINDS; k++)
			rate[k][r] = batch(grid[k], n, col, 1 - rank, iters);
	for (int k = 0; k < KINDS; k++)
		for (int r = 0; r < rounds; r++)
			ratio[k][r] = rate[k][r] / rate[HEAP][r];
	for (int k = 0; k < KINDS; k++) {
		double m = median(rate[k], rounds), q = median(ratio[k], rounds);
		if (rank == 0)
			printf("%-7s %10.0f exch/s  %.3fx heap\n", kind_name[k], m, q);
		grid_unmap(k, grid[k], bytes);
	}
	MPI_Type_free(&col);
	MPI_Finalize();
	return 0;
}
