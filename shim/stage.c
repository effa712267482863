/*
 * stage.c - payload blocks in the channel arena.
 *
 * A message buffer crosses to the proxy by one memcpy into an arena block
 * (send side) or out of it (receive side): the one extra copy the design
 * allows.  Blocks of nonblocking calls live until their request completes.
 *
 * A payload block starts at the same offset within a cache line as the
 * user's buffer (shim_stage_alloc_like).  glibc 2.36's memcpy on AMD Zen 3
 * moves 4-64 KiB with `rep movsb`, which runs 15-30 times slower when the
 * destination sits a few bytes past the source modulo 64 (measured here:
 * 64 KiB in 21.7 us instead of 1.3 us at +16 bytes).  Arena blocks are
 * 64-byte aligned and malloc'ed buffers usually 16 bytes past that, which
 * is exactly that case for every receive; same skew, same speed as a copy
 * between two aligned buffers.
 */
#include "shim.h"

#include <string.h>

#include "util/log.h"

int shim_stage_alloc(struct shim_stage *s, uint64_t len, const char *fn)
{
	s->len = len;
	s->off = arena_alloc(&shim.arena, len);
	if (s->off != ARENA_NONE)
		return MPI_SUCCESS;
	dm_err("%s: %llu bytes do not fit in the channel arena (%llu MiB, "
	       "%llu bytes free in one piece): raise DMTCP_MPI_ARENA_MB or "
	       "complete pending requests",
	       fn, (unsigned long long)len,
	       (unsigned long long)(shim.arena.size >> 20),
	       (unsigned long long)arena_largest(&shim.arena));
	return MPI_ERR_NO_MEM;
}

int shim_stage_alloc_like(struct shim_stage *s, uint64_t len, const void *buf,
			  const char *fn)
{
	uint64_t skew = (uintptr_t)buf % ARENA_ALIGN;
	int err = shim_stage_alloc(s, len + skew, fn);

	if (err == MPI_SUCCESS)
		s->off += skew;
	return err;
}

void shim_stage_free(struct shim_stage *s)
{
	if (s->off == ARENA_NONE)
		return;
	arena_free(&shim.arena, s->off / ARENA_ALIGN * ARENA_ALIGN, s->len);
	s->off = ARENA_NONE;
}

void shim_stage_unload(void *buf, size_t cap, const struct shim_stage *s,
		       const struct chan_status *st)
{
	int64_t got;

	memcpy(&got, &st->internal[0], sizeof(got));
	if (got > (int64_t)cap)
		got = (int64_t)cap; /* truncation: the proxy reported it */
	if (got > 0)
		memcpy(buf, shim_stage_ptr(s), (size_t)got);
}
