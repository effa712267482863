/*
 * plan.h - the restore plan: what dmtcp_mpi_restart (ckpt/restart.c)
 * hands to the libc-free restorer (ckpt/restore/restorer.c).
 *
 * The front end does every decision that needs a real C library and
 * checks everything it can before the point of no return: it validates
 * the image, chooses where the restorer, the plan and a scratch spot go
 * (free in both the image's address space and the restorer's), and
 * lists regions, page extents, threads and fds as flat arrays.  The
 * restorer only carries the list out with raw system calls.
 *
 * The plan is one memfd, mapped by the restorer at plan->base; offsets
 * below are from that base.
 */
#ifndef CKR_PLAN_H
#define CKR_PLAN_H

#include "ckpt/image.h"

#include <stdint.h>

#define CKR_PLAN_MAGIC 0x314e414c50524b43ULL   /* "CKRPLAN1" */
#define CKR_STACK_SIZE (256u << 10)
#define CKR_SCRATCH_SIZE (256u << 10)

/* vdso, vvar, vvar_vclock: moved from wherever the kernel put them in
 * the restorer to where the image had them. */
struct ckr_special {
	char name[16];            /* as in /proc/self/maps */
	uint64_t saved_lo, saved_hi;   /* 0, 0 if the image had none */
};

struct ckr_region {
	uint64_t start, end;
	uint32_t prot;            /* final protection */
	uint32_t kind;            /* enum ck_img_region_kind */
	uint32_t flags;           /* CK_REG_F_* */
	uint32_t in_brk;          /* part of the program break: no mmap */
	uint64_t file_offset;     /* SHARED_FILE */
	uint32_t path;            /* strings offset (SHARED_FILE) */
	uint32_t pad;
};

/* One DATA section: raw ones are read from the image at file_off.
 * Compressed ones are decoded by the decompressor process, which writes
 * them straight into our memory (process_vm_writev) once we say the
 * regions are mapped, then sends 'D'; where that is not allowed it sends
 * 'S' and streams them, in order, through the pipe. */
struct ckr_chunk {
	uint64_t file_off;
	uint64_t raw;
	uint32_t from_pipe;
	uint32_t ext_first, ext_count;
	uint32_t pad;
};

struct ckr_plan {
	uint64_t magic;
	uint64_t size;                 /* bytes mapped at base */
	uint64_t base;
	uint64_t self_lo, self_hi;     /* the restorer's own pages */
	uint64_t stack_top;            /* absolute address */
	uint64_t scratch, scratch_len; /* absolute; for /proc/self/maps */
	uint64_t tmp_lo, tmp_hi;       /* free spot for moving specials */
	struct ckr_special special[3];
	uint64_t start_brk, brk;
	uint32_t exact_brk;            /* restore the break with brk() */
	uint32_t personality;
	uint32_t umask;
	uint32_t cwd;                  /* strings offset */
	int32_t image_fd;
	int32_t pipe_fd, go_fd;        /* decompressor; -1: none */
	int32_t feeder_pid;
	int32_t pad;
	uint32_t nregions, nchunks, nextents, nfds, nthreads, leader;
	uint64_t regions, chunks, extents, fds, threads, strings;  /* offsets */
	uint64_t strings_len;
	uint64_t env, env_len;         /* offset: "K=V\0...\0", the
					  restart's DMTCP_MPI_* variables */
	uint64_t wake_fn;              /* ck_thread_wake in the image */
	uint64_t restart_info;         /* struct ck_restart_info * */
	struct ck_img_sigaction sig[CK_IMG_NSIG];
};

/* Filled in by the restorer in the restored library's memory (at
 * plan->restart_info), read by the restarted process. */
struct ck_restart_info {
	uint64_t unmap[2][2];     /* restorer and plan ranges to drop */
	uint64_t env;             /* the plan's env block (in unmap[1]) */
	int32_t nthreads;         /* threads the restorer started */
	int32_t pad;
};

/* The restorer's command line: argv[1] plan fd, argv[2] plan address
 * (hex), argv[3] plan size (decimal), and argv[4], the path of its file
 * when it was not started from a memfd (it removes that file). */

#endif
