/*
 * mutexown.c - the application's recursive and error-checking mutexes
 * held across a restart.
 *
 * glibc's recursive and error-checking mutexes remember their owner as a
 * kernel thread id (__data.__owner) and compare it with the caller's, as
 * cached in its thread descriptor.  A restart gives every thread a new
 * tid (ckpt/restore clones them; there is no tid virtualisation), so a
 * thread imaged while holding such a mutex could afterwards neither
 * release it (EPERM) nor take it again (it waits for itself for ever);
 * pthread_cond_wait on it fails with EPERM.  Threaded MPI codes that
 * serialise their MPI calls with a recursive mutex hold one around a
 * blocking call, which is where a checkpoint usually finds them.
 *
 * The fix is lazy: these wrappers come before glibc's (the engine is
 * preloaded), and a thread that has lived before a restart first
 * adopts the mutex it is handed if the owner recorded there is a tid it
 * had in an earlier life: the owner becomes its tid of today, then
 * glibc's function runs as if the thread had always been that one.
 * ck_thread_wake (threads.c) tells each restored thread its old tid
 * (ck_tid_moved); the list is thread-local, in the image, so a restart
 * of a restarted process knows every earlier life.  A thread that never
 * lived before a restart (any thread before the first one) pays one
 * thread-local load and a branch not taken, then the call to glibc's
 * function through a pointer (doc/ckpt-engine.md has the cost).
 *
 * A rwlock held for writing records its writer's tid too, and glibc's
 * unlock by another tid releases a reader instead: its unlock adopts it
 * the same way.
 *
 * Left alone, and why:
 * - robust and priority-inheritance mutexes keep the owner's tid in the
 *   lock word, which the kernel reads (owner death, PI boosting);
 *   process-shared ones may be owned by another process whose tid we
 *   cannot tell from an old one of ours.  None is adopted.
 * - a tid of an earlier life that a live thread of this process has
 *   today: the mutex may be that thread's, so it is not taken from it.
 * - glibc's internal locks (the dynamic loader's recursive lock, held
 *   inside dlopen or dl_iterate_phdr) and C11 mtx_t (glibc's mtx_*
 *   call its mutex code directly) are taken without these wrappers.
 */
#include "ckpt/internal.h"
#include "ckpt/sys.h"
#include "util/log.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

/* What this file reads of glibc's locks, through the public unions: a
 * mutex's owner tid and kind (whose low bits are its type), a rwlock's
 * writer tid and whether it is process-shared. */
_Static_assert(sizeof(((pthread_mutex_t *)0)->__data.__owner) == sizeof(int),
	       "glibc mutex owner is a tid");
_Static_assert(sizeof(((pthread_mutex_t *)0)->__data.__kind) == sizeof(int),
	       "glibc mutex kind is an int");
_Static_assert(sizeof(((pthread_rwlock_t *)0)->__data.__cur_writer) == sizeof(int),
	       "glibc rwlock writer is a tid");
_Static_assert(PTHREAD_MUTEX_RECURSIVE == PTHREAD_MUTEX_RECURSIVE_NP &&
	       PTHREAD_MUTEX_ERRORCHECK == PTHREAD_MUTEX_ERRORCHECK_NP,
	       "static initialisers and attributes give the same kinds");

/* Bits of __kind besides the type (glibc's nptl/pthreadP.h; not in the
 * public headers, but stored in every mutex, so part of the ABI;
 * tests/unit/test_mutexown.c checks them against mutexes glibc makes
 * from each attribute).  A robust mutex has the process-shared bit too. */
#define KIND_TYPE_MASK 3
#define KIND_ROBUST 16
#define KIND_PI 32
#define KIND_PSHARED 128

#define TLS __thread __attribute__((tls_model("initial-exec")))

static TLS int npast;                  /* earlier lives of this thread */
static TLS int past[CK_MAX_LIVES];     /* their tids, oldest first */

void ck_tid_moved(int old_tid)
{
	if (npast == CK_MAX_LIVES) {
		for (int i = 1; i < CK_MAX_LIVES; i++)
			past[i - 1] = past[i];
		npast--;
	}
	past[npast++] = old_tid;
}

/* Kinds whose owner field, and only it, holds a tid. */
int ck_mutex_owned_by_tid(const pthread_mutex_t *m)
{
	int kind = __atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED);
	int type = kind & KIND_TYPE_MASK;

	if (kind & (KIND_ROBUST | KIND_PI | KIND_PSHARED))
		return 0;
	return type == PTHREAD_MUTEX_RECURSIVE || type == PTHREAD_MUTEX_ERRORCHECK;
}

static int was_mine(int tid)
{
	for (int i = 0; i < npast; i++)
		if (past[i] == tid)
			return 1;
	return 0;
}

/* glibc compares the owner with the tid cached in the thread's
 * descriptor, which the restorer sets; read it there (a forked child's
 * is its own too). */
static int cached_tid(void)
{
	return *(volatile int *)((char *)pthread_self() + CK_TID_OFFSET);
}

/* *owner, a lock's owner, becomes the calling thread's tid of today if it
 * is one it had in an earlier life that no live thread has.  Only the
 * owner stores its tid there or clears it, so if an old tid of ours is
 * there, nobody else changes it meanwhile: a plain store. */
static void adopt_tid(int *owner)
{
	int tid = __atomic_load_n(owner, __ATOMIC_RELAXED);

	if (tid <= 0 || !was_mine(tid))
		return;
	int self = cached_tid();
	if (tid == self)
		return;
	if (ck_sys3(CK_NR_tgkill, ck_sys0(CK_NR_getpid), tid, 0) == 0)
		return; /* a thread of today has that tid: maybe its lock */
	__atomic_store_n(owner, self, __ATOMIC_RELAXED);
}

void ck_mutex_adopt(pthread_mutex_t *m)
{
	if (ck_mutex_owned_by_tid(m))
		adopt_tid(&m->__data.__owner);
}

/* A write-locked rwlock records its writer's tid; its unlock by any
 * other tid is taken for a reader's, and the lock stays write-locked.
 * Process-shared ones are left alone, as mutexes are. */
void ck_rwlock_adopt(pthread_rwlock_t *rw)
{
	if (!__atomic_load_n(&rw->__data.__shared, __ATOMIC_RELAXED))
		adopt_tid(&rw->__data.__cur_writer);
}

static inline void adopt(pthread_mutex_t *m)
{
	if (__builtin_expect(npast != 0, 0))
		ck_mutex_adopt(m);
}

/* glibc's functions behind the wrappers, each under the default version
 * it has in glibc 2.36 (another glibc gets dlsym's default). */
enum glibc_fn {
	MUTEX_LOCK, MUTEX_TRYLOCK, MUTEX_TIMEDLOCK, MUTEX_CLOCKLOCK,
	MUTEX_UNLOCK, COND_WAIT, COND_TIMEDWAIT, COND_CLOCKWAIT,
	RWLOCK_UNLOCK, NFN
};

static const struct { const char *name, *ver; } glibc_names[NFN] = {
	[MUTEX_LOCK] = { "pthread_mutex_lock", "GLIBC_2.2.5" },
	[MUTEX_TRYLOCK] = { "pthread_mutex_trylock", "GLIBC_2.34" },
	[MUTEX_TIMEDLOCK] = { "pthread_mutex_timedlock", "GLIBC_2.34" },
	[MUTEX_CLOCKLOCK] = { "pthread_mutex_clocklock", "GLIBC_2.34" },
	[MUTEX_UNLOCK] = { "pthread_mutex_unlock", "GLIBC_2.2.5" },
	[COND_WAIT] = { "pthread_cond_wait", "GLIBC_2.3.2" },
	[COND_TIMEDWAIT] = { "pthread_cond_timedwait", "GLIBC_2.3.2" },
	[COND_CLOCKWAIT] = { "pthread_cond_clockwait", "GLIBC_2.34" },
	[RWLOCK_UNLOCK] = { "pthread_rwlock_unlock", "GLIBC_2.34" },
};

static void *glibc_fns[NFN];

/* Look glibc's function up (the process cannot go on without it) and
 * keep it; racing lookups store the same value. */
static void *find_glibc(enum glibc_fn i)
{
	void *f = dlvsym(RTLD_NEXT, glibc_names[i].name, glibc_names[i].ver);

	if (!f)
		f = dlsym(RTLD_NEXT, glibc_names[i].name);
	if (!f) {
		dm_err("cannot find %s after the checkpoint engine: the C "
		       "library is not glibc", glibc_names[i].name);
		abort();
	}
	__atomic_store_n(&glibc_fns[i], f, __ATOMIC_RELAXED);
	return f;
}

/* All of them at load, so that no lookup (dlsym takes the loader's lock)
 * happens once threads run; a wrapper called before this constructor,
 * from another library's, looks its own up. */
__attribute__((constructor)) static void find_all_glibc(void)
{
	for (int i = 0; i < NFN; i++)
		find_glibc(i);
}

static inline void *glibc(enum glibc_fn i)
{
	void *f = __atomic_load_n(&glibc_fns[i], __ATOMIC_RELAXED);

	return __builtin_expect(f != NULL, 1) ? f : find_glibc(i);
}

int pthread_mutex_lock(pthread_mutex_t *m)
{
	int (*fn)(pthread_mutex_t *) = glibc(MUTEX_LOCK);

	adopt(m);
	return fn(m);
}

int pthread_mutex_trylock(pthread_mutex_t *m)
{
	int (*fn)(pthread_mutex_t *) = glibc(MUTEX_TRYLOCK);

	adopt(m);
	return fn(m);
}

int pthread_mutex_unlock(pthread_mutex_t *m)
{
	int (*fn)(pthread_mutex_t *) = glibc(MUTEX_UNLOCK);

	adopt(m);
	return fn(m);
}

int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *t)
{
	int (*fn)(pthread_mutex_t *, const struct timespec *) = glibc(MUTEX_TIMEDLOCK);

	adopt(m);
	return fn(m, t);
}

int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t c, const struct timespec *t)
{
	int (*fn)(pthread_mutex_t *, clockid_t, const struct timespec *) =
		glibc(MUTEX_CLOCKLOCK);

	adopt(m);
	return fn(m, c, t);
}

/* The wait releases the mutex and takes it again inside glibc, past
 * these wrappers. */
int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	int (*fn)(pthread_cond_t *, pthread_mutex_t *) = glibc(COND_WAIT);

	adopt(m);
	return fn(c, m);
}

int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t)
{
	int (*fn)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *) =
		glibc(COND_TIMEDWAIT);

	adopt(m);
	return fn(c, m, t);
}

int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t k,
			   const struct timespec *t)
{
	int (*fn)(pthread_cond_t *, pthread_mutex_t *, clockid_t, const struct timespec *) =
		glibc(COND_CLOCKWAIT);

	adopt(m);
	return fn(c, m, k, t);
}

/* Only the unlock: a correct program takes a rwlock it holds for writing
 * no more, and glibc's unlock decides by the writer's tid whether it
 * releases a writer or a reader. */
int pthread_rwlock_unlock(pthread_rwlock_t *rw)
{
	int (*fn)(pthread_rwlock_t *) = glibc(RWLOCK_UNLOCK);

	if (__builtin_expect(npast != 0, 0))
		ck_rwlock_adopt(rw);
	return fn(rw);
}
