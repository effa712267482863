/*
 * internal.h - what the engine's files share (not part of the interface:
 * ckpt.h is).  The engine's global state lives in the library's own
 * memory, so it is saved in every image and found again after restart.
 */
#ifndef CK_INTERNAL_H
#define CK_INTERNAL_H

#include "ckpt/ckpt.h"
#include "ckpt/image.h"
#include "ckpt/restore/plan.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

/* None of this is part of the library's interface. */
#pragma GCC visibility push(hidden)

#define CK_MAX_THREADS 1024
#define CK_MAX_HOOKS 8
#define CK_MAX_SKIP 64
#define CK_TID_OFFSET 720      /* offsetof(struct pthread, tid), glibc 2.36 */
#define CK_MAX_LIVES 32        /* old tids a thread remembers (mutexown.c) */

/* Callee-saved state of the checkpointing thread (System V x86_64 ABI). */
struct ck_ctx {
	uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
	uint32_t mxcsr;
	uint16_t fpucw;
	uint16_t pad;
};

/* Bump allocator over one big MAP_NORESERVE mapping made before the
 * address space is read, so the checkpoint never calls malloc and can
 * leave the whole arena out of the image by its range. */
struct ck_arena {
	char *base;
	size_t cap, used;
};
void *ck_arena_alloc(struct ck_arena *a, size_t size);

/* ctx.c: 0 when called, 1 when ck_ctx_jump resumes it (setjmp-like). */
int ck_ctx_save(struct ck_ctx *c) __attribute__((returns_twice));
void ck_ctx_jump(const struct ck_ctx *c) __attribute__((noreturn));
/* Return from a signal using the frame whose ucontext is at uc. */
void ck_sigreturn_to(void *uc) __attribute__((noreturn));
/* Start fn(arg) in a raw thread (no glibc thread, shares our TLS) on the
 * given stack top; the kernel clears *tid and wakes it at exit. */
long ck_clone_raw(unsigned long flags, void *stack_top, int *ptid, int *ctid,
		  unsigned long tls, void (*fn)(void *), void *arg);

enum ck_thread_state {
	CK_T_FREE = 0, CK_T_SIGNALED, CK_T_PARKED, CK_T_GONE, CK_T_SELF
};

/* One thread of the process during a checkpoint. */
struct ck_thread {
	int tid;
	int state;                /* enum ck_thread_state, atomic */
	int kind;                 /* enum ck_img_thread_kind */
	int gen;                  /* release generation it waits on */
	int bad_tid;              /* glibc's cached tid not where expected */
	int rseq_unknown;         /* rseq registered in a way we can't redo */
	uint64_t fs_base;
	void *uc;                 /* SIGFRAME: ucontext on its stack */
	uint64_t robust_head, robust_len;
	uint64_t rseq;
	uint32_t rseq_len;
	uint64_t pending;
	uint64_t sigmask;         /* CTX: its mask, restored after restart */
	char name[16];
};

struct ck_engine {
	int inited;
	int sig;                  /* thread-stop signal */
	int disabled;             /* unsupported platform: say why, refuse */
	char disabled_why[128];
	uint64_t main_stack_hi;   /* end of the main thread's stack region */
	struct ck_hooks hooks[CK_MAX_HOOKS];
	int nhooks;
	uint64_t skip[CK_MAX_SKIP][2];
	int nskip;
	uint64_t internal[2][2];  /* this checkpoint's own buffers: skipped */
	int fault_enospc;         /* DMTCP_MPI_FAULT names ckpt-enospc */
	int fault_kill;           /* ... ckpt-kill */
	int verbose;              /* DMTCP_MPI_CKPT_VERBOSE */
	int64_t stop_timeout_ns;  /* DMTCP_MPI_CKPT_STOP_TIMEOUT (s) */
	struct ck_stats last;     /* ck_last_stats */
};

extern struct ck_engine ck_eng;
extern struct ck_thread ck_threads[CK_MAX_THREADS];
extern int ck_nthreads;
extern int ck_release_gen;    /* futex: bumped to release parked threads */
extern int ck_arrived;        /* futex: threads arrived after restart */
extern struct ck_ctx ck_self_ctx;
extern struct ck_restart_info ck_rinfo;

/* init.c */
int64_t ck_now_ns(void);

/* alloc.c: inside malloc & co.?  If so, the stop is deferred to the
 * allocator's exit. */
int ck_alloc_busy(void);
/* Tell a registered allocator (ck_register_alloc) that other threads
 * are about to stop (1) or run again (0). */
void ck_alloc_world(int stopped);

/* mutexown.c: the calling thread had old_tid until this restart; a
 * recursive or error-checking mutex it owned then is its own again. */
void ck_tid_moved(int old_tid);
/* If m's owner is a tid the calling thread had in an earlier life, and
 * a tid owns m only by __owner (ck_mutex_owned_by_tid), make the owner
 * the caller's tid of today (the wrappers call it after a restart). */
void ck_mutex_adopt(pthread_mutex_t *m);
int ck_mutex_owned_by_tid(const pthread_mutex_t *m);
/* The same for the writer of a rwlock that is not process-shared. */
void ck_rwlock_adopt(pthread_rwlock_t *rw);

/* threads.c */
int ck_threads_stop(void);        /* 0, or -1 (one error line) */
void ck_threads_release(void);
/* Refuse threads we could not restore (one error line; -1). */
int ck_threads_check(void);
void ck_threads_save_self(struct ck_thread *t);
void ck_thread_wake(struct ck_thread *t) __attribute__((noreturn));
void ck_park_handler(int sig, siginfo_t *si, void *uc);

/* state.c: process state other than memory, into image records. */
struct ck_meta {
	struct ck_img_proc proc;
	struct ck_img_thread *threads;
	uint32_t nthreads;
	struct ck_img_fd *fds;
	uint32_t nfds, fds_cap;
	struct ck_img_region *regions;
	uint32_t nregions, regions_cap;
	char *strings;
	uint32_t strings_len, strings_cap;
};
uint32_t ck_meta_str(struct ck_meta *m, const char *s);
int ck_state_collect(struct ck_meta *m);

/* write.c */
struct ck_write_result {
	uint64_t mem_bytes, image_bytes;
};
int ck_write_image(const struct ck_opts *o, struct ck_meta *m,
		   struct ck_arena *a, const char *path, const char *tmp,
		   int forked, struct ck_write_result *res);

#pragma GCC visibility pop

#endif
