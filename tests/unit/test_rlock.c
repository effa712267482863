/*
 * test_rlock.c - unit tests of shim/rlock.h: recursion, exclusion, and
 * what a restart does to a held lock.
 *
 * A restart gives each restored thread a new kernel thread id, written
 * into its glibc descriptor (ckpt/restore/restorer.c, at CK_TID_OFFSET).
 * The last test does the same to a thread holding the lock and checks it
 * can still take it again and release it; it first checks that a glibc
 * recursive mutex fails there (EPERM), so the test models the bug
 * restart_f90lock.sh meets end to end.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ckpt/internal.h"
#include "shim/rlock.h"

static struct shim_rlock lock = SHIM_RLOCK_INIT;

static void *try_mu(void *arg)
{
	(void)arg;
	int rc = pthread_mutex_trylock(&lock.mu);
	if (rc == 0)
		pthread_mutex_unlock(&lock.mu);
	return (void *)(intptr_t)rc;
}

/* 0 if another thread could take the lock now, else its error. */
static int other_thread_try(void)
{
	pthread_t t;
	void *rc;

	assert_int_equal(pthread_create(&t, NULL, try_mu, NULL), 0);
	assert_int_equal(pthread_join(t, &rc), 0);
	return (int)(intptr_t)rc;
}

static void test_recursion(void **state)
{
	(void)state;
	shim_rlock_take(&lock);
	shim_rlock_take(&lock);
	shim_rlock_give(&lock);
	assert_int_equal(other_thread_try(), EBUSY);
	shim_rlock_give(&lock);
	assert_int_equal(other_thread_try(), 0);
}

enum { ROUNDS = 100000 };
static long counter;

static void *count(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		shim_rlock_take(&lock);
		shim_rlock_take(&lock);
		long v = counter;
		shim_rlock_give(&lock);
		counter = v + 1;
		shim_rlock_give(&lock);
	}
	return NULL;
}

static void test_exclusion(void **state)
{
	pthread_t t[2];

	(void)state;
	counter = 0;
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, count, NULL), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(counter, 2 * ROUNDS);
}

struct after_restart {
	int glibc_unlock; /* pthread_mutex_unlock of a recursive mutex */
	int ours_free;    /* another thread could take ours afterwards */
};

static pthread_mutex_t glibc_rec = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

/* Take both locks, get a new tid as a restart would, take and release
 * both; the real tid goes back before the thread ends. */
static void *held_across_restart(void *arg)
{
	struct after_restart *r = arg;
	volatile int *tid = (volatile int *)((char *)pthread_self() + CK_TID_OFFSET);
	int real = *tid;

	pthread_mutex_lock(&glibc_rec);
	shim_rlock_take(&lock);
	*tid = real + 1000000;
	r->glibc_unlock = pthread_mutex_unlock(&glibc_rec);
	shim_rlock_take(&lock);
	shim_rlock_give(&lock);
	shim_rlock_give(&lock);
	r->ours_free = other_thread_try() == 0;
	*tid = real;
	pthread_mutex_unlock(&glibc_rec);
	return NULL;
}

static void test_held_across_restart(void **state)
{
	struct after_restart r = { 0, 0 };
	pthread_t t;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, held_across_restart, &r), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(r.glibc_unlock, EPERM);
	assert_true(r.ours_free);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recursion),
		cmocka_unit_test(test_exclusion),
		cmocka_unit_test(test_held_across_restart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
