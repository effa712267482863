/*
 * mt_threads.h - what the MPI_THREAD_MULTIPLE tests share: a CHECK that
 * many threads may use at once, MPI_Init_thread at MULTIPLE, and threads
 * started and joined around one function.
 */
#ifndef MT_THREADS_H
#define MT_THREADS_H

#include <pthread.h>
#include <stdint.h>

#include "mt.h"

#define MT_THREADS_MAX 64

static pthread_mutex_t mt_fail_mu = PTHREAD_MUTEX_INITIALIZER;

/* mt.h's records are not thread-safe. */
#define CHECK(cond, ...) do { if (!(cond)) { pthread_mutex_lock(&mt_fail_mu); \
	mt_fail_at(__LINE__, __VA_ARGS__); pthread_mutex_unlock(&mt_fail_mu); } } while (0)

/* MPI_Init_thread asking for MULTIPLE, then mt_begin(name).  0 (and a
 * failure recorded) when MULTIPLE is not provided: main then returns
 * mt_finish(). */
static inline int mt_init_multiple(int *argc, char ***argv, const char *name)
{
	int provided;

	MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided);
	mt_begin(name);
	if (provided < MPI_THREAD_MULTIPLE) {
		MT_FAIL("MPI_THREAD_MULTIPLE not provided (%d)", provided);
		return 0;
	}
	return 1;
}

/* fn on n threads at once, each given its index, until all return. */
static inline void mt_run_threads(int n, void *(*fn)(void *))
{
	pthread_t th[MT_THREADS_MAX];
	int started = 0;

	while (started < n && started < MT_THREADS_MAX &&
	       pthread_create(&th[started], NULL, fn, (void *)(intptr_t)started) == 0)
		started++;
	CHECK(started == n, "only %d of %d threads started", started, n);
	for (int t = 0; t < started; t++)
		pthread_join(th[t], NULL);
}

#endif
