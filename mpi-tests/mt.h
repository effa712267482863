/*
 * mt.h - checks and reporting shared by the self-checking MPI test programs.
 *
 * Every program in mpi-tests/ is run twice by run.sh, natively and through
 * dmtcp_mpi, and the two standard outputs are compared line by line.  So
 * only rank 0 writes to stdout, and only deterministic text (results that
 * the program computed and verified, never timings, hostnames or
 * addresses).  Failed checks go to stderr at once, with rank and line, so
 * a broken run explains itself even if it later hangs.  The verdict is
 * collective: mt_finish() sums the failures of all ranks and rank 0 prints
 * the last line, `PASS <name>` or `FAIL <name>: <first reason>`.
 *
 * Header-only on purpose: each test is one .c file that any mpicc (MPICH,
 * Open MPI, dmtcp_mpicc) builds with no extra objects.
 *
 * MT_PAUSE_US=N (used by tests/ckpt-mpi/ckpt_all.sh): at every phase
 * boundary (after mt_begin, at each mt_say, before the verdict's
 * Allreduce) one rank, a different one each time, sleeps N microseconds
 * while the others go on and wait for it in whatever comes next.  A
 * checkpoint taken at a random moment then mostly finds ranks blocked in
 * receives or inside a collective the sleeper has not entered yet, which
 * is what the checkpoint protocol must handle.  The output is unchanged.
 */
#ifndef MT_H
#define MT_H

#include <mpi.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct mt_state {
	const char *name;
	int rank;
	int size;
	int fails;
	long pause_us;     /* MT_PAUSE_US, 0: no pauses */
	unsigned pauses;   /* phase boundaries passed, picks the sleeper */
	char first[200];   /* first failure on this rank, for the verdict */
};
static struct mt_state mt_st;

/* A phase boundary: the rank whose turn it is sleeps (see MT_PAUSE_US).
 * The sleep goes on after a signal, and after a restart, with what is left. */
static inline void mt_pause(void)
{
	struct timespec t;

	if (mt_st.pause_us <= 0 || mt_st.size <= 0)
		return;
	if ((int)(mt_st.pauses++ % (unsigned)mt_st.size) != mt_st.rank)
		return;
	t.tv_sec = mt_st.pause_us / 1000000;
	t.tv_nsec = (mt_st.pause_us % 1000000) * 1000;
	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

/* Call right after MPI_Init / MPI_Init_thread. */
static inline void mt_begin(const char *name)
{
	const char *p = getenv("MT_PAUSE_US");

	mt_st.name = name;
	MPI_Comm_rank(MPI_COMM_WORLD, &mt_st.rank);
	MPI_Comm_size(MPI_COMM_WORLD, &mt_st.size);
	mt_st.pause_us = p ? atol(p) : 0;
	mt_pause();
}

static inline int mt_rank(void)
{
	return mt_st.rank;
}

static inline void mt_fail_at(int line, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Record one failed check; the first one becomes the verdict's reason. */
static inline void mt_fail_at(int line, const char *fmt, ...)
{
	char msg[sizeof mt_st.first];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: rank %d: line %d: %s\n", mt_st.name, mt_st.rank, line, msg);
	if (mt_st.fails++ == 0)
		snprintf(mt_st.first, sizeof mt_st.first, "%s", msg);
}

#define MT_FAIL(...) mt_fail_at(__LINE__, __VA_ARGS__)
#define MT_CHECK(cond, ...) do { if (!(cond)) mt_fail_at(__LINE__, __VA_ARGS__); } while (0)
/* Compare two integers and name both values on mismatch. */
#define MT_EQ(got, want, what) do { long long g_ = (long long)(got), w_ = (long long)(want); \
	if (g_ != w_) mt_fail_at(__LINE__, "%s: got %lld, expected %lld", (what), g_, w_); } while (0)

/* Deterministic output: rank 0 only, flushed so lines keep their order. */
static inline void mt_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void mt_say(const char *fmt, ...)
{
	va_list ap;

	mt_pause();
	if (mt_st.rank != 0)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Total failures over all ranks (collective on MPI_COMM_WORLD). */
static inline int mt_collect(void)
{
	int total = 0;

	mt_pause();
	MPI_Allreduce(&mt_st.fails, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	return total;
}

/* Print the verdict on rank 0; returns the exit status for main. */
static inline int mt_report(int total)
{
	if (mt_st.rank == 0) {
		if (total == 0)
			printf("PASS %s\n", mt_st.name);
		else if (mt_st.fails > 0)
			printf("FAIL %s: %s\n", mt_st.name, mt_st.first);
		else
			printf("FAIL %s: %d check(s) failed on other ranks\n", mt_st.name, total);
		fflush(stdout);
	}
	return total == 0 ? 0 : 1;
}

static inline int mt_finish(void)
{
	int total = mt_collect();

	MPI_Finalize();
	return mt_report(total);
}

/* FNV-1a, 64 bit: a checksum that is identical on every MPI and run. */
static inline uint64_t mt_hash(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}
#define MT_HASH_INIT 0xcbf29ce484222325ULL

/* Fill n bytes with a pattern that depends on seed and position. */
static inline void mt_pattern(void *p, size_t n, uint32_t seed)
{
	unsigned char *b = p;
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b[i] = (unsigned char)x;
	}
}

/* The standard's name for an error class; numeric values differ per MPI. */
static inline const char *mt_class_name(int cls)
{
	static const struct { int cls; const char *name; } t[] = {
		{ MPI_SUCCESS, "MPI_SUCCESS" }, { MPI_ERR_BUFFER, "MPI_ERR_BUFFER" },
		{ MPI_ERR_COUNT, "MPI_ERR_COUNT" }, { MPI_ERR_TYPE, "MPI_ERR_TYPE" },
		{ MPI_ERR_TAG, "MPI_ERR_TAG" }, { MPI_ERR_COMM, "MPI_ERR_COMM" },
		{ MPI_ERR_RANK, "MPI_ERR_RANK" }, { MPI_ERR_REQUEST, "MPI_ERR_REQUEST" },
		{ MPI_ERR_ROOT, "MPI_ERR_ROOT" }, { MPI_ERR_GROUP, "MPI_ERR_GROUP" },
		{ MPI_ERR_OP, "MPI_ERR_OP" }, { MPI_ERR_TOPOLOGY, "MPI_ERR_TOPOLOGY" },
		{ MPI_ERR_DIMS, "MPI_ERR_DIMS" }, { MPI_ERR_ARG, "MPI_ERR_ARG" },
		{ MPI_ERR_UNKNOWN, "MPI_ERR_UNKNOWN" }, { MPI_ERR_TRUNCATE, "MPI_ERR_TRUNCATE" },
		{ MPI_ERR_OTHER, "MPI_ERR_OTHER" }, { MPI_ERR_INTERN, "MPI_ERR_INTERN" },
		{ MPI_ERR_IN_STATUS, "MPI_ERR_IN_STATUS" }, { MPI_ERR_PENDING, "MPI_ERR_PENDING" },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (t[i].cls == cls)
			return t[i].name;
	return "another error class";
}

#endif
