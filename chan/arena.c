/*
 * arena.c - first-fit allocator for payload blocks in the channel arena.
 *
 * The free ranges form a singly linked list in address order; a freed block
 * is merged with the ranges on either side, so the list never holds two
 * touching ranges.  Live blocks are not recorded at all: the caller gives
 * the size back on free, as it must know it anyway to name the payload.
 *
 * The shim's usual pattern is one or two blocks at a time, freed in LIFO or
 * FIFO order.  Blocks are cut from the front of the first range that fits,
 * so in that pattern the list is the single range above the live blocks
 * (plus at most a hole below them) and both operations stop at the first
 * node.
 *
 * List nodes are malloc'ed in the caller's process, never in the shared
 * mapping, and recycled through a->pool.  Free ranges are separated by live
 * blocks, so there are at most live + 1 of them: arena_alloc keeps
 * a->nodes >= a->live + 1 by reserving a node before it hands a block out,
 * which lets arena_free take nodes from the pool and never fail.
 */
#include "chan/arena.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

struct arena_block {
	uint64_t off;             /* start of the free range */
	uint64_t len;             /* its length, a multiple of ARENA_ALIGN */
	struct arena_block *next; /* next free range, at a higher address */
};

/* Space a request really takes; n must not exceed the arena size. */
static uint64_t block_len(uint64_t n)
{
	if (n == 0)
		return ARENA_ALIGN;
	return (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
}

static void pool_put(struct arena *a, struct arena_block *b)
{
	b->next = a->pool;
	a->pool = b;
}

static struct arena_block *pool_take(struct arena *a)
{
	struct arena_block *b = a->pool;

	assert(b != NULL); /* guaranteed by reserve_node */
	a->pool = b->next;
	return b;
}

/* Keep one node for every range the free list may come to hold. */
static int reserve_node(struct arena *a)
{
	if (a->nodes >= a->live + 2)
		return 0;
	struct arena_block *b = malloc(sizeof(*b));
	if (b == NULL) {
		dm_err("cannot allocate arena bookkeeping (%llu live blocks): "
		       "out of memory", (unsigned long long)a->live);
		return -1;
	}
	pool_put(a, b);
	a->nodes++;
	return 0;
}

int arena_init(struct arena *a, uint64_t size)
{
	memset(a, 0, sizeof(*a));
	a->size = size / ARENA_ALIGN * ARENA_ALIGN;
	if (a->size == 0)
		return 0;
	a->free = malloc(sizeof(*a->free));
	if (a->free == NULL) {
		dm_err("cannot allocate arena bookkeeping (%llu bytes): "
		       "out of memory", (unsigned long long)a->size);
		return -1;
	}
	a->free->off = 0;
	a->free->len = a->size;
	a->free->next = NULL;
	a->nodes = 1;
	return 0;
}

static void free_list(struct arena_block *b)
{
	while (b != NULL) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
}

void arena_fini(struct arena *a)
{
	free_list(a->free);
	free_list(a->pool);
	memset(a, 0, sizeof(*a));
}

uint64_t arena_alloc(struct arena *a, uint64_t n)
{
	if (n > a->size)
		return ARENA_NONE;
	uint64_t len = block_len(n);
	struct arena_block **link = &a->free;
	struct arena_block *b = a->free;

	while (b != NULL && b->len < len) {
		link = &b->next;
		b = b->next;
	}
	if (b == NULL || reserve_node(a) < 0)
		return ARENA_NONE;
	uint64_t off = b->off;
	b->off += len;
	b->len -= len;
	if (b->len == 0) {
		*link = b->next;
		pool_put(a, b);
	}
	a->used += len;
	a->live++;
	return off;
}

void arena_free(struct arena *a, uint64_t off, uint64_t n)
{
	uint64_t len = block_len(n);
	struct arena_block *prev = NULL;
	struct arena_block *next = a->free;

	assert(off % ARENA_ALIGN == 0 && off < a->size && len <= a->size - off);
	assert(a->live > 0 && a->used >= len);
	while (next != NULL && next->off < off) {
		prev = next;
		next = next->next;
	}
	/* Overlap with a free range means a double or a wrong-size free. */
	assert(prev == NULL || prev->off + prev->len <= off);
	assert(next == NULL || off + len <= next->off);

	bool join_prev = prev != NULL && prev->off + prev->len == off;
	bool join_next = next != NULL && off + len == next->off;

	if (join_prev && join_next) {
		prev->len += len + next->len;
		prev->next = next->next;
		pool_put(a, next);
	} else if (join_prev) {
		prev->len += len;
	} else if (join_next) {
		next->off = off;
		next->len += len;
	} else {
		struct arena_block *b = pool_take(a);
		b->off = off;
		b->len = len;
		b->next = next;
		if (prev != NULL)
			prev->next = b;
		else
			a->free = b;
	}
	a->used -= len;
	a->live--;
}

uint64_t arena_largest(const struct arena *a)
{
	uint64_t best = 0;

	for (const struct arena_block *b = a->free; b != NULL; b = b->next)
		if (b->len > best)
			best = b->len;
	return best;
}

void arena_each_used(const struct arena *a,
		     void (*fn)(uint64_t off, uint64_t len, void *arg), void *arg)
{
	uint64_t at = 0;

	/* Used space is what lies between the free ranges. */
	for (const struct arena_block *b = a->free; b; b = b->next) {
		if (b->off > at)
			fn(at, b->off - at, arg);
		at = b->off + b->len;
	}
	if (a->size > at)
		fn(at, a->size - at, arg);
}

void arena_each_free(const struct arena *a,
		     void (*fn)(uint64_t off, uint64_t len, void *arg), void *arg)
{
	for (const struct arena_block *b = a->free; b; b = b->next)
		fn(b->off, b->len, arg);
}
