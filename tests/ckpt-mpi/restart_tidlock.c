/*
 * restart_tidlock.c - the application of tests/ckpt-mpi/restart_tidlock.sh.
 *
 *   restart_tidlock DIR
 *
 * The application's own glibc mutexes held across checkpoints and
 * restarts.  On each of 2 ranks (MPI_THREAD_MULTIPLE) four threads take
 * one mutex each and keep it:
 *   mpi   a PTHREAD_MUTEX_RECURSIVE mutex, twice, around an MPI_Recv that
 *         the other rank's main thread answers only at the end (a threaded
 *         code serialising its MPI calls);
 *   err   a PTHREAD_MUTEX_ERRORCHECK mutex;
 *   np    one from PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
 *   cv    another such, which it then waits on with pthread_cond_timedwait;
 * and a fifth holds a pthread_rwlock_t for writing.
 * Then the main thread waits: for nothing in a native run; under
 * dmtcp_mpi, until a checkpoint is over (resumed or restarted) and
 * DIR/check exists (rank 0 creates DIR/again at each such moment without
 * it, so the script can checkpoint a restarted job again).  Then each
 * owner takes its mutex again (timed: it knows the mutex is its own, so
 * a recursive one is taken at once, an error-checking one says EDEADLK)
 * and releases it as often as it holds it; cv waits until the main
 * thread, which takes the mutex meanwhile, signals it; and the main
 * thread then takes and releases each mutex.  The rwlock's writer
 * releases it, and the main thread takes it for writing.  Each rank
 * prints one line per lock: "ok", or the first call that failed and its
 * error.
 *
 * After a restart every thread has a new tid, and glibc's recursive and
 * error-checking mutexes know their owner by tid: without
 * ckpt/mutexown.c, each owner's timed lock ran out (ETIMEDOUT) and its
 * unlock said EPERM, and so did the condition wait; glibc took the
 * writer's unlock for a reader's and the rwlock stayed write-locked.
 */
#define _GNU_SOURCE /* the _NP initialiser, strerrorname_np */
#include <errno.h>
#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "restart_app.h"

enum { NLOCK = 5, RELOCK_S = 3 };

struct held {
	const char *what;
	pthread_mutex_t *m;
	pthread_rwlock_t *rw; /* instead of m */
	void *(*run)(void *);
	const char *failed;   /* the first call that failed, or NULL */
	int rc;               /* its result */
};

static pthread_mutex_t rec, err;
static pthread_mutex_t np = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_mutex_t cvm = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static int signalled;          /* under cvm */
static atomic_int holding;     /* threads that hold their lock */
static atomic_int go;          /* the main thread says: check */
static atomic_int events;      /* checkpoints over (resume or restart) */
static int rank, other;

static struct timespec in_s(int s)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += s;
	return t;
}

/* Record the first failure: rc is not want. */
static int expect(struct held *h, const char *call, int rc, int want)
{
	if (rc != want && !h->failed) {
		h->failed = call;
		h->rc = rc;
	}
	return rc == want;
}

static void wait_go(void)
{
	atomic_fetch_add(&holding, 1);
	while (!atomic_load(&go))
		ra_pause_ms(1);
}

static void hold_until_go(struct held *h, int depth)
{
	for (int i = 0; i < depth; i++)
		pthread_mutex_lock(h->m);
	wait_go();
}

static void *run_mpi(void *arg)
{
	struct held *h = arg;
	struct timespec t;
	int word = 0;

	pthread_mutex_lock(h->m);
	pthread_mutex_lock(h->m);
	atomic_fetch_add(&holding, 1);
	MPI_Recv(&word, 1, MPI_INT, other, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	expect(h, "MPI_Recv", word, 7);
	t = in_s(RELOCK_S);
	expect(h, "pthread_mutex_timedlock", pthread_mutex_timedlock(h->m, &t), 0);
	expect(h, "pthread_mutex_trylock", pthread_mutex_trylock(h->m), 0);
	for (int i = 0; i < 4; i++)
		expect(h, "pthread_mutex_unlock", pthread_mutex_unlock(h->m), 0);
	return NULL;
}

static void *run_err(void *arg)
{
	struct held *h = arg;
	struct timespec t;

	hold_until_go(h, 1);
	t = in_s(RELOCK_S);
	expect(h, "pthread_mutex_timedlock", pthread_mutex_timedlock(h->m, &t), EDEADLK);
	expect(h, "pthread_mutex_unlock", pthread_mutex_unlock(h->m), 0);
	return NULL;
}

static void *run_np(void *arg)
{
	struct held *h = arg;
	struct timespec t;

	hold_until_go(h, 1);
	t = in_s(RELOCK_S);
	expect(h, "pthread_mutex_timedlock", pthread_mutex_timedlock(h->m, &t), 0);
	for (int i = 0; i < 2; i++)
		expect(h, "pthread_mutex_unlock", pthread_mutex_unlock(h->m), 0);
	return NULL;
}

static void *run_cv(void *arg)
{
	struct held *h = arg;
	struct timespec t;
	int rc = 0;

	hold_until_go(h, 1);
	t = in_s(2 * RELOCK_S);
	while (!signalled && rc == 0)
		rc = pthread_cond_timedwait(&cv, h->m, &t);
	expect(h, "pthread_cond_timedwait", rc, 0);
	expect(h, "pthread_mutex_unlock", pthread_mutex_unlock(h->m), 0);
	return NULL;
}

static void *run_rw(void *arg)
{
	struct held *h = arg;

	pthread_rwlock_wrlock(h->rw);
	wait_go();
	expect(h, "pthread_rwlock_unlock", pthread_rwlock_unlock(h->rw), 0);
	return NULL;
}

static struct held locks[NLOCK] = {
	{ "recursive, held twice around MPI_Recv", &rec, NULL, run_mpi, NULL, 0 },
	{ "error-checking", &err, NULL, run_err, NULL, 0 },
	{ "PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP", &np, NULL, run_np, NULL, 0 },
	{ "recursive, then pthread_cond_timedwait", &cvm, NULL, run_cv, NULL, 0 },
	{ "rwlock held for writing", NULL, &rw, run_rw, NULL, 0 },
};

static void init_mutex(pthread_mutex_t *m, int type)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, type);
	pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
}

static void note_event(void *arg)
{
	(void)arg;
	atomic_fetch_add(&events, 1);
}

/* Under dmtcp_mpi: until a checkpoint is over and DIR/check exists. */
static void wait_for_check(const char *dir)
{
	static const struct ck_hooks hooks = { .resume = note_event, .restart = note_event };
	int (*reg)(const struct ck_hooks *) =
		(int (*)(const struct ck_hooks *))dlsym(RTLD_DEFAULT, "ck_register_hooks");
	char path[4200];
	int seen = 0;

	if (!reg || reg(&hooks) != 0)
		return;
	snprintf(path, sizeof(path), "%s/check", dir);
	if (rank == 0)
		ra_touch(dir, "started");
	for (int ms = 0; ms < RA_WAIT_MS; ms++) {
		int e = atomic_load(&events);
		if (e != seen) {
			seen = e;
			if (access(path, F_OK) == 0)
				return;
			if (rank == 0)
				ra_touch(dir, "again");
		}
		ra_pause_ms(1);
	}
	fprintf(stderr, "restart_tidlock: no checkpoint came\n");
	exit(3);
}

/* The main thread's part of cv's wait: take the mutex cv waits with,
 * say so, signal. */
static void signal_cv(struct held *h)
{
	struct timespec t = in_s(2 * RELOCK_S);

	if (!expect(h, "main: pthread_mutex_timedlock", pthread_mutex_timedlock(h->m, &t), 0))
		return;
	signalled = 1;
	pthread_cond_signal(&cv);
	expect(h, "main: pthread_mutex_unlock", pthread_mutex_unlock(h->m), 0);
}

/* Another thread (main) takes and releases it. */
static void take_after(struct held *h)
{
	if (h->rw) {
		if (expect(h, "main: pthread_rwlock_trywrlock", pthread_rwlock_trywrlock(h->rw), 0))
			expect(h, "main: pthread_rwlock_unlock", pthread_rwlock_unlock(h->rw), 0);
	} else if (expect(h, "main: pthread_mutex_trylock", pthread_mutex_trylock(h->m), 0)) {
		expect(h, "main: pthread_mutex_unlock", pthread_mutex_unlock(h->m), 0);
	}
}

int main(int argc, char **argv)
{
	int provided, size, word = 7;
	pthread_t t[NLOCK];

	MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (argc != 2 || size != 2 || provided != MPI_THREAD_MULTIPLE) {
		fprintf(stderr, "usage: restart_tidlock DIR (2 ranks, MPI_THREAD_MULTIPLE)\n");
		MPI_Abort(MPI_COMM_WORLD, 64);
	}
	other = 1 - rank;
	init_mutex(&rec, PTHREAD_MUTEX_RECURSIVE);
	init_mutex(&err, PTHREAD_MUTEX_ERRORCHECK);
	for (int i = 0; i < NLOCK; i++)
		pthread_create(&t[i], NULL, locks[i].run, &locks[i]);
	while (atomic_load(&holding) < NLOCK)
		ra_pause_ms(1);
	MPI_Barrier(MPI_COMM_WORLD);
	wait_for_check(argv[1]);
	atomic_store(&go, 1);
	signal_cv(&locks[3]);
	MPI_Send(&word, 1, MPI_INT, other, 7, MPI_COMM_WORLD);
	for (int i = 0; i < NLOCK; i++) {
		pthread_join(t[i], NULL);
		take_after(&locks[i]);
	}
	for (int i = 0; i < NLOCK; i++) {
		struct held *h = &locks[i];
		if (h->failed)
			printf("rank %d: %s: %s said %d (%s)\n", rank, h->what, h->failed,
			       h->rc, strerrorname_np(h->rc) ? strerrorname_np(h->rc) : "?");
		else
			printf("rank %d: %s: ok\n", rank, h->what);
	}
	fflush(stdout);
	MPI_Finalize();
	return 0;
}
