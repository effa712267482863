/*
 * alloc.c - keep stopped threads out of malloc.
 *
 * The engine's hooks (the MPI shim's rebuild after a restart, above all)
 * run while every other thread is stopped.  A thread stopped inside
 * malloc would hold an arena lock, and the first malloc in a hook would
 * wait for it forever.  So the allocation functions are wrapped: a
 * thread inside one only notes the stop request and takes the signal
 * again as it leaves the allocator.  The wrappers call glibc's own
 * __libc_* entry points, so there is no lookup and no recursion, and
 * cost one thread-local counter per call.
 *
 * The MPI shim keeps large blocks in memory it shares with its proxy
 * (shim/heap.c).  Its own malloc family would never be called, since the
 * engine is preloaded and these come first, so it registers its
 * functions here (ck_register_alloc) and the wrappers call them instead;
 * ck_alloc_world tells it when the other threads are stopped.
 *
 * fork() counts as an allocation function too: glibc takes every malloc
 * arena lock (and stdio's list lock) just before its clone and drops
 * them just after, and a stop signal that comes during the clone is
 * taken on its way out, locks held.  The first malloc of a hook then
 * waited for ever (the shim's copy of its heap blocks in the arena, at
 * every checkpoint of a job that forks while it has some; the rank
 * never answered WRITE: tests/ckpt-mpi/restart_fork.sh).
 */
#include "ckpt/internal.h"
#include "ckpt/sys.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "util/mallocfam.h"

extern void *__libc_malloc(size_t n);
extern void __libc_free(void *p);
extern void *__libc_calloc(size_t a, size_t b);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void *__libc_valloc(size_t n);
extern void *__libc_pvalloc(size_t n);

#define TLS __thread __attribute__((tls_model("initial-exec")))

static const struct ck_alloc_ops *ops; /* NULL: glibc's */

static TLS int depth;        /* inside an allocation function */
static TLS int deferred;     /* a stop signal came meanwhile */

int ck_alloc_busy(void)
{
	if (depth)
		deferred = 1;
	return depth;
}

int ck_register_alloc(const struct ck_alloc_ops *o)
{
	__atomic_store_n(&ops, o, __ATOMIC_RELEASE);
	return 0;
}

void ck_alloc_world(int stopped)
{
	const struct ck_alloc_ops *o = __atomic_load_n(&ops, __ATOMIC_ACQUIRE);

	if (o && o->world)
		o->world(stopped);
}

static inline const struct ck_alloc_ops *alloc_ops(void)
{
	return __atomic_load_n(&ops, __ATOMIC_ACQUIRE);
}

static inline void enter(void)
{
	depth++;
}

static inline void leave(void)
{
	if (--depth == 0 && deferred) {
		deferred = 0;
		ck_sys3(CK_NR_tgkill, ck_sys0(CK_NR_getpid), ck_gettid(),
			ck_eng.sig);
	}
}

void *malloc(size_t n)
{
	const struct ck_alloc_ops *o = alloc_ops();

	enter();
	void *p = o ? o->malloc(n) : __libc_malloc(n);
	leave();
	return p;
}

void free(void *p)
{
	const struct ck_alloc_ops *o = alloc_ops();

	enter();
	if (o)
		o->free(p);
	else
		__libc_free(p);
	leave();
}

void *calloc(size_t a, size_t b)
{
	const struct ck_alloc_ops *o = alloc_ops();

	enter();
	void *p = o ? o->calloc(a, b) : __libc_calloc(a, b);
	leave();
	return p;
}

void *realloc(void *p, size_t n)
{
	const struct ck_alloc_ops *o = alloc_ops();

	enter();
	void *q = o ? o->realloc(p, n) : __libc_realloc(p, n);
	leave();
	return q;
}

void *reallocarray(void *p, size_t a, size_t b)
{
	return reallocarray_by(realloc, p, a, b);
}

void *memalign(size_t align, size_t n)
{
	const struct ck_alloc_ops *o = alloc_ops();

	enter();
	void *p = o ? o->memalign(align, n) : __libc_memalign(align, n);
	leave();
	return p;
}

void *aligned_alloc(size_t align, size_t n)
{
	return memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	return posix_memalign_by(memalign, out, align, n);
}

void *valloc(size_t n)
{
	const struct ck_alloc_ops *o = alloc_ops();

	if (o)
		return memalign(4096, n);
	enter();
	void *p = __libc_valloc(n);
	leave();
	return p;
}

void *pvalloc(size_t n)
{
	const struct ck_alloc_ops *o = alloc_ops();

	if (o)
		return memalign(4096, n ? (n + 4095) & ~(size_t)4095 : 4096);
	enter();
	void *p = __libc_pvalloc(n);
	leave();
	return p;
}

/* The child is alone, with no checkpoint thread: a stop that came
 * during the fork is the parent's to take, not its own. */
pid_t fork(void)
{
	static pid_t (*real)(void);

	if (!real)
		real = (pid_t (*)(void))dlsym(RTLD_NEXT, "fork");
	enter();
	pid_t pid = real();
	if (pid == 0) {
		depth--;
		deferred = 0;
		return 0;
	}
	leave();
	return pid;
}
