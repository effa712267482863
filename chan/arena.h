/*
 * arena.h - allocator for payload blocks inside the channel arena.
 *
 * Only the application side allocates and frees; the proxy only reads and
 * writes the blocks whose offsets a call names.  Bookkeeping lives in the
 * caller's memory (so it is part of an application checkpoint), never in
 * the shared mapping.  Blocks are 64-byte aligned so MPI sees aligned
 * buffers and two blocks never share a cache line.
 */
#ifndef CHAN_ARENA_H
#define CHAN_ARENA_H

#include <stddef.h>
#include <stdint.h>

#define ARENA_ALIGN 64u
#define ARENA_NONE UINT64_MAX

struct arena_block; /* private */

struct arena {
	uint64_t size;              /* bytes managed */
	uint64_t used;              /* bytes in live blocks (aligned sizes) */
	struct arena_block *free;   /* free list, address ordered */
	struct arena_block *pool;   /* recycled list nodes */
	uint64_t live;              /* blocks handed out, not yet freed */
	uint64_t nodes;             /* list nodes owned: free list + pool */
};

/* Manage [0, size) (size rounded down to ARENA_ALIGN; a->size is the
 * result).  Returns 0 or -1 (out of memory, error printed). */
int arena_init(struct arena *a, uint64_t size);
void arena_fini(struct arena *a);

/* Offset of a new block of n bytes (n == 0 gives a valid, distinct
 * block), or ARENA_NONE when no free range is large enough (or, with an
 * error printed, when bookkeeping memory ran out). */
uint64_t arena_alloc(struct arena *a, uint64_t n);

/* Return a block; off must come from arena_alloc on a with the same n,
 * and not be freed twice.  Neighbouring free ranges are merged.  Never
 * allocates, so it cannot fail: arena_alloc reserves the node a free may
 * need. */
void arena_free(struct arena *a, uint64_t off, uint64_t n);

/* Largest block arena_alloc could return now. */
uint64_t arena_largest(const struct arena *a);

/* Call fn for every maximal range of used bytes, in address order (a
 * checkpoint keeps their contents: the arena is not in the image). */
void arena_each_used(const struct arena *a,
		     void (*fn)(uint64_t off, uint64_t len, void *arg), void *arg);

/* The same for every free range (the shim gives their pages back). */
void arena_each_free(const struct arena *a,
		     void (*fn)(uint64_t off, uint64_t len, void *arg), void *arg);

#endif
