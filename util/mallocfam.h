/*
 * mallocfam.h - the members of a malloc family that follow from its
 * core, for the two families that stand in for glibc's (shim/malloc.c,
 * ckpt/alloc.c).
 */
#ifndef UTIL_MALLOCFAM_H
#define UTIL_MALLOCFAM_H

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

/* reallocarray: ENOMEM when a * b overflows.  Ours must exist: glibc's
 * calls __libc_realloc directly, which would not know our blocks. */
static inline void *reallocarray_by(void *(*realloc_fn)(void *, size_t), void *p,
				    size_t a, size_t b)
{
	size_t n;

	if (__builtin_mul_overflow(a, b, &n)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc_fn(p, n);
}

#endif
