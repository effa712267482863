/*
 * malloc.c - the process's malloc family, over shim/heap.c.
 *
 * glibc lets a program replace malloc by defining these functions (its
 * manual lists malloc, free, calloc, realloc and, for a full replacement,
 * aligned_alloc, malloc_usable_size, memalign, posix_memalign, pvalloc,
 * valloc); libmpi_abi comes before libc in the lookup order, so these
 * are the application's.  When the checkpoint engine is preloaded its
 * wrappers (ckpt/alloc.c) come first and call shim/heap.c themselves;
 * only malloc_usable_size, which they do not wrap, arrives here then.
 *
 * Kept apart from heap.c so the sanitizer-built unit tests, whose
 * runtime owns malloc, can link the rest of the shim without it.
 */
#include "shim.h"

#include <malloc.h>
#include <stdlib.h>

#include "util/mallocfam.h"

void *malloc(size_t n)
{
	return shim_heap_malloc(n);
}

void free(void *p)
{
	shim_heap_free(p);
}

void *calloc(size_t a, size_t b)
{
	return shim_heap_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	return shim_heap_realloc(p, n);
}

void *reallocarray(void *p, size_t a, size_t b)
{
	return reallocarray_by(realloc, p, a, b);
}

void *memalign(size_t align, size_t n)
{
	return shim_heap_memalign(align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
	return memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	return posix_memalign_by(memalign, out, align, n);
}

void *valloc(size_t n)
{
	return memalign(4096, n);
}

void *pvalloc(size_t n)
{
	return memalign(4096, n ? (n + 4095) & ~(size_t)4095 : 4096);
}

size_t malloc_usable_size(void *p)
{
	return shim_heap_usable_size(p);
}
