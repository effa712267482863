/*
 * stage.c - payload blocks in the channel arena.
 *
 * A message buffer crosses to the proxy by one memcpy into an arena block
 * (send side) or out of it (receive side): the one extra copy the design
 * allows.  Blocks of nonblocking calls live until their request completes.
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

void shim_stage_free(struct shim_stage *s)
{
	if (s->off == ARENA_NONE)
		return;
	arena_free(&shim.arena, s->off, s->len);
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
