/*
 * rlock.h - a recursive lock that survives a restart while held.
 *
 * glibc's recursive mutex knows its owner by kernel thread id.  A
 * restart gives every restored thread a new one (ckpt/restore writes it
 * into the thread's descriptor), so a thread imaged while holding such a
 * mutex could afterwards neither release it (EPERM) nor take it again,
 * and the next thread to ask waited for ever: ckpt_all type_f90 hung
 * after a restart taken with MPI_Type_create_f90_real waiting at the
 * checkpoint gate under the f90 lock (tests/ckpt-mpi/restart_f90lock.sh).
 * This lock knows its owner by pthread_self(), the address of the
 * thread's descriptor, which the restart keeps; underneath is a plain
 * mutex, whose unlock does not look at the owner.
 */
#ifndef SHIM_RLOCK_H
#define SHIM_RLOCK_H

#include <pthread.h>

struct shim_rlock {
	pthread_mutex_t mu;
	pthread_t owner; /* 0 when free; written only by the owner */
	int depth;
};

#define SHIM_RLOCK_INIT { PTHREAD_MUTEX_INITIALIZER, 0, 0 }

/* Only the calling thread ever stores its own id in owner, and clears it
 * before letting go, so a relaxed look can match only a lock it holds. */
static inline void shim_rlock_take(struct shim_rlock *l)
{
	pthread_t self = pthread_self();

	if (__atomic_load_n(&l->owner, __ATOMIC_RELAXED) == self) {
		l->depth++;
		return;
	}
	pthread_mutex_lock(&l->mu);
	__atomic_store_n(&l->owner, self, __ATOMIC_RELAXED);
	l->depth = 1;
}

static inline void shim_rlock_give(struct shim_rlock *l)
{
	if (--l->depth)
		return;
	__atomic_store_n(&l->owner, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&l->mu);
}

#endif
