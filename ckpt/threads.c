/*
 * threads.c - stop every other thread for a checkpoint, and bring them
 * back after one.
 *
 * Stop: the checkpointing thread lists /proc/self/task and sends each
 * other thread the engine's signal with tgkill.  The handler records what
 * the kernel does not keep in memory (FS base, robust list, rseq area,
 * name) and where its signal frame is, then parks on a futex.  Threads
 * created meanwhile are found by listing again until a pass finds nothing
 * new and everyone is parked (entries of threads that exited meanwhile
 * stay in the table as CK_T_GONE).  Nothing here allocates or takes a lock:
 * a stopped thread may hold malloc's.
 *
 * Registers are never copied: the kernel saved them in the signal frame
 * on the thread's own stack, which the image contains.  After a restart
 * the restorer recreates the thread with clone (FS base and glibc's
 * cached tid set by the kernel through CLONE_SETTLS/CLONE_PARENT_SETTID),
 * and ck_thread_wake, running on that stack, re-registers the robust list
 * and rseq and does rt_sigreturn through the saved frame.
 */
#include "ckpt/internal.h"
#include "ckpt/sys.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/rseq.h>

struct ck_thread ck_threads[CK_MAX_THREADS];
int ck_nthreads;
int ck_release_gen;
int ck_arrived;
static int ck_nparked;

static struct ck_thread *find_thread(int tid)
{
	int n = __atomic_load_n(&ck_nthreads, __ATOMIC_ACQUIRE);

	for (int i = 0; i < n; i++)
		if (ck_threads[i].tid == tid)
			return &ck_threads[i];
	return NULL;
}

/* glibc registers an rseq area of 32 bytes at tp + __rseq_offset.  Ask
 * the kernel whether exactly that is registered: registering it again
 * answers EBUSY if so.  If the probe registered it (it was not), undo. */
static void probe_rseq(struct ck_thread *t)
{
	t->rseq = 0;
	t->rseq_len = 0;
	t->rseq_unknown = 0;
	if (__rseq_size == 0)
		return;
	uint64_t area = t->fs_base + (uint64_t)__rseq_offset;
	long r = ck_sys4(CK_NR_rseq, area, 32, 0, CK_RSEQ_SIG);
	if (r == -EBUSY) {
		t->rseq = area;
		t->rseq_len = 32;
	} else if (r == 0) {
		ck_sys4(CK_NR_rseq, area, 32, CK_RSEQ_FLAG_UNREGISTER,
			CK_RSEQ_SIG);
	} else {
		t->rseq_unknown = 1;
	}
}

/* What the calling thread must record about itself (both kinds). */
void ck_threads_save_self(struct ck_thread *t)
{
	uint64_t fs = 0;
	size_t len = 0;
	void *head = NULL;

	ck_sys2(CK_NR_arch_prctl, CK_ARCH_GET_FS, &fs);
	t->fs_base = fs;
	ck_sys3(CK_NR_get_robust_list, 0, &head, &len);
	t->robust_head = (uint64_t)head;
	t->robust_len = len;
	probe_rseq(t);
	memset(t->name, 0, sizeof(t->name));
	ck_sys2(CK_NR_prctl, PR_GET_NAME, t->name);
	t->bad_tid = fs == 0 ||
		     *(volatile int *)(fs + CK_TID_OFFSET) != t->tid;
}

void ck_park_handler(int sig, siginfo_t *si, void *uc)
{
	int saved_errno = errno;
	struct ck_thread *t = find_thread(ck_gettid());

	(void)sig;
	(void)si;
	if (!t || __atomic_load_n(&t->state, __ATOMIC_ACQUIRE) !=
		  CK_T_SIGNALED) {
		errno = saved_errno;   /* not ours: someone else sent it */
		return;
	}
	if (ck_alloc_busy()) {
		errno = saved_errno;   /* parks when it leaves malloc */
		return;
	}
	t->uc = uc;
	ck_threads_save_self(t);
	__atomic_store_n(&t->state, CK_T_PARKED, __ATOMIC_RELEASE);
	__atomic_add_fetch(&ck_nparked, 1, __ATOMIC_ACQ_REL);
	ck_futex_wake(&ck_nparked);
	while (__atomic_load_n(&ck_release_gen, __ATOMIC_ACQUIRE) == t->gen)
		ck_futex_wait(&ck_release_gen, t->gen);
	errno = saved_errno;
}

/* Add tid to the table and signal it.  -1 if the table is full. */
static int signal_thread(int tid, int gen)
{
	int n = ck_nthreads;

	if (n == CK_MAX_THREADS)
		return -1;
	struct ck_thread *t = &ck_threads[n];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->kind = CK_THR_SIGFRAME;
	t->gen = gen;
	t->state = CK_T_SIGNALED;
	__atomic_store_n(&ck_nthreads, n + 1, __ATOMIC_RELEASE);
	long r = ck_sys3(CK_NR_tgkill, ck_sys0(CK_NR_getpid), tid, ck_eng.sig);
	if (r < 0)
		t->state = CK_T_GONE;
	return 0;
}

/* List /proc/self/task; signal threads not seen yet.  Returns how many
 * were new, or -1. */
static int scan_tasks(int gen)
{
	char buf[4096];
	int newcount = 0;
	long fd = ck_sys3(CK_NR_open, "/proc/self/task",
			  O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);

	if (fd < 0) {
		dm_err("cannot list threads (/proc/self/task): %s",
		       strerrordesc_np((int)-fd));
		return -1;
	}
	for (;;) {
		long n = ck_sys3(CK_NR_getdents64, fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (long off = 0; off < n;) {
			struct { uint64_t ino; int64_t off; uint16_t reclen;
				 uint8_t type; char name[]; } *d =
				(void *)(buf + off);
			off += d->reclen;
			int tid = 0;
			for (const char *c = d->name; *c >= '0' && *c <= '9'; c++)
				tid = tid * 10 + (*c - '0');
			if (tid <= 0 || find_thread(tid))
				continue;
			if (signal_thread(tid, gen) < 0) {
				ck_sys1(CK_NR_close, fd);
				dm_err("cannot stop threads (pid %d): more than "
				       "%d threads", (int)ck_sys0(CK_NR_getpid),
				       CK_MAX_THREADS);
				return -1;
			}
			newcount++;
		}
	}
	ck_sys1(CK_NR_close, fd);
	return newcount;
}

/* A signaled thread that vanished (exited) or is a zombie leader will
 * never park: forget it. */
static void reap_gone(void)
{
	int pid = (int)ck_sys0(CK_NR_getpid);

	for (int i = 0; i < ck_nthreads; i++) {
		struct ck_thread *t = &ck_threads[i];
		if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) !=
		    CK_T_SIGNALED)
			continue;
		if (ck_sys3(CK_NR_tgkill, pid, t->tid, 0) == -ESRCH) {
			t->state = CK_T_GONE;
			continue;
		}
		char path[64], st[256];
		snprintf(path, sizeof(path), "/proc/self/task/%d/stat", t->tid);
		long fd = ck_sys3(CK_NR_open, path, O_RDONLY | O_CLOEXEC, 0);
		if (fd < 0)
			continue;
		long len = ck_sys3(CK_NR_read, fd, st, sizeof(st) - 1);
		ck_sys1(CK_NR_close, fd);
		if (len <= 0)
			continue;
		st[len] = '\0';
		char *p = strrchr(st, ')');
		if (p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
			t->state = CK_T_GONE;
	}
}

static int all_parked(void)
{
	for (int i = 0; i < ck_nthreads; i++) {
		int s = __atomic_load_n(&ck_threads[i].state, __ATOMIC_ACQUIRE);
		if (s == CK_T_SIGNALED)
			return 0;
	}
	return 1;
}

static void wait_parked(int seen)
{
	struct { long s, ns; } ts = { 0, 5 * 1000 * 1000 };

	ck_sys4(CK_NR_futex, &ck_nparked, CK_FUTEX_WAIT_PRIVATE, seen, &ts);
}

int ck_threads_stop(void)
{
	int gen = __atomic_load_n(&ck_release_gen, __ATOMIC_ACQUIRE);
	int64_t start = ck_now_ns();
	struct ck_thread *self = &ck_threads[0];

	ck_alloc_world(1);
	ck_nthreads = 0;
	ck_nparked = 0;
	ck_arrived = 0;
	memset(self, 0, sizeof(*self));
	self->tid = ck_gettid();
	self->kind = CK_THR_CTX;
	self->state = CK_T_SELF;
	self->gen = gen;
	ck_nthreads = 1;
	for (;;) {
		int seen = __atomic_load_n(&ck_nparked, __ATOMIC_ACQUIRE);
		int fresh = scan_tasks(gen);
		if (fresh < 0)
			goto fail;
		if (fresh == 0 && all_parked())
			break;
		wait_parked(seen);
		if (ck_now_ns() - start > 1000000000LL)
			reap_gone();
		if (ck_now_ns() - start > ck_eng.stop_timeout_ns) {
			for (int i = 0; i < ck_nthreads; i++)
				if (ck_threads[i].state == CK_T_SIGNALED)
					dm_err("cannot stop thread %d (pid %d): "
					       "it does not take signal %d "
					       "(blocked, or stuck in the "
					       "kernel)", ck_threads[i].tid,
					       (int)ck_sys0(CK_NR_getpid),
					       ck_eng.sig);
			goto fail;
		}
	}
	return 0;
fail:
	ck_threads_release();
	return -1;
}

int ck_threads_check(void)
{
	static int warned;

	for (int i = 0; i < ck_nthreads; i++) {
		const struct ck_thread *t = &ck_threads[i];
		if (t->state == CK_T_GONE)
			continue;
		if (t->bad_tid) {
			dm_err("cannot checkpoint thread %d (pid %d): glibc's "
			       "thread id is not where this engine patches it",
			       t->tid, (int)ck_sys0(CK_NR_getpid));
			return -1;
		}
		if (t->rseq_unknown && !warned++)
			dm_warn("thread %d has an rseq registration other than "
				"glibc's; after a restart it has none",
				t->tid);
	}
	return 0;
}

void ck_threads_release(void)
{
	/* Threads signaled but not parked yet will see the new generation
	 * and return from the handler at once. */
	for (int i = 0; i < ck_nthreads; i++)
		__atomic_store_n(&ck_threads[i].state, CK_T_FREE,
				 __ATOMIC_RELEASE);
	__atomic_add_fetch(&ck_release_gen, 1, __ATOMIC_ACQ_REL);
	ck_alloc_world(0);
	ck_futex_wake(&ck_release_gen);
}

/* ---------------------------------------------------------- restart */

static void reraise_pending(uint64_t set, int tid)
{
	int pid = (int)ck_sys0(CK_NR_getpid);

	for (int s = 1; s <= 64; s++)
		if ((set >> (s - 1)) & 1 && s != ck_eng.sig)
			ck_sys3(CK_NR_tgkill, pid, tid, s);
}

/* Entered by the restorer in every restored thread, on the thread's own
 * stack, with FS base and glibc's tid already set and all signals
 * blocked.  The checkpointing thread resumes once every thread has
 * arrived: from then on nobody runs restorer code, and it can unmap it.
 * The others wait until it has run the restart hooks. */
void ck_thread_wake(struct ck_thread *t)
{
	int tid = ck_gettid();

	if (t->robust_head)
		ck_sys2(CK_NR_set_robust_list, t->robust_head, t->robust_len);
	if (t->rseq) {
		/* The kernel aborts a critical section it finds in rseq_cs;
		 * there is none to abort in a fresh registration. */
		*(volatile uint64_t *)(t->rseq + 8) = 0;
		ck_sys4(CK_NR_rseq, t->rseq, t->rseq_len, 0, CK_RSEQ_SIG);
	}
	if (t->name[0])
		ck_sys2(CK_NR_prctl, PR_SET_NAME, t->name);
	if (t->tid != tid)
		ck_tid_moved(t->tid);
	t->tid = tid;
	__atomic_add_fetch(&ck_arrived, 1, __ATOMIC_ACQ_REL);
	ck_futex_wake(&ck_arrived);
	if (t->kind == CK_THR_CTX) {
		int n;
		while ((n = __atomic_load_n(&ck_arrived, __ATOMIC_ACQUIRE)) <
		       ck_rinfo.nthreads)
			ck_futex_wait(&ck_arrived, n);
		ck_ctx_jump(&ck_self_ctx);
	}
	while (__atomic_load_n(&ck_release_gen, __ATOMIC_ACQUIRE) == t->gen)
		ck_futex_wait(&ck_release_gen, t->gen);
	reraise_pending(t->pending, tid);
	ck_sigreturn_to(t->uc);
}
