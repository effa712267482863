/*
 * grow.h - room for one more element in an array that grows by doubling:
 * the handle tables, keyval and error-code lists, request lists, byte
 * buffers of the shim, the proxy and the coordinator.
 *
 * One policy for all of them: an empty array starts with room for
 * DM_GROW_FIRST elements, a full one doubles until need fits, and a
 * capacity whose byte count overflows size_t is refused before any
 * allocator sees it.
 *
 * Hidden: each object that links util/grow.c (the shim, the proxy, the
 * coordinator) keeps its own copy, bound at link time.  The shim's
 * dynamic list (shim/interpose.list) exports every dm_* name, and a
 * preloaded object must not stand in for this one: it grows the arrays
 * with the shim's own realloc.
 */
#ifndef DM_GROW_H
#define DM_GROW_H

#include <stddef.h>

#define DM_GROW_FIRST 16

/* Make *p, an array of *cap elements of elem (> 0) bytes (NULL and 0 at
 * first), hold at least need elements: nothing when it already does,
 * else realloc to the doubled capacity and store the new pointer and
 * capacity.  0, or -1 with errno ENOMEM (the byte count overflows, or
 * realloc failed), *p and *cap untouched: the old array is still the
 * caller's, with its contents.  The new elements are not initialised. */
__attribute__((visibility("hidden")))
int dm_grow(void **p, size_t *cap, size_t need, size_t elem);

/* dm_grow with another realloc: the shim's heap table must not grow
 * through the malloc it implements (shim/heap.c), and tests fail it. */
__attribute__((visibility("hidden")))
int dm_grow_by(void *(*realloc_fn)(void *, size_t), void **p, size_t *cap,
	       size_t need, size_t elem);

#endif
