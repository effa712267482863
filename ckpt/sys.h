/*
 * sys.h - raw x86_64 system calls for code that must not touch errno or
 * glibc: the thread-stop signal handler, the raw worker threads that write
 * an image, and the libc-free restorer (ckpt/restore/).
 *
 * Each call returns the kernel's value: >= 0 on success, -errno on error.
 * Header-only (static inline) so the restorer can include it without
 * linking anything.
 */
#ifndef CK_SYS_H
#define CK_SYS_H

#include <stdint.h>

static inline long ck_sys6(long n, long a, long b, long c, long d, long e,
			   long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
			   "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define ck_sys0(n)             ck_sys6((n), 0, 0, 0, 0, 0, 0)
#define ck_sys1(n, a)          ck_sys6((n), (long)(a), 0, 0, 0, 0, 0)
#define ck_sys2(n, a, b)       ck_sys6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define ck_sys3(n, a, b, c)    ck_sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define ck_sys4(n, a, b, c, d) \
	ck_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define ck_sys5(n, a, b, c, d, e) \
	ck_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* x86_64 syscall numbers we use (stable ABI; listed here so the restorer
 * needs no kernel headers). */
enum {
	CK_NR_read = 0, CK_NR_write = 1, CK_NR_open = 2, CK_NR_close = 3,
	CK_NR_fstat = 5, CK_NR_lseek = 8, CK_NR_mmap = 9, CK_NR_mprotect = 10,
	CK_NR_munmap = 11, CK_NR_brk = 12, CK_NR_rt_sigaction = 13,
	CK_NR_rt_sigprocmask = 14, CK_NR_rt_sigreturn = 15,
	CK_NR_pread64 = 17, CK_NR_pwrite64 = 18, CK_NR_writev = 20,
	CK_NR_mremap = 25, CK_NR_madvise = 28, CK_NR_dup = 32,
	CK_NR_dup2 = 33, CK_NR_nanosleep = 35, CK_NR_getpid = 39,
	CK_NR_clone = 56, CK_NR_exit = 60, CK_NR_wait4 = 61, CK_NR_kill = 62,
	CK_NR_fcntl = 72, CK_NR_ftruncate = 77, CK_NR_chdir = 80,
	CK_NR_umask = 95, CK_NR_personality = 135, CK_NR_prctl = 157,
	CK_NR_arch_prctl = 158, CK_NR_gettid = 186, CK_NR_futex = 202,
	CK_NR_set_tid_address = 218, CK_NR_exit_group = 231,
	CK_NR_tgkill = 234, CK_NR_openat = 257, CK_NR_set_robust_list = 273,
	CK_NR_get_robust_list = 274, CK_NR_pwritev = 296,
	CK_NR_getdents64 = 217, CK_NR_rseq = 334,
};

#define CK_ARCH_SET_FS 0x1002
#define CK_ARCH_GET_FS 0x1003
#define CK_RSEQ_SIG 0x53053053u
#define CK_RSEQ_FLAG_UNREGISTER 1
#define CK_FUTEX_WAIT_PRIVATE 128
#define CK_FUTEX_WAKE_PRIVATE 129

static inline long ck_futex_wait(int *addr, int val)
{
	return ck_sys4(CK_NR_futex, addr, CK_FUTEX_WAIT_PRIVATE, val, 0);
}

static inline long ck_futex_wake(int *addr)
{
	return ck_sys3(CK_NR_futex, addr, CK_FUTEX_WAKE_PRIVATE, 0x7fffffff);
}

static inline int ck_gettid(void)
{
	return (int)ck_sys0(CK_NR_gettid);
}

#endif
