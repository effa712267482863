/*
 * grow.c - arrays that grow by doubling (see grow.h).
 *
 * Doubling keeps appending n elements at O(n) copies in all; the
 * overflow checks are here once so that no call site has to remember
 * them: before this file, a dozen copies of the idiom each multiplied
 * count by size unchecked.
 */
#include "util/grow.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* The capacity after growing from cap to hold need (> cap) elements:
 * exactly need once doubling would wrap the count itself. */
static size_t next_cap(size_t cap, size_t need)
{
	size_t c = cap ? cap : DM_GROW_FIRST;

	while (c < need) {
		if (c > SIZE_MAX / 2)
			return need;
		c *= 2;
	}
	return c;
}

int dm_grow_by(void *(*realloc_fn)(void *, size_t), void **p, size_t *cap,
	       size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t c = next_cap(*cap, need), bytes;

	if (__builtin_mul_overflow(c, elem, &bytes)) {
		errno = ENOMEM;
		return -1;
	}
	void *q = realloc_fn(*p, bytes);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

int dm_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	return dm_grow_by(realloc, p, cap, need, elem);
}
