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

/* Build the plan for image im (already checked); image_fd and pipe_fd
 * (-1: none) are the restorer's data sources.  0, or -1 with one error
 * line printed. */
int ck_plan_build(const struct ck_img *im, int image_fd, int pipe_fd,
		  struct ck_plan_out *out);

/* Start the decompressor for the image's zstd sections; returns the
 * read end of its pipe (-1 on error, one line printed). */
int ck_feed_start(const struct ck_img *im, int nthreads);

/* Print what the image holds. */
void ck_info_print(const struct ck_img *im, const char *path);

#endif
