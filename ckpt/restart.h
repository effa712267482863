/*
 * restart.h - the parts of dmtcp_mpi_restart (the restart front end):
 * restart.c (command line, checks, exec), plan.c (where things go, the
 * plan for the restorer), feed.c (the decompressor process), info.c
 * (--info).
 */
#ifndef CK_RESTART_H
#define CK_RESTART_H

#include "ckpt/image.h"

#include <stddef.h>
#include <stdint.h>

/* The restorer ELF, embedded by restorer_blob.S. */
extern const uint8_t ck_restorer_elf[];
extern const uint8_t ck_restorer_elf_end[];

struct ck_plan_out {
	int plan_fd;              /* memfd holding the plan */
	uint64_t plan_base, plan_size;
	int elf_fd;               /* memfd holding the relocated restorer */
	int exact_brk;
};

/* The decompressor, as the restorer sees it. */
struct ck_feed {
	int data_fd;              /* status byte, then any streamed data */
	int go_fd;                /* one byte: regions are mapped */
	int pid;
};

/* Build the plan for image im (already checked); image_fd and the
 * decompressor (f->data_fd -1: none) are the restorer's data sources.
 * 0, or -1 with one error line printed. */
int ck_plan_build(const struct ck_img *im, int image_fd,
		  const struct ck_feed *f, struct ck_plan_out *out);

/* Start the decompressor for the image's zstd sections, to fill the
 * memory of process target.  0, or -1 (one line printed). */
int ck_feed_start(const struct ck_img *im, int nthreads, int target,
		  struct ck_feed *f);

/* Print what the image holds. */
void ck_info_print(const struct ck_img *im, const char *path);

#endif
