/*
 * test_heap.c - unit tests of the shared heap (shim/heap.c, shim/malloc.c).
 *
 * This binary's malloc is the shim's (it links shim/malloc.c, so it is
 * built without the sanitizers, whose runtime owns malloc).  A channel
 * of 64 MiB is created and attached as MPI_Init would, with no proxy:
 * then requests from SHIM_HEAP_MIN bytes up must lie in the arena, where
 * shim_mem_in_arena (what staging asks before borrowing a buffer in
 * place) finds them, and smaller ones must not.  Also: nothing from the
 * arena before the attach, calloc zeroes a reused range, realloc keeps
 * contents across kinds and sizes, a block shrunk or freed is not
 * found in place any more (shim_mem_in_arena remembers the last one),
 * alignment of memalign & co., freed
 * blocks go back to the arena and their pages, beyond a bound, to the
 * system, the half-arena budget falls back to
 * glibc, frees while the engine has threads stopped wait until they run
 * (this binary plays the engine: it defines ck_register_alloc), and a
 * fork()ed child's writes do not reach the parent.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ckpt/ckpt.h"
#include "shim/shim.h"

enum { ARENA = 64 << 20, BIG = SHIM_HEAP_MIN };

static const struct ck_alloc_ops *engine_ops;

/* Found by shim_heap_attach through dlsym (the binary is linked
 * -rdynamic), as the engine's would be. */
int ck_register_alloc(const struct ck_alloc_ops *ops)
{
	engine_ops = ops;
	return 0;
}

static int in_arena(const void *p)
{
	uintptr_t a = (uintptr_t)p, s = (uintptr_t)shim.ch.arena;

	return a >= s && a < s + shim.arena.size;
}

static void attach(void)
{
	int fd = chan_create(ARENA);

	assert_true(fd >= 0);
	assert_int_equal(chan_attach(&shim.ch, fd), 0);
	assert_int_equal(arena_init(&shim.arena, shim.ch.hdr->arena_size), 0);
	shim.attached = 1;
	shim_heap_attach();
}

static void test_before_attach(void **state)
{
	(void)state;
	void *p = malloc(4 * BIG);

	assert_non_null(p);
	attach();
	assert_false(in_arena(p));
	free(p); /* glibc's block, freed after the attach */
	assert_non_null(engine_ops);
}

static void test_threshold(void **state)
{
	(void)state;
	char *small = malloc(BIG - 1), *big = malloc(BIG);

	assert_false(in_arena(small));
	assert_true(in_arena(big));
	assert_int_equal((uintptr_t)big % ARENA_ALIGN, 0);
	/* What staging asks: the whole block, and a span inside it. */
	assert_true(shim_mem_in_arena(big, BIG));
	assert_true(shim_mem_in_arena(big + 100, BIG - 100));
	assert_false(shim_mem_in_arena(big + 100, BIG));
	assert_false(shim_mem_in_arena(small, 10));
	assert_true(malloc_usable_size(big) >= BIG);
	assert_true(malloc_usable_size(small) >= BIG - 1);
	size_t n = shim_heap_count();
	free(small);
	free(big);
	assert_int_equal(shim_heap_count(), n - 1);
}

static void test_free_returns(void **state)
{
	(void)state;
	uint64_t used = shim.arena.used;
	size_t n = shim_heap_count();
	void *p[8];

	for (int i = 0; i < 8; i++) {
		p[i] = malloc(BIG * (size_t)(i + 1));
		assert_true(in_arena(p[i]));
		memset(p[i], i, BIG);
	}
	assert_int_equal(shim_heap_count(), n + 8);
	for (int i = 0; i < 8; i += 2)
		free(p[i]);
	for (int i = 1; i < 8; i += 2)
		free(p[i]);
	assert_int_equal(shim.arena.used, used);
	assert_int_equal(shim_heap_count(), n);
}

static long long shmem_blocks(void)
{
	struct stat st;

	assert_int_equal(fstat(shim.ch.fd, &st), 0);
	return (long long)st.st_blocks;
}

/* Freed blocks keep their pages up to a sixteenth of the arena (so a
 * malloc/free loop faults nothing in); beyond, the free pages leave the
 * memfd: neither a loop nor large blocks grow it for good. */
static void test_free_gives_back(void **state)
{
	(void)state;
	long long keep = (long long)(shim.arena.size / 16 / 512), before = shmem_blocks();
	char *p[3];

	for (int i = 0; i < 20; i++) {
		char *q = malloc(2 << 20);
		memset(q, i, 2 << 20);
		free(q);
	}
	assert_true(shmem_blocks() <= before + keep);
	for (int i = 0; i < 3; i++) {
		p[i] = malloc(8 << 20);
		assert_true(in_arena(p[i]));
		memset(p[i], i, 8 << 20);
	}
	assert_true(shmem_blocks() >= before + 3 * (8 << 20) / 512 - keep);
	for (int i = 0; i < 3; i++)
		free(p[i]);
	assert_true(shmem_blocks() <= before + keep);
}

static void test_calloc_zeroes(void **state)
{
	(void)state;
	unsigned char *p = malloc(2 * BIG);

	memset(p, 0xff, 2 * BIG);
	free(p);
	/* Staging blocks are not punched: dirty a range the same way. */
	struct shim_stage s;
	assert_int_equal(shim_stage_alloc(&s, 2 * BIG, "test"), MPI_SUCCESS);
	memset(shim_stage_ptr(&s), 0xee, 2 * BIG);
	shim_stage_free(&s);
	unsigned char *q = calloc(2, BIG);
	assert_true(in_arena(q));
	for (size_t i = 0; i < 2 * BIG; i++)
		if (q[i])
			fail_msg("calloc: byte %zu is %d", i, q[i]);
	free(q);
	volatile size_t huge = SIZE_MAX / 2;
	errno = 0;
	assert_null(calloc(huge, 4));
	assert_int_equal(errno, ENOMEM);
}

static void fill(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 131 + 7);
}

static void check(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(i * 131 + 7))
			fail_msg("byte %zu lost", i);
}

static void test_realloc_kinds(void **state)
{
	(void)state;
	unsigned char *p = malloc(1000);

	fill(p, 1000);
	p = realloc(p, 3 * BIG); /* glibc -> arena */
	assert_true(in_arena(p));
	check(p, 1000);
	fill(p, 3 * BIG);
	p = realloc(p, 2 * BIG); /* shrinks in place */
	assert_true(in_arena(p));
	check(p, 2 * BIG);
	p = realloc(p, 8 * BIG); /* arena -> arena */
	assert_true(in_arena(p));
	check(p, 2 * BIG);
	p = realloc(p, 500); /* arena -> glibc */
	assert_false(in_arena(p));
	check(p, 500);
	p = reallocarray(p, 4, BIG);
	assert_true(in_arena(p));
	check(p, 500);
	assert_null(realloc(p, 0));
}

/* shim_mem_in_arena remembers the last block it found (shim/mem.c): one
 * shrunk in place or freed since must not be found from that memory. */
static void test_found_block_forgotten(void **state)
{
	(void)state;
	unsigned char *p = malloc(4 * BIG);
	uintptr_t at = (uintptr_t)p;

	assert_true(in_arena(p));
	assert_true(shim_mem_in_arena(p + 8, 3 * BIG)); /* found, remembered */
	p = realloc(p, 2 * BIG);                        /* shrinks in place */
	assert_int_equal((uintptr_t)p, at);
	assert_false(shim_mem_in_arena(p + 8, 3 * BIG));
	assert_true(shim_mem_in_arena(p + 8, BIG));
	free(p);
	assert_false(shim_mem_in_arena((const void *)(at + 8), 8));
}

static void test_alignment(void **state)
{
	(void)state;
	void *p = NULL;

	assert_int_equal(posix_memalign(&p, 256, BIG), 0);
	assert_true(in_arena(p));
	assert_int_equal((uintptr_t)p % 256, 0);
	memset(p, 1, BIG);
	free(p);
	p = memalign(4096, 3 * BIG);
	assert_true(in_arena(p));
	assert_int_equal((uintptr_t)p % 4096, 0);
	memset(p, 1, 3 * BIG);
	free(p);
	p = aligned_alloc(16, BIG);
	assert_true(in_arena(p));
	free(p);
	p = valloc(BIG);
	assert_int_equal((uintptr_t)p % 4096, 0);
	free(p);
	p = pvalloc(BIG + 1);
	assert_int_equal((uintptr_t)p % 4096, 0);
	assert_true(malloc_usable_size(p) >= BIG + 4096);
	free(p);
	assert_int_equal(posix_memalign(&p, 24, BIG), EINVAL);
	/* Beyond a page: glibc's. */
	p = memalign(1 << 16, BIG);
	assert_false(in_arena(p));
	assert_int_equal((uintptr_t)p % (1 << 16), 0);
	free(p);
}

static void test_budget(void **state)
{
	(void)state;
	/* Half the arena at most; then glibc's, still usable. */
	void *a = malloc(ARENA / 2 - 4 * BIG), *b = malloc(8 * BIG);

	assert_true(in_arena(a));
	assert_false(in_arena(b));
	memset(b, 3, 8 * BIG);
	free(a);
	free(b);
}

static void test_stopped_world(void **state)
{
	(void)state;
	void *p = malloc(BIG);
	uint64_t used = shim.arena.used;

	assert_true(in_arena(p));
	engine_ops->world(1);
	void *q = engine_ops->malloc(BIG);
	assert_false(in_arena(q)); /* a stopped thread may hold the lock */
	engine_ops->free(p);
	assert_int_equal(shim.arena.used, used); /* deferred */
	engine_ops->free(q);
	engine_ops->world(0);
	void *r = malloc(BIG); /* does the deferred free first */
	assert_true(in_arena(r));
	free(r);
	assert_int_equal(shim.arena.used, used - BIG);
}

static _Atomic int allocators_done;

static void *allocate_loop(void *arg)
{
	(void)arg;
	for (int i = 0; i < 200000; i++) {
		char *p = malloc(BIG + (size_t)(i % 7) * 4096);
		if (!in_arena(p))
			fail_msg("not in arena");
		p[0] = 1;
		free(p);
	}
	allocators_done++;
	return NULL;
}

/* Below MPI_THREAD_MULTIPLE too: plain threads cut arena blocks while
 * the MPI thread stages payloads in the same arena. */
static void test_threads_vs_staging(void **state)
{
	(void)state;
	uint64_t used = shim.arena.used, live = shim.arena.live;
	pthread_t t[2];

	assert_int_not_equal(shim.thread_level, MPI_THREAD_MULTIPLE);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, allocate_loop, NULL), 0);
	for (int i = 0; allocators_done < 2; i++) {
		struct shim_stage s;
		assert_int_equal(shim_stage_alloc(&s, 1000 + (uint64_t)(i % 5) * 64, "test"),
				 MPI_SUCCESS);
		shim_stage_free(&s);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(shim.arena.used, used);
	assert_int_equal(shim.arena.live, live);
}

static void test_fork_private(void **state)
{
	(void)state;
	unsigned char *p = malloc(BIG);
	int status = 0;

	memset(p, 'a', BIG);
	pid_t pid = fork();
	if (pid == 0) {
		memset(p, 'b', BIG);
		int ok = p[BIG - 1] == 'b';
		free(p);
		void *q = malloc(BIG); /* the child makes no arena blocks */
		_exit(ok && !in_arena(q) ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (size_t i = 0; i < BIG; i++)
		if (p[i] != 'a')
			fail_msg("byte %zu written by the child", i);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_before_attach),
		cmocka_unit_test(test_threshold),
		cmocka_unit_test(test_free_returns),
		cmocka_unit_test(test_free_gives_back),
		cmocka_unit_test(test_calloc_zeroes),
		cmocka_unit_test(test_realloc_kinds),
		cmocka_unit_test(test_found_block_forgotten),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_stopped_world),
		cmocka_unit_test(test_threads_vs_staging),
		cmocka_unit_test(test_fork_private),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
