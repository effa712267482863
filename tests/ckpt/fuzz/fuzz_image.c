/*
 * fuzz_image.c - libFuzzer target for the image reader (make fuzz-image).
 *
 * Any input must be either accepted or rejected with a reason; the
 * reader must never read outside the input (ASan watches) or hit
 * undefined behaviour (UBSan).  An accepted image is also walked the way
 * --info and the restart planner walk it.
 */
#include "ckpt/image.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ck_img im;
	struct ck_img_err e;
	volatile uint64_t sink = 0;

	if (ck_img_open(&im, data, size, 1, &e) != 0) {
		/* a rejection always says where and why */
		if (!e.section[0] || !e.reason[0])
			__builtin_trap();
		return 0;
	}
	for (uint32_t i = 0; i < im.nregions; i++) {
		const char *p = ck_img_str(&im, im.regions[i].path);
		sink += p ? strlen(p) : 0;
	}
	for (uint32_t i = 0; i < im.nfds; i++) {
		const char *p = ck_img_str(&im, im.fds[i].path);
		sink += p ? strlen(p) : 0;
	}
	for (uint32_t k = 0; k < im.ndata; k++) {
		const struct ck_img_section *s = &im.sec[im.first_data + k];
		for (uint32_t j = 0; j < s->ext_count; j++)
			sink += im.extents[s->ext_first + j].len;
	}
	sink += strlen(ck_img_str(&im, im.proc->cwd));
	(void)sink;
	return 0;
}
