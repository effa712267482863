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
 *
 * Typed buffers (shim_stage_send/recv) keep the application's layout in
 * the arena, so the real MPI gets the real datatype and a pointer such
 * that every displacement lands where it would in the application.  A
 * send copies its whole span at once (holes included: one memcpy beats
 * walking small blocks) unless the holes are most of it; a receive copies
 * back only the typemap's bytes, so holes in the application's buffer
 * keep whatever it had there.  A long double is 16 bytes of typemap but
 * the real MPI may move only its 10 (MPICH packs it with x87 stores), so
 * receive images of such types start as the application's bytes.
 *
 * A sparse type, whose holes are most of its span (a column of a matrix),
 * is packed instead: an image of a 2048-double column of a 2048 x 2048
 * matrix spans 32 MiB, one double per page, and the real MPI would walk
 * those pages again after our copy (measured: 4 columns in 170 us under
 * Open MPI, against 45 us native).  Packed, only our gather or scatter
 * walks the stride, and the real MPI moves contiguous MPI_PACKED bytes;
 * the standard lets a message sent with any type be received as
 * MPI_PACKED and the reverse, and the status holds bytes either way.
 *
 * A buffer inside an MPI_Alloc_mem block (shim/mem.c) is already in the
 * arena: it is borrowed instead of staged, with no copy and no packing,
 * so the real MPI walks the real layout once, as it would natively.  A
 * span only partly inside one block is staged as usual, and so is a send
 * whose caller reuses the buffer before it completes (SHIM_STAGE_COPY).
 */
#include "shim.h"

#include <limits.h>
#include <string.h>

#include "util/log.h"

int shim_stage_alloc(struct shim_stage *s, uint64_t len, const char *fn)
{
	if (shim_stage_alloc_fit(s, len, len) == MPI_SUCCESS)
		return MPI_SUCCESS;
	dm_err("%s: %llu bytes do not fit in the channel arena (%llu MiB, "
	       "%llu bytes free in one piece): raise DMTCP_MPI_ARENA_MB or "
	       "complete pending requests",
	       fn, (unsigned long long)len,
	       (unsigned long long)(shim.arena.size >> 20),
	       (unsigned long long)s->len);
	return MPI_ERR_NO_MEM;
}

int shim_stage_alloc_fit(struct shim_stage *s, uint64_t len, uint64_t min)
{
	s->len = len;
	s->packed = 0;
	shim_arena_lock();
	s->off = arena_alloc(&shim.arena, len);
	if (s->off == ARENA_NONE) {
		/* arena_alloc can hand out the largest piece whole; when even
		 * len fits in it, the failure was bookkeeping memory. */
		s->len = arena_largest(&shim.arena);
		if (s->len >= min && s->len < len)
			s->off = arena_alloc(&shim.arena, s->len);
	}
	shim_arena_unlock();
	return s->off != ARENA_NONE ? MPI_SUCCESS : MPI_ERR_NO_MEM;
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

void shim_stage_release(struct shim_stage *s)
{
	shim_arena_lock();
	arena_free(&shim.arena, s->off / ARENA_ALIGN * ARENA_ALIGN, s->len);
	shim_arena_unlock();
	s->off = ARENA_NONE;
}

/* ---- typed buffers ---- */

DM_HOT int shim_type_span(const struct shim_type *t, int64_t count, int64_t *lo, int64_t *hi)
{
	int64_t ext, len;

	*lo = *hi = 0;
	if (count == 0 || t->size == 0)
		return MPI_SUCCESS;
	if (t->contig) {
		*lo = t->blocks[0].off;
		return __builtin_mul_overflow(count, t->size, &len) ||
		       __builtin_add_overflow(*lo, len, hi) ? MPI_ERR_NO_MEM : MPI_SUCCESS;
	}
	if (__builtin_mul_overflow(count - 1, t->extent, &ext))
		return MPI_ERR_NO_MEM;
	*lo = t->true_lb + (ext < 0 ? ext : 0);
	*hi = t->true_lb + t->true_extent + (ext > 0 ? ext : 0);
	return MPI_SUCCESS;
}

/* Reserve the image of buf's bytes [lo, hi) at the same offset within a
 * cache line, and the base that maps buf's byte d to base + d.  A base
 * equal to a sentinel moves the image by half a line (alignment up to 32
 * bytes is kept, which is all any basic type needs). */
static int stage_span(const void *buf, int64_t lo, int64_t hi, struct shim_stage *s,
		      int64_t *base, const char *fn)
{
	uintptr_t at = (uintptr_t)buf + (uintptr_t)lo;
	int err = shim_stage_alloc_like(s, (uint64_t)(hi - lo), (const void *)at, fn);

	if (err)
		return err;
	*base = (int64_t)s->off - lo;
	if (*base != CHAN_OFF_NONE && *base != CHAN_OFF_IN_PLACE)
		return MPI_SUCCESS;
	shim_stage_free(s);
	if ((err = shim_stage_alloc_like(s, (uint64_t)(hi - lo), (const void *)(at + 32), fn)))
		return err;
	*base = (int64_t)s->off - lo;
	return MPI_SUCCESS;
}

/* Where byte 0 of a staged buffer would be: an address only, it may lie
 * outside the arena (integer arithmetic, so nothing assumes otherwise). */
static void *image0(int64_t base)
{
	return (void *)((uintptr_t)shim.ch.arena + (uintptr_t)base);
}

static int span_error(const char *fn, int64_t count, const struct shim_type *t)
{
	dm_err("%s: %lld elements of a datatype with extent %lld span more than the "
	       "address space", fn, (long long)count, (long long)t->extent);
	return MPI_ERR_NO_MEM;
}

/* Holes are most of the span: packing beats copying the span whole. */
static int sparse(const struct shim_type *t, int64_t count, int64_t lo, int64_t hi)
{
	return !t->contig && hi - lo > 2 * count * t->size + 4096;
}

/* A packed block for count elements of t (count * size bytes, which a
 * sparse span bounds; the wire count is an int). */
static int stage_packed(const struct shim_type *t, int64_t count, struct shim_stage *s,
			int64_t *base, const char *fn)
{
	int err = shim_stage_alloc(s, (uint64_t)(count * t->size), fn);

	if (err)
		return err;
	s->packed = 1;
	*base = (int64_t)s->off;
	return MPI_SUCCESS;
}

static int packable(const struct shim_type *t, int64_t count, int64_t lo, int64_t hi)
{
	return sparse(t, count, lo, hi) && !t->prefill && count * t->size <= INT_MAX;
}

/* Use buf's span [lo, hi) where it is, if one Alloc_mem block holds it;
 * 1 if so.  Never when its base would read as a sentinel. */
static int stage_borrow(const void *buf, int64_t lo, int64_t hi, struct shim_stage *s,
			int64_t *base)
{
	int64_t b = (int64_t)((uintptr_t)buf - (uintptr_t)shim.ch.arena);

	if (!shim_mem_in_arena((const void *)((uintptr_t)buf + (uintptr_t)lo),
			       (uint64_t)(hi - lo)) ||
	    b == CHAN_OFF_NONE || b == CHAN_OFF_IN_PLACE)
		return 0;
	s->off = ARENA_NONE;
	s->len = 0;
	s->packed = 0;
	*base = b;
	return 1;
}

DM_HOT int shim_stage_send(const void *buf, int64_t count, const struct shim_type *t,
		    enum shim_stage_how how, struct shim_stage *s, int64_t *base,
		    const char *fn)
{
	int64_t lo, hi;
	int err;

	if (shim_type_span(t, count, &lo, &hi))
		return span_error(fn, count, t);
	if (how == SHIM_STAGE_BORROW && stage_borrow(buf, lo, hi, s, base))
		return MPI_SUCCESS;
	if (packable(t, count, lo, hi)) {
		if ((err = stage_packed(t, count, s, base, fn)))
			return err;
		shim_type_pack_raw(t, count, buf, shim_stage_ptr(s));
		return MPI_SUCCESS;
	}
	if ((err = stage_span(buf, lo, hi, s, base, fn)))
		return err;
	/* Holes are copied too, in one memcpy, unless they dominate. */
	if (!sparse(t, count, lo, hi))
		memcpy(shim_stage_ptr(s), (const void *)((uintptr_t)buf + (uintptr_t)lo),
		       (size_t)(hi - lo));
	else
		shim_type_copy_in(t, count, buf, image0(*base));
	return MPI_SUCCESS;
}

DM_HOT int shim_stage_recv(const void *buf, int64_t count, const struct shim_type *t,
		    struct shim_stage *s, int64_t *base, const char *fn)
{
	int64_t lo, hi;

	if (shim_type_span(t, count, &lo, &hi))
		return span_error(fn, count, t);
	if (stage_borrow(buf, lo, hi, s, base))
		return MPI_SUCCESS;
	if (t->prefill)
		return shim_stage_send(buf, count, t, SHIM_STAGE_COPY, s, base, fn);
	if (packable(t, count, lo, hi))
		return stage_packed(t, count, s, base, fn);
	return stage_span(buf, lo, hi, s, base, fn);
}

DM_HOT void shim_stage_wire(const struct shim_stage *s, const struct shim_type *t, int64_t *count,
		     MPI_Datatype *type)
{
	if (!s->packed)
		return;
	*count *= t->size;
	*type = MPI_PACKED;
}

DM_HOT void shim_stage_unload_typed(void *buf, int64_t count, const struct shim_type *t,
			     int64_t base, int packed, const struct chan_status *st)
{
	int64_t got;

	memcpy(&got, &st->internal[0], sizeof(got));
	/* Borrowed: the real MPI wrote into buf itself. */
	if (got <= 0 || (!packed && image0(base) == buf))
		return;
	if (packed) {
		shim_type_unpack_raw(t, count, image0(base), buf, got);
		return;
	}
	if (!t->contig) {
		shim_type_copy_out(t, count, buf, image0(base), got);
		return;
	}
	int64_t cap = count * t->size, off = t->blocks[0].off;
	memcpy((void *)((uintptr_t)buf + (uintptr_t)off), chan_arena_ptr(&shim.ch,
	       (uint64_t)(base + off)), (size_t)(got < cap ? got : cap));
}
