/*
 * restorer.c - the libc-free restorer: turns a fresh process into the
 * checkpointed one, following a plan (plan.h).
 *
 * dmtcp_mpi_restart execs it (a static PIE, relocated by the front end
 * so that it ends exactly at the image's start_brk, and run without
 * address randomisation so the kernel starts the program break there).
 * No C library runs in it: no TLS, no rseq registration, no signal
 * handlers, nothing that would point into memory we are about to
 * replace.  Algorithm:
 *
 *   1. map the plan, switch to the stack inside it;
 *   2. block all signals; unmap everything but ourselves, the plan and
 *      the kernel's vdso/vvar;
 *   3. move vdso, vvar and vvar_vclock to the image's addresses (through
 *      a free spot, as old and new places may overlap);
 *   4. brk(saved break): the kernel's heap is the image's again;
 *   5. map every region at its address (MAP_FIXED_NOREPLACE: a clash is
 *      reported, never silently overwritten), fill the saved pages from
 *      the image or the decompressor's pipe, set final protections;
 *   6. fds, signal dispositions, cwd, umask;
 *   7. clone every thread with its FS base and glibc's tid field set by
 *      the kernel; each (and we, becoming the leader) jumps to
 *      ck_thread_wake in the restored library, which finishes the job.
 *
 * Any failure prints one line and exits: from step 2 on there is no
 * process to return to.
 */
#include "ckpt/restore/plan.h"
#include "ckpt/sys.h"
#include "util/exitcode.h"

#include <stddef.h>
#include <stdint.h>

#define PROT_READ 1
#define PROT_WRITE 2
#define MAP_SHARED 1
#define MAP_PRIVATE 2
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_GROWSDOWN 0x100
#define MAP_FIXED_NOREPLACE 0x100000
#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED 2
#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_ACCMODE 3
#define O_CREAT 0100
#define O_EXCL 0200
#define O_NOCTTY 0400
#define O_TRUNC 01000
#define O_DIRECTORY 0200000
#define F_SETFD 2
#define F_SETFL 4
#define SEEK_SET 0
#define CLONE_FLAGS (0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000 | \
		     0x80000 | 0x100000 | 0x200000)
/* VM FS FILES SIGHAND THREAD SYSVSEM SETTLS PARENT_SETTID CHILD_CLEARTID */

/* gcc may emit calls to these even in freestanding code. */
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
void *memmove(void *d, const void *s, size_t n);

void *memcpy(void *d, const void *s, size_t n)
{
	char *a = d;
	const char *b = s;
	while (n--)
		*a++ = *b++;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	char *a = d;
	const char *b = s;
	if (a < b)
		while (n--)
			*a++ = *b++;
	else
		while (n--)
			a[n] = b[n];
	return d;
}

void *memset(void *d, int c, size_t n)
{
	char *a = d;
	while (n--)
		*a++ = (char)c;
	return d;
}

static int seq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* ---------------------------------------------------------- errors */

static void put(char **p, const char *s)
{
	while (*s)
		*(*p)++ = *s++;
}

static void put_hex(char **p, uint64_t v)
{
	char t[17];
	int n = 0;
	put(p, "0x");
	do
		t[n++] = "0123456789abcdef"[v & 15];
	while (v >>= 4);
	while (n)
		*(*p)++ = t[--n];
}

static void put_dec(char **p, long v)
{
	char t[24];
	int n = 0;
	if (v < 0) {
		*(*p)++ = '-';
		v = -v;
	}
	do
		t[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n)
		*(*p)++ = t[--n];
}

/* "dmtcp_mpi: error: restore failed: <what> (<addr>): errno <e>" */
static void __attribute__((noreturn)) die(int code, const char *what,
					  uint64_t addr, long err)
{
	char line[512], *p = line;

	put(&p, "dmtcp_mpi: error: restore failed: ");
	put(&p, what);
	if (addr) {
		put(&p, " (");
		put_hex(&p, addr);
		put(&p, ")");
	}
	if (err < 0) {
		put(&p, ": errno ");
		put_dec(&p, -err);
	}
	*p++ = '\n';
	ck_sys3(CK_NR_write, 2, line, p - line);
	ck_sys1(CK_NR_exit_group, code);
	for (;;)
		;
}

/* ---------------------------------------------------------- entry */

static uint64_t parse_num(const char *s, int base)
{
	uint64_t v = 0;
	for (; *s; s++) {
		int d = *s >= '0' && *s <= '9' ? *s - '0' :
			*s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : -1;
		if (d < 0 || d >= base)
			die(DM_EXIT_INTERNAL, "bad restorer argument", 0, 0);
		v = v * (uint64_t)base + (uint64_t)d;
	}
	return v;
}

void ckr_main(uint64_t *sp) __attribute__((noreturn, used));
static void ckr_restore(struct ckr_plan *p) __attribute__((noreturn, used));
void ckr_call_on_stack(uint64_t top, void (*fn)(struct ckr_plan *),
		       struct ckr_plan *arg) __attribute__((noreturn));
void ckr_jump(uint64_t sp, uint64_t fn, uint64_t arg)
	__attribute__((noreturn));
long ckr_clone(unsigned long flags, uint64_t stack, uint64_t ptid,
	       uint64_t ctid, uint64_t tls, const struct ck_img_thread *t,
	       uint64_t wake_fn);

__asm__(
	".text\n"
	".globl _start\n"
	"_start:\n"
	"	movq %rsp, %rdi\n"
	"	andq $-16, %rsp\n"
	"	call ckr_main\n"
	"	hlt\n"

	/* ckr_call_on_stack(top, fn, arg) */
	".globl ckr_call_on_stack\n"
	"ckr_call_on_stack:\n"
	"	movq %rdi, %rsp\n"
	"	movq %rdx, %rdi\n"
	"	call *%rsi\n"
	"	hlt\n"

	/* ckr_jump(sp, fn, arg): as if fn(arg) had been called at sp */
	".globl ckr_jump\n"
	"ckr_jump:\n"
	"	leaq -8(%rdi), %rsp\n"
	"	movq %rdx, %rdi\n"
	"	xorl %ebp, %ebp\n"
	"	jmp *%rsi\n"

	/* ckr_clone(flags, stack, ptid, ctid, tls, t, wake_fn): the child
	 * jumps to wake_fn(t->wake_arg) on t->wake_sp. */
	".globl ckr_clone\n"
	"ckr_clone:\n"
	"	movq 8(%rsp), %rax\n"
	"	movq %rax, %r11\n"
	"	subq $16, %rsi\n"
	"	movq %r9, 0(%rsi)\n"
	"	movq %r11, 8(%rsi)\n"
	"	movq %rcx, %r10\n"
	"	movl $56, %eax\n"
	"	syscall\n"
	"	testq %rax, %rax\n"
	"	jnz 1f\n"
	"	popq %rdx\n"              /* t */
	"	popq %rsi\n"              /* wake_fn */
	"	movq 56(%rdx), %rdi\n"    /* t->wake_sp */
	"	movq 64(%rdx), %rdx\n"    /* t->wake_arg */
	"	jmp ckr_jump\n"
	"1:	ret\n");

_Static_assert(offsetof(struct ck_img_thread, wake_sp) == 56, "asm");
_Static_assert(offsetof(struct ck_img_thread, wake_arg) == 64, "asm");

void ckr_main(uint64_t *sp)
{
	char **argv = (char **)(sp + 1);

	if (sp[0] < 4)
		die(DM_EXIT_USAGE, "the restorer is started by "
		    "dmtcp_mpi_restart only", 0, 0);
	long fd = (long)parse_num(argv[1], 10);
	uint64_t base = parse_num(argv[2], 16);
	uint64_t size = parse_num(argv[3], 10);
	long r = ck_sys6(CK_NR_mmap, (long)base, (long)size,
			 PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0);
	if (r != (long)base)
		die(DM_EXIT_RESTORE, "cannot map the restore plan", base, r);
	ck_sys1(CK_NR_close, fd);
	if (sp[0] >= 5)   /* started from a file copy: remove it */
		ck_sys1(87 /* unlink */, argv[4]);
	struct ckr_plan *p = (struct ckr_plan *)base;
	if (p->magic != CKR_PLAN_MAGIC || p->base != base || p->size != size)
		die(DM_EXIT_INTERNAL, "bad restore plan", base, 0);
	ckr_call_on_stack(p->stack_top, ckr_restore, p);
}

/* ------------------------------------------------- address space */

static int hexd(char c)
{
	return c >= '0' && c <= '9' ? c - '0' :
	       c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static const char *hexnum(const char *s, uint64_t *v)
{
	*v = 0;
	for (int d; (d = hexd(*s)) >= 0; s++)
		*v = *v * 16 + (uint64_t)d;
	return s;
}

/* Unmap all but ourselves, the plan and the specials; note where the
 * kernel put the specials. */
static void clear_address_space(struct ckr_plan *p, uint64_t cur[3][2])
{
	char *buf = (char *)p->scratch;
	long fd = ck_sys3(CK_NR_open, "/proc/self/maps", O_RDONLY, 0);
	long len = 0, r;

	if (fd < 0)
		die(DM_EXIT_RESTORE, "cannot read /proc/self/maps", 0, fd);
	while ((r = ck_sys3(CK_NR_read, fd, buf + len,
			    p->scratch_len - 1 - (uint64_t)len)) > 0)
		len += r;
	ck_sys1(CK_NR_close, fd);
	buf[len] = '\0';
	for (char *s = buf; *s;) {
		char *nl = s;
		while (*nl && *nl != '\n')
			nl++;
		char *name = nl;
		while (name > s && name[-1] != ' ')
			name--;
		char save = *nl;
		*nl = '\0';
		uint64_t lo, hi;
		hexnum(hexnum(s, &lo) + 1, &hi);
		int keep = (lo >= p->self_lo && hi <= p->self_hi) ||
			   (lo >= p->base && hi <= p->base + p->size) ||
			   seq(name, "[vsyscall]");
		for (int i = 0; i < 3; i++)
			if (seq(name, p->special[i].name)) {
				cur[i][0] = lo;
				cur[i][1] = hi;
				keep = 1;
			}
		if (!keep)
			ck_sys2(CK_NR_munmap, lo, hi - lo);
		*nl = save;
		s = *nl ? nl + 1 : nl;
	}
}

static void move_specials(struct ckr_plan *p, uint64_t cur[3][2])
{
	uint64_t at = p->tmp_lo;

	for (int i = 0; i < 3; i++) {
		const struct ckr_special *s = &p->special[i];
		uint64_t len = cur[i][1] - cur[i][0];
		if (len != s->saved_hi - s->saved_lo)
			die(DM_EXIT_RESTORE, "the kernel's vdso/vvar layout "
			    "differs from the image's (another kernel?)",
			    s->saved_lo, 0);
		if (!len)
			continue;
		if (at + len > p->tmp_hi)
			die(DM_EXIT_INTERNAL, "scratch spot too small", at, 0);
		long r = ck_sys5(CK_NR_mremap, cur[i][0], len, len,
				 MREMAP_MAYMOVE | MREMAP_FIXED, at);
		if (r != (long)at)
			die(DM_EXIT_RESTORE, "cannot move the vdso/vvar",
			    cur[i][0], r);
		cur[i][0] = at;
		at += len;
	}
	for (int i = 0; i < 3; i++) {
		const struct ckr_special *s = &p->special[i];
		uint64_t len = s->saved_hi - s->saved_lo;
		if (!len)
			continue;
		long r = ck_sys5(CK_NR_mremap, cur[i][0], len, len,
				 MREMAP_MAYMOVE | MREMAP_FIXED, s->saved_lo);
		if (r != (long)s->saved_lo)
			die(DM_EXIT_RESTORE, "cannot move the vdso/vvar to "
			    "its saved address", s->saved_lo, r);
	}
}

static void restore_brk(struct ckr_plan *p)
{
	if (!p->exact_brk)
		return;
	long cur = ck_sys1(CK_NR_brk, 0);
	if ((uint64_t)cur != p->start_brk)
		die(DM_EXIT_INTERNAL, "the program break does not start at "
		    "the image's start_brk", (uint64_t)cur, 0);
	long r = ck_sys1(CK_NR_brk, p->brk);
	if ((uint64_t)r != p->brk)
		die(DM_EXIT_RESTORE, "cannot restore the program break",
		    p->brk, 0);
}

static void map_regions(struct ckr_plan *p)
{
	const struct ckr_region *rg = (const void *)(p->base + p->regions);
	const char *str = (const char *)(p->base + p->strings);

	for (uint32_t i = 0; i < p->nregions; i++) {
		const struct ckr_region *r = &rg[i];
		uint64_t len = r->end - r->start;
		long fd = -1, flags = MAP_FIXED_NOREPLACE, prot = r->prot;

		if (r->in_brk)
			continue;
		if (r->kind == CK_REG_SHARED_FILE) {
			fd = ck_sys3(CK_NR_open, str + r->path, O_RDWR, 0);
			if (fd < 0)
				fd = ck_sys3(CK_NR_open, str + r->path,
					     O_RDONLY, 0);
			if (fd < 0)
				die(DM_EXIT_RESTORE, "cannot open a mapped "
				    "file", r->start, fd);
			flags |= MAP_SHARED;
		} else {
			flags |= MAP_ANONYMOUS | (r->kind == CK_REG_SHARED_ANON ?
						  MAP_SHARED : MAP_PRIVATE);
			prot |= PROT_READ | PROT_WRITE;
		}
		if (r->flags & CK_REG_F_STACK)
			flags |= MAP_GROWSDOWN;
		long a = ck_sys6(CK_NR_mmap, (long)r->start, (long)len, prot,
				 flags, fd,
				 fd >= 0 ? (long)r->file_offset : 0);
		if (fd >= 0)
			ck_sys1(CK_NR_close, fd);
		if (a != (long)r->start)
			die(DM_EXIT_RESTORE, "cannot map a region at its "
			    "address", r->start, a < 0 ? a : -17);
	}
}

static void read_exact(long fd, uint64_t addr, uint64_t len, uint64_t off,
		       int seekable)
{
	while (len) {
		long r = seekable ?
			ck_sys4(CK_NR_pread64, fd, addr, len, off) :
			ck_sys3(CK_NR_read, fd, addr, len);
		if (r == -4 /* EINTR */)
			continue;
		if (r <= 0)
			die(DM_EXIT_IMAGE, seekable ? "cannot read the image" :
			    "image data ended early (see the decompressor's "
			    "error)", addr, r);
		addr += (uint64_t)r;
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
}

/* Raw sections: read here.  Compressed ones: the decompressor writes
 * them into our memory meanwhile (status 'D' at the end), or streams
 * them through the pipe ('S'). */
static void load_pages(struct ckr_plan *p)
{
	const struct ckr_chunk *ch = (const void *)(p->base + p->chunks);
	const struct ck_img_extent *x = (const void *)(p->base + p->extents);
	char status = 0;

	if (p->pipe_fd >= 0) {
		/* Yama may allow only ancestors to write our memory. */
		ck_sys2(CK_NR_prctl, 0x59616d61 /* PR_SET_PTRACER */,
			p->feeder_pid);
		if (ck_sys3(CK_NR_write, p->go_fd, "g", 1) != 1)
			die(DM_EXIT_INTERNAL, "the decompressor is gone", 0, 0);
	}
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			if (p->pipe_fd < 0)
				break;
			read_exact(p->pipe_fd, (uint64_t)&status, 1, 0, 0);
			if (status == 'D')
				break;
			if (status != 'S')
				die(DM_EXIT_INTERNAL, "bad decompressor status",
				    0, 0);
		}
		for (uint32_t i = 0; i < p->nchunks; i++) {
			if (ch[i].from_pipe != (uint32_t)pass)
				continue;
			uint64_t off = ch[i].file_off;
			for (uint32_t k = 0; k < ch[i].ext_count; k++) {
				const struct ck_img_extent *e =
					&x[ch[i].ext_first + k];
				read_exact(pass ? p->pipe_fd : p->image_fd,
					   e->addr, e->len, off, !pass);
				off += e->len;
			}
		}
	}
}

static void protect_regions(struct ckr_plan *p)
{
	const struct ckr_region *rg = (const void *)(p->base + p->regions);

	for (uint32_t i = 0; i < p->nregions; i++) {
		const struct ckr_region *r = &rg[i];
		if (r->kind == CK_REG_SHARED_FILE ||
		    r->prot == (PROT_READ | PROT_WRITE))
			continue;
		long e = ck_sys3(CK_NR_mprotect, r->start, r->end - r->start,
				 r->prot);
		if (e < 0)
			die(DM_EXIT_RESTORE, "cannot set a region's protection",
			    r->start, e);
	}
}

/* ------------------------------------------------------- fds etc. */

static void place_fd(long fd, int target, const struct ck_img_fd *f)
{
	if (fd != target) {
		long r = ck_sys2(CK_NR_dup2, fd, target);
		ck_sys1(CK_NR_close, fd);
		if (r < 0)
			die(DM_EXIT_RESTORE, "cannot restore a file descriptor",
			    (uint64_t)target, r);
	}
	ck_sys3(CK_NR_fcntl, target, F_SETFD, f->fdflags);
}

static void restore_fds(struct ckr_plan *p)
{
	const struct ck_img_fd *fds = (const void *)(p->base + p->fds);
	const char *str = (const char *)(p->base + p->strings);

	for (uint32_t i = 0; i < p->nfds; i++) {
		const struct ck_img_fd *f = &fds[i];
		long fd;

		switch (f->kind) {
		case CK_FD_STDIO:
			continue;   /* the restart's own stdio stays */
		case CK_FD_DUP:
			fd = ck_sys1(CK_NR_dup, f->dup_of);
			break;
		case CK_FD_FILE:
		case CK_FD_DIR:
		case CK_FD_DEV:
			fd = ck_sys3(CK_NR_open, str + f->path,
				     f->oflags & ~(O_CREAT | O_EXCL | O_TRUNC |
						   O_NOCTTY), 0);
			break;
		default:
			fd = ck_sys3(CK_NR_open, "/dev/null", O_RDWR, 0);
			break;
		}
		if (fd < 0)
			die(DM_EXIT_RESTORE, "cannot reopen a file descriptor",
			    (uint64_t)f->fd, fd);
		if (f->kind == CK_FD_FILE) {
			/* Cut back what was written after the checkpoint,
			 * or appends would be repeated. */
			uint64_t st[18];   /* struct stat; st_size at 48 */
			if ((f->oflags & O_ACCMODE) != O_RDONLY &&
			    ck_sys2(CK_NR_fstat, fd, st) == 0 &&
			    st[6] > f->size)
				ck_sys2(CK_NR_ftruncate, fd, f->size);
			ck_sys3(CK_NR_lseek, fd, f->offset, SEEK_SET);
		}
		place_fd(fd, f->fd, f);
	}
	/* 0-2 that were closed at checkpoint are closed again. */
	for (int s = 0; s <= 2; s++) {
		int open = 0;
		for (uint32_t i = 0; i < p->nfds; i++)
			open |= fds[i].fd == s;
		if (!open)
			ck_sys1(CK_NR_close, s);
	}
}

static void restore_process(struct ckr_plan *p)
{
	for (int s = 1; s <= CK_IMG_NSIG; s++)
		if (s != 9 && s != 19)
			ck_sys4(CK_NR_rt_sigaction, s, &p->sig[s - 1], 0, 8);
	long r = ck_sys1(CK_NR_chdir, p->base + p->strings + p->cwd);
	if (r < 0)
		die(DM_EXIT_RESTORE, "cannot change to the saved working "
		    "directory", 0, r);
	ck_sys1(CK_NR_umask, p->umask);
}

/* ------------------------------------------------------- threads */

static void __attribute__((noreturn)) start_threads(struct ckr_plan *p)
{
	const struct ck_img_thread *th = (const void *)(p->base + p->threads);
	struct ck_restart_info *ri = (void *)p->restart_info;

	ri->unmap[0][0] = p->self_lo;
	ri->unmap[0][1] = p->self_hi;
	ri->unmap[1][0] = p->base;
	ri->unmap[1][1] = p->base + p->size;
	ri->env = p->env_len ? p->base + p->env : 0;
	ri->nthreads = (int32_t)p->nthreads;
	for (uint32_t i = 0; i < p->nthreads; i++) {
		const struct ck_img_thread *t = &th[i];
		if (i == p->leader)
			continue;
		long r = ckr_clone(CLONE_FLAGS, t->wake_sp, t->tidptr,
				   t->tidptr, t->fs_base, t, p->wake_fn);
		if (r < 0)
			die(DM_EXIT_RESTORE, "cannot recreate a thread",
			    t->tid, r);
	}
	const struct ck_img_thread *t = &th[p->leader];
	ck_sys2(CK_NR_arch_prctl, CK_ARCH_SET_FS, t->fs_base);
	*(volatile int *)t->tidptr = ck_gettid();
	ck_sys1(CK_NR_set_tid_address, t->tidptr);
	ckr_jump(t->wake_sp, p->wake_fn, t->wake_arg);
}

static void ckr_restore(struct ckr_plan *p)
{
	uint64_t all = ~0ULL;
	uint64_t cur[3][2] = { { 0, 0 }, { 0, 0 }, { 0, 0 } };

	ck_sys4(CK_NR_rt_sigprocmask, 2 /* SIG_SETMASK */, &all, 0, 8);
	ck_sys1(CK_NR_personality, p->personality);
	clear_address_space(p, cur);
	move_specials(p, cur);
	restore_brk(p);
	map_regions(p);
	load_pages(p);
	protect_regions(p);
	if (p->pipe_fd >= 0) {
		ck_sys1(CK_NR_close, p->pipe_fd);
		ck_sys1(CK_NR_close, p->go_fd);
	}
	ck_sys1(CK_NR_close, p->image_fd);
	restore_fds(p);
	restore_process(p);
	start_threads(p);
}
