/*
 * init.c - the engine's constructor and its small public functions.
 *
 * ck_init runs from the library's constructor, in the main thread before
 * main() (which also takes the library out of LD_PRELOAD, so programs the
 * application execs are not checkpointed as extra ranks): it checks that this platform is one we can restore (glibc keeps
 * the tid where we patch it, no shadow stack), records the main stack,
 * and installs the thread-stop signal handler.  The application cannot
 * take that signal away: sigaction, signal and the mask functions are
 * wrapped so the signal stays ours and unblocked.
 *
 * Environment:
 *   DMTCP_MPI_CKPT_SIGNAL   thread-stop signal number (default 62)
 *   DMTCP_MPI_FAULT         fault points to fire (tests: ckpt-enospc,
 *                           ckpt-kill; read once, the writers test them
 *                           for every chunk)
 *   DMTCP_MPI_CKPT_VERBOSE  1: one line per checkpoint with timings
 *   DMTCP_MPI_CKPT_STOP_TIMEOUT  seconds to wait for threads to stop
 *                           (default 10; then the checkpoint fails)
 *   DMTCP_MPI_NO_CLIENT     1: do not start the coordinator client
 */
#include "ckpt/client.h"
#include "ckpt/internal.h"
#include "ckpt/maps.h"
#include "ckpt/sys.h"
#include "util/fault.h"
#include "util/log.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define CK_DEFAULT_SIGNAL 62

struct ck_engine ck_eng;

/* The coordinator client lives in client.c, linked into the production
 * library only; test builds of the engine leave it out. */
extern int ck_client_start(void) __attribute__((weak));
extern void *__libc_stack_end;

static int (*real_sigaction)(int, const struct sigaction *,
			     struct sigaction *);
static int (*real_sigprocmask)(int, const sigset_t *, sigset_t *);
static int (*real_pthread_sigmask)(int, const sigset_t *, sigset_t *);
static sighandler_t (*real_signal)(int, sighandler_t);

int64_t ck_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void disable(const char *why)
{
	ck_eng.disabled = 1;
	snprintf(ck_eng.disabled_why, sizeof(ck_eng.disabled_why), "%s", why);
}

/* End of the mapping that holds the initial stack: the region restored
 * with MAP_GROWSDOWN.  Kept across restarts in our own memory, because
 * after one the kernel no longer labels it [stack]. */
static void find_main_stack(void)
{
	size_t cap = 1 << 20;
	char *buf = mmap(NULL, cap, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t sp = (uint64_t)__libc_stack_end;

	if (buf == MAP_FAILED)
		return;
	long len = ck_maps_read(buf, cap / 2);
	struct ck_map *m = (void *)(buf + cap / 2);
	long n = len > 0 ? ck_maps_parse(buf, (size_t)len, m,
					 (cap / 2) / sizeof(*m)) : -1;
	for (long i = 0; i < n; i++)
		if (m[i].start <= sp && sp < m[i].end)
			ck_eng.main_stack_hi = m[i].end;
	munmap(buf, cap);
}

static int shadow_stack_on(void)
{
	char buf[4096];
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	const char *l = strstr(buf, "x86_Thread_features:");
	const char *eol = l ? strchr(l, '\n') : NULL;
	const char *s = l ? strstr(l, "shstk") : NULL;
	return s && (!eol || s < eol);
}

static void resolve_real(void)
{
	real_sigaction = (int (*)(int, const struct sigaction *,
				  struct sigaction *))dlsym(RTLD_NEXT,
							    "sigaction");
	real_sigprocmask = (int (*)(int, const sigset_t *, sigset_t *))
		dlsym(RTLD_NEXT, "sigprocmask");
	real_pthread_sigmask = (int (*)(int, const sigset_t *, sigset_t *))
		dlsym(RTLD_NEXT, "pthread_sigmask");
	real_signal = (sighandler_t (*)(int, sighandler_t))
		dlsym(RTLD_NEXT, "signal");
}

static int install_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = ck_park_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&sa.sa_mask);
	if (real_sigaction(ck_eng.sig, &sa, NULL) != 0) {
		dm_err("cannot install the thread-stop handler (signal %d): %s",
		       ck_eng.sig, strerror(errno));
		return -1;
	}
	sigset_t one;
	sigemptyset(&one);
	sigaddset(&one, ck_eng.sig);
	real_pthread_sigmask(SIG_UNBLOCK, &one, NULL);
	return 0;
}

static int read_signal_env(void)
{
	const char *s = getenv("DMTCP_MPI_CKPT_SIGNAL");
	char *end;

	if (!s || !*s)
		return CK_DEFAULT_SIGNAL;
	long v = strtol(s, &end, 10);
	if (*end || v < 1 || v > 64 || v == SIGKILL || v == SIGSTOP ||
	    v == 32 || v == 33) {
		dm_warn("DMTCP_MPI_CKPT_SIGNAL=%s is not a usable signal; "
			"using %d", s, CK_DEFAULT_SIGNAL);
		return CK_DEFAULT_SIGNAL;
	}
	return (int)v;
}

int ck_init(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

	if (__atomic_load_n(&ck_eng.inited, __ATOMIC_ACQUIRE))
		return ck_eng.disabled ? -1 : 0;
	pthread_mutex_lock(&lock);
	if (!ck_eng.inited) {
		const char *v = getenv("DMTCP_MPI_CKPT_VERBOSE");

		ck_eng.fault_enospc = dm_fault("ckpt-enospc");
		ck_eng.fault_kill = dm_fault("ckpt-kill");
		ck_eng.verbose = v && *v == '1';
		const char *to = getenv("DMTCP_MPI_CKPT_STOP_TIMEOUT");
		ck_eng.stop_timeout_ns = (to && atoi(to) > 0 ? atoi(to) : 10) *
					 1000000000LL;
		ck_eng.sig = read_signal_env();
		resolve_real();
		find_main_stack();
		uint64_t self = (uint64_t)pthread_self();
		if (!real_sigaction || !real_pthread_sigmask)
			disable("cannot find sigaction in libc");
		else if (*(int *)(self + CK_TID_OFFSET) != ck_gettid())
			disable("glibc does not keep the thread id at offset "
				"720 of struct pthread (glibc 2.36 layout "
				"expected)");
		else if (shadow_stack_on())
			disable("x86 shadow stacks are enabled");
		else if (install_handler() != 0)
			disable("no thread-stop handler");
		__atomic_store_n(&ck_eng.inited, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&lock);
	return ck_eng.disabled ? -1 : 0;
}

/* Programs this process execs (a shell, a helper) must not load the
 * engine again and register as more ranks of the job: take our library
 * out of LD_PRELOAD, keeping whatever else the user preloads. */
static void unpreload_self(void)
{
	const char *pre = getenv("LD_PRELOAD");
	Dl_info info;

	if (!pre || !*pre || !dladdr((void *)ck_init, &info) ||
	    !info.dli_fname)
		return;
	const char *me = strrchr(info.dli_fname, '/');
	me = me ? me + 1 : info.dli_fname;
	char *keep = malloc(strlen(pre) + 1);
	if (!keep)
		return;
	size_t n = 0;
	for (const char *p = pre; *p;) {
		size_t len = strcspn(p, ": ");
		const char *base = p;
		for (size_t i = 0; i < len; i++)
			if (p[i] == '/')
				base = p + i + 1;
		size_t blen = len - (size_t)(base - p);
		if (len && !(blen == strlen(me) && !memcmp(base, me, blen))) {
			if (n)
				keep[n++] = ':';
			memcpy(keep + n, p, len);
			n += len;
		}
		p += len;
		p += *p != '\0';
	}
	keep[n] = '\0';
	if (n)
		setenv("LD_PRELOAD", keep, 1);
	else
		unsetenv("LD_PRELOAD");
	free(keep);
}

__attribute__((constructor)) static void ck_constructor(void)
{
	const char *nc = getenv("DMTCP_MPI_NO_CLIENT");

	unpreload_self();
	if (ck_init() == 0 && ck_client_start && !(nc && *nc == '1'))
		ck_client_start();
}

int ck_register_hooks(const struct ck_hooks *h)
{
	if (ck_eng.nhooks == CK_MAX_HOOKS) {
		dm_err("cannot register checkpoint hooks: more than %d",
		       CK_MAX_HOOKS);
		return -1;
	}
	ck_eng.hooks[ck_eng.nhooks++] = *h;
	return 0;
}

int ck_skip_region(void *addr, size_t len)
{
	uint64_t lo = (uint64_t)addr & ~(uint64_t)(CK_IMG_PAGE - 1);
	uint64_t hi = ((uint64_t)addr + len + CK_IMG_PAGE - 1) &
		      ~(uint64_t)(CK_IMG_PAGE - 1);

	if (ck_eng.nskip == CK_MAX_SKIP) {
		dm_err("cannot exclude region %p from images: more than %d",
		       addr, CK_MAX_SKIP);
		return -1;
	}
	ck_eng.skip[ck_eng.nskip][0] = lo;
	ck_eng.skip[ck_eng.nskip][1] = hi;
	ck_eng.nskip++;
	return 0;
}

int ck_last_stats(struct ck_stats *st)
{
	*st = ck_eng.last;
	return 0;
}

/* ------------------------------------------- keeping the signal ours */

static int ours(int sig)
{
	return ck_eng.inited && !ck_eng.disabled && sig == ck_eng.sig;
}

int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (!real_sigaction)
		ck_init();
	if (!real_sigaction) {
		errno = ENOSYS;
		return -1;
	}
	if (ours(sig)) {
		if (old) {
			memset(old, 0, sizeof(*old));
			old->sa_handler = SIG_DFL;
		}
		return 0;   /* the application's request is dropped */
	}
	return real_sigaction(sig, act, old);
}

sighandler_t signal(int sig, sighandler_t h)
{
	if (!real_signal)
		ck_init();
	if (ours(sig))
		return SIG_DFL;
	return real_signal ? real_signal(sig, h) : SIG_ERR;
}

static const sigset_t *without_ours(int how, const sigset_t *set,
				    sigset_t *copy)
{
	if (!set || how == SIG_UNBLOCK || !ck_eng.inited || ck_eng.disabled)
		return set;
	*copy = *set;
	sigdelset(copy, ck_eng.sig);
	return copy;
}

int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	sigset_t copy;

	if (!real_sigprocmask)
		ck_init();
	if (!real_sigprocmask) {
		errno = ENOSYS;
		return -1;
	}
	return real_sigprocmask(how, without_ours(how, set, &copy), old);
}

int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	sigset_t copy;

	if (!real_pthread_sigmask)
		ck_init();
	if (!real_pthread_sigmask)
		return ENOSYS;
	return real_pthread_sigmask(how, without_ours(how, set, &copy), old);
}
