/*
 * alignalloc.h - posix_memalign over a memalign, for the two malloc
 * families that stand in for glibc's (shim/malloc.c, ckpt/alloc.c).
 */
#ifndef UTIL_ALIGNALLOC_H
#define UTIL_ALIGNALLOC_H

#include <errno.h>
#include <stddef.h>

/* posix_memalign's contract: EINVAL unless align is a power of two and a
 * multiple of sizeof(void *); the error is returned, errno is kept. */
static inline int posix_memalign_by(void *(*memalign_fn)(size_t, size_t), void **out,
				    size_t align, size_t n)
{
	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	int saved = errno;
	void *p = memalign_fn(align, n);
	if (!p) {
		int e = errno;
		errno = saved;
		return e ? e : ENOMEM;
	}
	*out = p;
	return 0;
}

#endif
