/*
 * state.c - the process state that is not memory: file descriptors,
 * signal dispositions and pending signals, cwd, umask, program break,
 * CPU features.  Collected with every other thread stopped, with raw
 * system calls and into buffers the caller mapped: a stopped thread may
 * hold a libc lock.
 *
 * File descriptors: fds 0-2 are recorded as "stdio" and at restart keep
 * whatever the restarted command got (the terminal or mpirun's pipes).
 * Regular files, directories and character devices are reopened by path
 * (files at their offset, and cut back to their size at checkpoint if
 * they grew, so appends are not repeated).  fds that share one open file
 * (dup) are found with kcmp and shared again.  Pipes, sockets and the
 * like cannot be reopened; their numbers get /dev/null so nothing else
 * takes them.
 */
#include "ckpt/internal.h"
#include "ckpt/sys.h"
#include "util/log.h"

#include <cpuid.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

uint32_t ck_meta_str(struct ck_meta *m, const char *s)
{
	size_t n = strlen(s) + 1;

	if (m->strings_len + n > m->strings_cap)
		return CK_IMG_NOSTR;
	memcpy(m->strings + m->strings_len, s, n);
	m->strings_len += (uint32_t)n;
	return m->strings_len - (uint32_t)n;
}

static void readlink_str(const char *link, char *out, size_t cap)
{
	long n = ck_sys3(89 /* readlink */, link, out, cap - 1);

	out[n > 0 ? n : 0] = '\0';
}

/* Parse "Name:\t<hex>" from a /proc status file's text. */
static uint64_t status_hex(const char *text, const char *name)
{
	const char *p = strstr(text, name);

	return p ? strtoull(p + strlen(name), NULL, 16) : 0;
}

static long read_small(const char *path, char *buf, size_t cap)
{
	long fd = ck_sys3(CK_NR_open, path, O_RDONLY | O_CLOEXEC, 0);

	if (fd < 0)
		return fd;
	long n = ck_sys3(CK_NR_read, fd, buf, cap - 1);
	ck_sys1(CK_NR_close, fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

static void collect_pending(struct ck_meta *m)
{
	char buf[4096], path[64];
	uint64_t ours = 1ULL << (ck_eng.sig - 1);

	read_small("/proc/self/status", buf, sizeof(buf));
	m->proc.shared_pending = status_hex(buf, "ShdPnd:") & ~ours;
	for (int i = 0; i < ck_nthreads; i++) {
		struct ck_thread *t = &ck_threads[i];
		if (t->state == CK_T_GONE)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%d/status",
			 t->tid);
		read_small(path, buf, sizeof(buf));
		t->pending = status_hex(buf, "SigPnd:") & ~ours;
	}
}

/* start_brk is field 47 of /proc/self/stat; the comm field may hold
 * spaces and parentheses, so count from the last ')'. */
static uint64_t start_brk(void)
{
	char buf[2048];

	if (read_small("/proc/self/stat", buf, sizeof(buf)) <= 0)
		return 0;
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	for (int field = 2; field < 47 && p; field++)
		p = strchr(p + 1, ' ');
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

static void collect_cpu(struct ck_img_proc *p)
{
	unsigned a, b, c, d;

	__cpuid(1, a, b, c, d);
	p->cpuid[0] = c;
	p->cpuid[1] = d;
	if (c & bit_OSXSAVE) {
		uint32_t lo, hi;
		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		p->xcr0 = ((uint64_t)hi << 32) | lo;
	}
	__cpuid_count(7, 0, a, b, c, d);
	p->cpuid[2] = b;
	p->cpuid[3] = c;
}

static void collect_proc(struct ck_meta *m)
{
	struct ck_img_proc *p = &m->proc;
	char path[4096];

	for (int s = 1; s <= CK_IMG_NSIG; s++)
		ck_sys4(CK_NR_rt_sigaction, s, NULL, &p->sig[s - 1], 8);
	p->umask = (uint32_t)ck_sys1(CK_NR_umask, 0);
	ck_sys1(CK_NR_umask, p->umask);
	p->personality = (uint32_t)ck_sys1(CK_NR_personality, 0xffffffff);
	p->start_brk = start_brk();
	p->brk = (uint64_t)ck_sys1(CK_NR_brk, 0);
	if (p->start_brk == 0 || p->start_brk > p->brk)
		p->start_brk = p->brk;
	readlink_str("/proc/self/cwd", path, sizeof(path));
	p->cwd = ck_meta_str(m, path);
	readlink_str("/proc/self/exe", path, sizeof(path));
	p->exe = ck_meta_str(m, path);
	p->wake_fn = (uint64_t)ck_thread_wake;
	p->restart_info = (uint64_t)&ck_rinfo;
	collect_cpu(p);
}

/* ------------------------------------------------------------- fds */

static int list_fds(int *out, int cap)
{
	char buf[4096];
	int n = 0;
	long dfd = ck_sys3(CK_NR_open, "/proc/self/fd",
			   O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);

	if (dfd < 0)
		return (int)dfd;
	for (;;) {
		long len = ck_sys3(CK_NR_getdents64, dfd, buf, sizeof(buf));
		if (len <= 0)
			break;
		for (long off = 0; off < len;) {
			struct { uint64_t ino; int64_t off; uint16_t reclen;
				 uint8_t type; char name[]; } *d =
				(void *)(buf + off);
			off += d->reclen;
			if (d->name[0] < '0' || d->name[0] > '9')
				continue;
			int fd = atoi(d->name);
			if (fd != dfd && n < cap)
				out[n++] = fd;
		}
	}
	ck_sys1(CK_NR_close, dfd);
	/* insertion sort: the kernel lists fds in order already */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && out[j - 1] > out[j]; j--) {
			int t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

static int same_file(int a, int b)
{
	int pid = (int)ck_sys0(CK_NR_getpid);

	return ck_sys5(SYS_kcmp, pid, pid, KCMP_FILE, a, b) == 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void classify_fd(struct ck_meta *m, struct ck_img_fd *f,
			const struct stat *st, const char *path)
{
	if (f->fd <= 2) {
		f->kind = CK_FD_STDIO;
		return;
	}
	for (uint32_t j = 0; j < m->nfds; j++) {
		const struct ck_img_fd *g = &m->fds[j];
		if (g->kind != CK_FD_DUP && g->kind != CK_FD_STDIO &&
		    same_file(g->fd, f->fd)) {
			f->kind = CK_FD_DUP;
			f->dup_of = g->fd;
			return;
		}
	}
	if (path[0] != '/' || ends_with(path, " (deleted)"))
		f->kind = CK_FD_OTHER;
	else if (S_ISREG(st->st_mode))
		f->kind = CK_FD_FILE;
	else if (S_ISDIR(st->st_mode))
		f->kind = CK_FD_DIR;
	else if (S_ISCHR(st->st_mode))
		f->kind = CK_FD_DEV;
	else
		f->kind = CK_FD_OTHER;
	if (f->kind == CK_FD_FILE || f->kind == CK_FD_DIR ||
	    f->kind == CK_FD_DEV)
		f->path = ck_meta_str(m, path);
	if (f->path == CK_IMG_NOSTR)
		f->kind = CK_FD_OTHER;
}

static int collect_fds(struct ck_meta *m)
{
	int fds[4096];
	char link[64], path[4096];
	int n = list_fds(fds, 4096);

	if (n < 0) {
		dm_err("cannot list file descriptors (/proc/self/fd): %s",
		       strerrordesc_np(-n));
		return -1;
	}
	m->nfds = 0;
	for (int i = 0; i < n && m->nfds < m->fds_cap; i++) {
		struct ck_img_fd *f = &m->fds[m->nfds];
		struct stat st;

		memset(f, 0, sizeof(*f));
		f->fd = fds[i];
		f->path = CK_IMG_NOSTR;
		f->dup_of = -1;
		if (ck_sys2(CK_NR_fstat, f->fd, &st) < 0)
			continue;   /* closed meanwhile by nobody: stopped */
		f->oflags = (int32_t)ck_sys2(CK_NR_fcntl, f->fd, F_GETFL);
		f->fdflags = (int32_t)ck_sys2(CK_NR_fcntl, f->fd, F_GETFD);
		long off = ck_sys3(CK_NR_lseek, f->fd, 0, SEEK_CUR);
		f->offset = off > 0 ? (uint64_t)off : 0;
		f->size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", f->fd);
		readlink_str(link, path, sizeof(path));
		/* Our own memfds (the MPI channel above all) belong to this
		 * run and are left out: the launcher of a restart puts the
		 * new channel at the same fixed number (DMTCP_MPI_CHAN_FD_NUM)
		 * and the restorer must not cover it with a placeholder. */
		if (strncmp(path, "/memfd:dmtcp_mpi", 16) == 0)
			continue;
		classify_fd(m, f, &st, path);
		m->nfds++;
	}
	return 0;
}

int ck_state_collect(struct ck_meta *m)
{
	collect_proc(m);
	collect_pending(m);
	return collect_fds(m);
}
