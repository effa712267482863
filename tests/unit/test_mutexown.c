/*
 * test_mutexown.c - unit tests of ckpt/mutexown.c: a recursive or
 * error-checking glibc mutex held across a restart is its holder's again.
 *
 * A restart gives each thread a new tid; here the mutex is made to look
 * as if its holder had another tid at the checkpoint: after locking, its
 * owner field is set to the tid of a thread that has ended (a tid nobody
 * has today), and the thread is told that was its tid (ck_tid_moved, as
 * ck_thread_wake does).  The wrappers of mutexown.c are linked into this
 * binary, so the test's pthread calls are the application's.  Each case
 * runs in a thread of its own: the list of earlier tids is per thread.
 * The first case checks that without ck_tid_moved glibc refuses (EPERM),
 * so the test models what tests/ckpt-mpi/restart_tidlock.sh meets end to
 * end (the rwlock case checks the same of a rwlock first); the kind test checks the kind bits mutexown.c knows against
 * mutexes glibc made from attributes.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ckpt/internal.h"

static void *report_tid(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)gettid();
}

/* The tid of a thread that has ended: no thread has it now. */
static int dead_tid(void)
{
	pthread_t t;
	void *tid;

	assert_int_equal(pthread_create(&t, NULL, report_tid, NULL), 0);
	assert_int_equal(pthread_join(t, &tid), 0);
	return (int)(intptr_t)tid;
}

/* Run fn(arg) in a new thread; its result. */
static intptr_t in_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	void *r;

	assert_int_equal(pthread_create(&t, NULL, fn, arg), 0);
	assert_int_equal(pthread_join(t, &r), 0);
	return (intptr_t)r;
}

static void *try_and_release(void *arg)
{
	int rc = pthread_mutex_trylock(arg);

	if (rc == 0)
		rc = pthread_mutex_unlock(arg);
	return (void *)(intptr_t)rc;
}

static void init_mutex(pthread_mutex_t *m, int type)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, type);
	assert_int_equal(pthread_mutex_init(m, &a), 0);
	pthread_mutexattr_destroy(&a);
}

/* Lock m depth times, then make it look taken under tid old. */
static void hold_as(pthread_mutex_t *m, int depth, int old)
{
	for (int i = 0; i < depth; i++)
		assert_int_equal(pthread_mutex_lock(m), 0);
	m->__data.__owner = old;
}

/* CLOCK_REALTIME ms from now. */
static struct timespec deadline_ms(long ms)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_nsec += ms * 1000 * 1000;
	t.tv_sec += t.tv_nsec / 1000000000;
	t.tv_nsec %= 1000000000;
	return t;
}

struct held {
	pthread_mutex_t *m;
	int old;       /* the tid it was taken under */
	int moved;     /* tell the thread old was its tid */
	int rc[4];
};

static void *unlock_after_restart(void *arg)
{
	struct held *h = arg;

	hold_as(h->m, 2, h->old);
	if (h->moved)
		ck_tid_moved(h->old);
	struct timespec t = deadline_ms(500); /* without the fix: ETIMEDOUT */
	h->rc[0] = pthread_mutex_timedlock(h->m, &t);
	h->rc[1] = pthread_mutex_unlock(h->m);
	h->rc[2] = pthread_mutex_unlock(h->m);
	h->rc[3] = pthread_mutex_unlock(h->m);
	return NULL;
}

/* What glibc alone does after a restart: no unlock, no lock again. */
static void *glibc_alone(void *arg)
{
	struct held *h = arg;
	struct timespec t = deadline_ms(20);

	hold_as(h->m, 2, h->old);
	h->rc[0] = pthread_mutex_unlock(h->m);
	h->rc[1] = pthread_mutex_timedlock(h->m, &t);
	h->m->__data.__owner = gettid();       /* let it go */
	pthread_mutex_unlock(h->m);
	pthread_mutex_unlock(h->m);
	return NULL;
}

static void test_glibc_alone_refuses(void **state)
{
	pthread_mutex_t m;
	struct held h = { &m, dead_tid(), 0, { -1, -1, -1, -1 } };

	(void)state;
	init_mutex(&m, PTHREAD_MUTEX_RECURSIVE);
	in_thread(glibc_alone, &h);
	assert_int_equal(h.rc[0], EPERM);
	assert_int_equal(h.rc[1], ETIMEDOUT);
}

static void test_recursive_adopted(void **state)
{
	pthread_mutex_t m;
	struct held h = { &m, dead_tid(), 1, { -1, -1, -1, -1 } };

	(void)state;
	init_mutex(&m, PTHREAD_MUTEX_RECURSIVE);
	in_thread(unlock_after_restart, &h);
	for (int i = 0; i < 4; i++)
		assert_int_equal(h.rc[i], 0);
	assert_int_equal(in_thread(try_and_release, &m), 0);
}

static void test_static_initializer_adopted(void **state)
{
	static pthread_mutex_t m = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
	struct held h = { &m, dead_tid(), 1, { -1, -1, -1, -1 } };

	(void)state;
	in_thread(unlock_after_restart, &h);
	for (int i = 0; i < 4; i++)
		assert_int_equal(h.rc[i], 0);
	assert_int_equal(in_thread(try_and_release, &m), 0);
}

static void *errorcheck_after_restart(void *arg)
{
	struct held *h = arg;

	hold_as(h->m, 1, h->old);
	ck_tid_moved(h->old);
	struct timespec t = deadline_ms(500);
	h->rc[0] = pthread_mutex_timedlock(h->m, &t);
	h->rc[1] = pthread_mutex_unlock(h->m);
	h->rc[2] = pthread_mutex_unlock(h->m);
	return NULL;
}

static void test_errorcheck_adopted(void **state)
{
	pthread_mutex_t m;
	struct held h = { &m, dead_tid(), 1, { -1, -1, -1, -1 } };

	(void)state;
	init_mutex(&m, PTHREAD_MUTEX_ERRORCHECK);
	in_thread(errorcheck_after_restart, &h);
	assert_int_equal(h.rc[0], EDEADLK); /* it knows the mutex is its own */
	assert_int_equal(h.rc[1], 0);
	assert_int_equal(h.rc[2], EPERM);   /* and that it no longer is */
	assert_int_equal(in_thread(try_and_release, &m), 0);
}

static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void *cond_after_restart(void *arg)
{
	struct held *h = arg;

	hold_as(h->m, 1, h->old);
	ck_tid_moved(h->old);
	struct timespec t = deadline_ms(10);
	h->rc[0] = pthread_cond_timedwait(&cv, h->m, &t);
	h->rc[1] = pthread_mutex_unlock(h->m);
	return NULL;
}

static void test_cond_wait_adopted(void **state)
{
	static pthread_mutex_t m = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
	struct held h = { &m, dead_tid(), 1, { -1, -1, -1, -1 } };

	(void)state;
	in_thread(cond_after_restart, &h);
	assert_int_equal(h.rc[0], ETIMEDOUT);
	assert_int_equal(h.rc[1], 0);
	assert_int_equal(in_thread(try_and_release, &m), 0);
}

static void *many_lives(void *arg)
{
	struct held *h = arg;

	hold_as(h->m, 1, h->old);
	ck_tid_moved(h->old);
	for (int i = 1; i < CK_MAX_LIVES; i++)
		ck_tid_moved(dead_tid());
	h->rc[0] = pthread_mutex_unlock(h->m);    /* oldest still known */
	if (h->rc[0] != 0) {                      /* let it go (no fix) */
		h->m->__data.__owner = gettid();
		pthread_mutex_unlock(h->m);
	}
	hold_as(h->m, 1, h->old);
	ck_tid_moved(dead_tid());                 /* one life too many */
	h->rc[1] = pthread_mutex_unlock(h->m);
	h->m->__data.__owner = gettid();          /* let it go */
	h->rc[2] = pthread_mutex_unlock(h->m);
	return NULL;
}

static void test_many_lives(void **state)
{
	pthread_mutex_t m;
	struct held h = { &m, dead_tid(), 1, { -1, -1, -1, -1 } };

	(void)state;
	init_mutex(&m, PTHREAD_MUTEX_RECURSIVE);
	in_thread(many_lives, &h);
	assert_int_equal(h.rc[0], 0);
	assert_int_equal(h.rc[1], EPERM);
	assert_int_equal(h.rc[2], 0);
}

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;

static void *try_write(void *arg)
{
	int rc = pthread_rwlock_trywrlock(arg);

	if (rc == 0)
		rc = pthread_rwlock_unlock(arg);
	return (void *)(intptr_t)rc;
}

struct wheld {
	int old, moved, rc;
};

static void *rwlock_after_restart(void *arg)
{
	struct wheld *h = arg;

	assert_int_equal(pthread_rwlock_wrlock(&rw), 0);
	rw.__data.__cur_writer = h->old;
	if (h->moved)
		ck_tid_moved(h->old);
	h->rc = pthread_rwlock_unlock(&rw);
	return NULL;
}

/* glibc alone takes the writer's unlock for a reader's: the rwlock stays
 * write-locked (initialised again here). */
static void test_rwlock_writer_adopted(void **state)
{
	struct wheld alone = { dead_tid(), 0, -1 }, moved = { dead_tid(), 1, -1 };

	(void)state;
	in_thread(rwlock_after_restart, &alone);
	assert_int_equal(alone.rc, 0);
	assert_int_equal(in_thread(try_write, &rw), EBUSY);
	pthread_rwlock_init(&rw, NULL);
	in_thread(rwlock_after_restart, &moved);
	assert_int_equal(moved.rc, 0);
	assert_int_equal(in_thread(try_write, &rw), 0);
}

/* A tid of an earlier life that a live thread has today: not taken. */
static sem_t go, done;
static int live_tid;

static void *live_thread(void *arg)
{
	(void)arg;
	live_tid = gettid();
	sem_post(&go);
	sem_wait(&done);
	return NULL;
}

static void *unlock_live_owners(void *arg)
{
	struct held *h = arg;

	hold_as(h->m, 1, h->old);
	ck_tid_moved(h->old);
	h->rc[0] = pthread_mutex_unlock(h->m);
	h->m->__data.__owner = gettid();       /* let it go */
	h->rc[1] = pthread_mutex_unlock(h->m);
	return NULL;
}

static void test_live_owner_kept(void **state)
{
	pthread_mutex_t m;
	pthread_t t;
	struct held h = { &m, 0, 1, { -1, -1, -1, -1 } };

	(void)state;
	sem_init(&go, 0, 0);
	sem_init(&done, 0, 0);
	assert_int_equal(pthread_create(&t, NULL, live_thread, NULL), 0);
	sem_wait(&go);
	h.old = live_tid;
	init_mutex(&m, PTHREAD_MUTEX_RECURSIVE);
	in_thread(unlock_live_owners, &h);
	assert_int_equal(h.rc[0], EPERM);
	assert_int_equal(h.rc[1], 0);
	sem_post(&done);
	assert_int_equal(pthread_join(t, NULL), 0);
}

/* The kinds mutexown.c adopts, from glibc's own attribute handling. */
static pthread_mutex_t made(int type, int robust, int protocol, int pshared)
{
	pthread_mutexattr_t a;
	pthread_mutex_t m;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, type);
	pthread_mutexattr_setrobust(&a, robust);
	pthread_mutexattr_setprotocol(&a, protocol);
	pthread_mutexattr_setpshared(&a, pshared);
	assert_int_equal(pthread_mutex_init(&m, &a), 0);
	pthread_mutexattr_destroy(&a);
	return m;
}

static void test_kinds(void **state)
{
	enum { P = PTHREAD_PROCESS_PRIVATE, S = PTHREAD_PROCESS_SHARED,
	       STALL = PTHREAD_MUTEX_STALLED, ROB = PTHREAD_MUTEX_ROBUST,
	       NONE = PTHREAD_PRIO_NONE, PI = PTHREAD_PRIO_INHERIT,
	       PP = PTHREAD_PRIO_PROTECT };
	static const pthread_mutex_t rec_np = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
	static const pthread_mutex_t err_np = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
	static const pthread_mutex_t plain = PTHREAD_MUTEX_INITIALIZER;
	static const pthread_mutex_t adaptive = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
	const struct { pthread_mutex_t m; int by_tid; } kinds[] = {
		{ made(PTHREAD_MUTEX_RECURSIVE, STALL, NONE, P), 1 },
		{ made(PTHREAD_MUTEX_ERRORCHECK, STALL, NONE, P), 1 },
		{ made(PTHREAD_MUTEX_RECURSIVE, STALL, PP, P), 1 },
		{ made(PTHREAD_MUTEX_NORMAL, STALL, NONE, P), 0 },
		{ made(PTHREAD_MUTEX_RECURSIVE, ROB, NONE, P), 0 },
		{ made(PTHREAD_MUTEX_ERRORCHECK, ROB, NONE, P), 0 },
		{ made(PTHREAD_MUTEX_RECURSIVE, STALL, PI, P), 0 },
		{ made(PTHREAD_MUTEX_ERRORCHECK, STALL, PI, P), 0 },
		{ made(PTHREAD_MUTEX_RECURSIVE, STALL, NONE, S), 0 },
		{ rec_np, 1 }, { err_np, 1 }, { plain, 0 }, { adaptive, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		assert_int_equal(ck_mutex_owned_by_tid(&kinds[i].m), kinds[i].by_tid);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glibc_alone_refuses),
		cmocka_unit_test(test_recursive_adopted),
		cmocka_unit_test(test_static_initializer_adopted),
		cmocka_unit_test(test_errorcheck_adopted),
		cmocka_unit_test(test_cond_wait_adopted),
		cmocka_unit_test(test_many_lives),
		cmocka_unit_test(test_rwlock_writer_adopted),
		cmocka_unit_test(test_live_owner_kept),
		cmocka_unit_test(test_kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
