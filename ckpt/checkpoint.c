/*
 * checkpoint.c - ck_checkpoint(): one checkpoint, start to end.
 *
 *   stop the other threads -> record the process state -> pre_ckpt hooks
 *   -> save our own context -> write the image (here, or in a forked
 *   copy-on-write child while everyone else resumes at once) -> resume
 *   hooks -> release the threads.
 * With o->hold the last two steps wait for ck_release(): a job that ends
 * after its checkpoint (--checkpoint-and-exit) must not run on between
 * its image and its end, or what it prints meanwhile is printed again by
 * the restarted job.
 *
 * The context saved just before writing is where a restarted process
 * comes back: ck_ctx_save "returns" a second time, in the new process,
 * and ck_checkpoint returns CK_RESTARTED after the restart hooks, with
 * the other threads released only then.
 */
#include "ckpt/internal.h"
#include "ckpt/sys.h"
#include "util/log.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

struct ck_ctx ck_self_ctx;
struct ck_restart_info ck_rinfo;
static int busy;
static int held;                 /* threads stopped until ck_release() */

/* What a forked writer tells its parent. */
struct fork_report {
	int rc;
	struct ck_write_result res;
};

void *ck_arena_alloc(struct ck_arena *a, size_t size)
{
	size_t at = (a->used + 63) & ~(size_t)63;

	if (at > a->cap || size > a->cap - at)
		return NULL;
	a->used = at + size;
	return a->base + at;
}

/* A large reservation: untouched pages cost nothing. */
static int arena_open(struct ck_arena *a)
{
	for (size_t cap = 64ULL << 30; cap >= (256u << 20); cap /= 4) {
		void *p = mmap(NULL, cap, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			       -1, 0);
		if (p != MAP_FAILED) {
			a->base = p;
			a->cap = cap;
			a->used = 0;
			return 0;
		}
	}
	return -1;
}

static int meta_alloc(struct ck_meta *m, struct ck_arena *a)
{
	memset(m, 0, sizeof(*m));
	m->threads = ck_arena_alloc(a, CK_MAX_THREADS * sizeof(*m->threads));
	m->fds_cap = 4096;
	m->fds = ck_arena_alloc(a, m->fds_cap * sizeof(*m->fds));
	m->strings_cap = 4u << 20;
	m->strings = ck_arena_alloc(a, m->strings_cap);
	return m->threads && m->fds && m->strings ? 0 : -1;
}

static void run_hooks(int which)
{
	for (int i = 0; i < ck_eng.nhooks; i++) {
		const struct ck_hooks *h = &ck_eng.hooks[i];
		void (*fn)(void *) = which == 0 ? h->pre_ckpt :
				     which == 1 ? h->resume : h->restart;
		if (fn)
			fn(h->arg);
	}
}

/* Write from a child that has a copy-on-write snapshot of us; release
 * our threads as soon as it exists.  It is a raw clone with no exit
 * signal (no SIGCHLD for the application) and no atfork handlers (they
 * would take locks a stopped thread may hold). */
static int write_forked(const struct ck_opts *o, struct ck_meta *m,
			struct ck_arena *a, const char *path, const char *tmp,
			struct fork_report *rep, int64_t t0)
{
	long pid = ck_sys5(CK_NR_clone, 0, 0, 0, 0, 0);

	if (pid == 0) {
		rep->rc = ck_write_image(o, m, a, path, tmp, 1, &rep->res);
		ck_sys1(CK_NR_exit_group, rep->rc ? 1 : 0);
	}
	if (!o->hold) {
		run_hooks(1);
		ck_threads_release();
		ck_eng.last.pause_s = (double)(ck_now_ns() - t0) / 1e9;
	}
	if (pid < 0) {
		dm_err("cannot fork the image writer (pid %d): %s",
		       (int)ck_sys0(CK_NR_getpid), strerrordesc_np((int)-pid));
		return CK_FAILED;
	}
	int status = 0;
	long r;
	do
		r = ck_sys4(CK_NR_wait4, pid, &status, __WCLONE, NULL);
	while (r == -EINTR);
	if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (r >= 0 && WIFSIGNALED(status))
			dm_err("image writer (pid %ld) died of signal %d; "
			       "previous image kept (%s)", pid,
			       WTERMSIG(status), path);
		return CK_FAILED;
	}
	return CK_WRITTEN;
}

/* The point a restarted process resumes from; kept out of line so
 * nothing after ck_ctx_save reuses this frame's stack slots. */
static __attribute__((noinline)) int snapshot(const struct ck_opts *o,
					      struct ck_meta *m,
					      struct ck_arena *a,
					      const char *path,
					      const char *tmp,
					      struct fork_report *rep,
					      int64_t t0)
{
	if (ck_ctx_save(&ck_self_ctx))
		return CK_RESTARTED;
	if (o->fork_ckpt)
		return write_forked(o, m, a, path, tmp, rep, t0);
	rep->rc = ck_write_image(o, m, a, path, tmp, 0, &rep->res);
	return rep->rc ? CK_FAILED : CK_WRITTEN;
}

/* Make the DMTCP_MPI_* variables those of the restart command. */
static void adopt_restart_env(const char *block)
{
	extern char **environ;
	char names[64][64];
	int n = 0;

	for (char **e = environ; e && *e && n < 64; e++)
		if (strncmp(*e, "DMTCP_MPI_", 10) == 0) {
			size_t len = strcspn(*e, "=");
			if (len < sizeof(names[0])) {
				memcpy(names[n], *e, len);
				names[n++][len] = '\0';
			}
		}
	for (int i = 0; i < n; i++)
		unsetenv(names[i]);
	for (const char *p = block; p && *p; p += strlen(p) + 1) {
		const char *eq = strchr(p, '=');
		size_t len = eq ? (size_t)(eq - p) : 0;
		if (!eq || len >= sizeof(names[0]))
			continue;
		char name[64];
		memcpy(name, p, len);
		name[len] = '\0';
		setenv(name, eq + 1, 1);
	}
}

static void after_restart(uint64_t shared_pending)
{
	uint64_t mask = ck_threads[0].sigmask;
	int pid = (int)ck_sys0(CK_NR_getpid);

	/* Nobody runs restorer code any more (every thread has arrived in
	 * ck_thread_wake); malloc is safe (see alloc.c). */
	adopt_restart_env((const char *)ck_rinfo.env);
	for (int i = 0; i < 2; i++)
		if (ck_rinfo.unmap[i][1] > ck_rinfo.unmap[i][0])
			munmap((void *)ck_rinfo.unmap[i][0],
			       ck_rinfo.unmap[i][1] - ck_rinfo.unmap[i][0]);
	for (int s = 1; s <= 64; s++) {
		if (s == ck_eng.sig)
			continue;
		if ((ck_threads[0].pending >> (s - 1)) & 1)
			ck_sys3(CK_NR_tgkill, pid, ck_gettid(), s);
	}
	run_hooks(2);
	/* Process-wide pending signals go back once everyone can take
	 * them, as before. */
	for (int s = 1; s <= 64; s++)
		if (s != ck_eng.sig && (shared_pending >> (s - 1)) & 1)
			ck_sys2(CK_NR_kill, pid, s);
	ck_threads_release();
	ck_sys4(CK_NR_rt_sigprocmask, SIG_SETMASK, &mask, NULL, 8);
}

static int make_paths(const struct ck_opts *o, char *path, size_t plen,
		      char *tmp, size_t tlen)
{
	const char *dir = o->dir && *o->dir ? o->dir : ".";
	const char *name = o->name && *o->name ? o->name : "ckpt";
	int a = snprintf(path, plen, "%s/%s.img", dir, name);
	int b = snprintf(tmp, tlen, "%s/%s.img.tmp", dir, name);

	return a < 0 || (size_t)a >= plen || b < 0 || (size_t)b >= tlen ?
		-1 : 0;
}

int ck_checkpoint(const struct ck_opts *o, char *path_out, size_t path_len)
{
	static struct ck_opts defaults = { .zstd_level = 1 };
	char path[4096], tmp[4100];
	struct ck_arena a;
	struct ck_meta m;
	struct fork_report *rep;
	int64_t t0 = ck_now_ns();
	int rc;

	if (!o)
		o = &defaults;
	if (ck_init() != 0) {
		dm_err("cannot checkpoint (pid %d): %s", (int)getpid(),
		       ck_eng.disabled_why);
		return CK_FAILED;
	}
	if (make_paths(o, path, sizeof(path), tmp, sizeof(tmp))) {
		dm_err("cannot checkpoint (%s): image path too long", o->dir);
		return CK_FAILED;
	}
	if (__atomic_exchange_n(&busy, 1, __ATOMIC_ACQ_REL)) {
		dm_err("cannot checkpoint (pid %d): a checkpoint is already "
		       "running", (int)getpid());
		return CK_FAILED;
	}
	rep = mmap(NULL, sizeof(*rep), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rep == MAP_FAILED || arena_open(&a) != 0 || meta_alloc(&m, &a)) {
		dm_err("cannot checkpoint (pid %d): no memory for buffers",
		       (int)getpid());
		if (rep != MAP_FAILED)
			munmap(rep, sizeof(*rep));
		__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
		return CK_FAILED;
	}
	/* The report page and the arena must stay out of the image. */
	ck_eng.internal[0][0] = (uint64_t)rep;
	ck_eng.internal[0][1] = (uint64_t)rep + 4096;
	ck_eng.internal[1][0] = (uint64_t)a.base;
	ck_eng.internal[1][1] = (uint64_t)a.base + a.cap;
	memset(rep, 0, sizeof(*rep));
	if (ck_threads_stop() != 0) {
		rc = CK_FAILED;
		goto out;
	}
	ck_threads_save_self(&ck_threads[0]);
	ck_sys4(CK_NR_rt_sigprocmask, SIG_SETMASK, NULL,
		&ck_threads[0].sigmask, 8);
	if (ck_threads_check() != 0 || ck_state_collect(&m) != 0) {
		ck_threads_release();
		rc = CK_FAILED;
		goto out;
	}
	run_hooks(0);
	rc = snapshot(o, &m, &a, path, tmp, rep, t0);
	if (rc == CK_RESTARTED) {
		after_restart(m.proc.shared_pending);
		ck_eng.last = (struct ck_stats){ 0 };
		__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
		return CK_RESTARTED;
	}
	if (rc == CK_WRITTEN && o->hold) {
		held = 1;
	} else if (!o->fork_ckpt || o->hold) {
		run_hooks(1);
		ck_threads_release();
		ck_eng.last.pause_s = (double)(ck_now_ns() - t0) / 1e9;
	}
out:
	ck_eng.last.total_s = (double)(ck_now_ns() - t0) / 1e9;
	ck_eng.last.mem_bytes = rep->res.mem_bytes;
	ck_eng.last.image_bytes = rep->res.image_bytes;
	if (rc == CK_WRITTEN && path_out && path_len) {
		snprintf(path_out, path_len, "%s", path);
	}
	if (rc == CK_WRITTEN && ck_eng.verbose)
		dm_info("checkpoint %s: %.3f s (threads paused %.3f s), "
			"%llu bytes of memory, image %llu bytes", path,
			ck_eng.last.total_s, ck_eng.last.pause_s,
			(unsigned long long)ck_eng.last.mem_bytes,
			(unsigned long long)ck_eng.last.image_bytes);
	munmap(a.base, a.cap);
	munmap(rep, sizeof(*rep));
	/* Held: still busy, no second checkpoint until the release. */
	if (!held)
		__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
	return rc;
}

void ck_release(void)
{
	if (!held)
		return;
	held = 0;
	run_hooks(1);
	ck_threads_release();
	__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
}
