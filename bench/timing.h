/*
 * timing.h - the clock and the median the MPI benchmarks share
 * (bench/mpibench.c, bench/level_app.c): each quotes the median over a
 * few batches, so one preempted batch on a shared machine moves nothing.
 * Header-only, so the benchmarks stay single files for any compiler.
 *
 * DMTCP_MPI_BENCH_SMOKE (set and not 0; `make bench-smoke`, bench/smoke.sh)
 * makes every count of batches, iterations or steps 1: each benchmark
 * then runs every loop once and prints every row, whose numbers mean
 * nothing.
 */
#ifndef BENCH_TIMING_H
#define BENCH_TIMING_H

#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* n batches, iterations or steps; 1 in a smoke run. */
static inline int bench_n(int n)
{
	const char *smoke = getenv("DMTCP_MPI_BENCH_SMOKE");

	return smoke && *smoke && strcmp(smoke, "0") != 0 ? 1 : n;
}

/* Sorts v. */
static inline double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif
