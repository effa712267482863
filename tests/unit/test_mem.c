/*
 * test_mem.c - unit tests of MPI_Alloc_mem memory used in place
 * (shim/mem.c, shim/stage.c, shim/coll.c's plan_borrow).
 *
 * A thread plays the proxy (fakepx.h) through its own mapping of the
 * channel.  A send from an Alloc_mem block must name the block itself
 * (arena + base is the user's buffer, no arena block taken, the proxy
 * reads the user's bytes there); a receive into one must see what the
 * proxy wrote through its mapping without any copy; a span only partly
 * in a block, a Sendrecv_replace's send and any send staged with
 * SHIM_STAGE_COPY must be staged elsewhere.
 * Free_mem rejects foreign pointers; blocks past half the arena come
 * from the heap; threads allocate and free concurrently.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chan/coll.h"
#include "fakepx.h"

#define ARENA (16u << 20)

/* What the fake proxy saw of the last call. */
static struct {
	uint32_t id;
	int64_t base, rbase;       /* SEND/RECV arg[0], SENDRECV arg[5] */
	int64_t sbuf, rbuf;        /* collectives */
	uint64_t used;             /* shim.arena.used during the call */
	int first;                 /* first int at the send's base */
	int fill;                  /* RECV: written at base, 16 ints */
} px;

static int *pptr(int64_t base)
{
	return (int *)((uintptr_t)fakepx_ch.arena + (uintptr_t)base);
}

static void set_status(struct chan_call *c, int64_t bytes)
{
	memset(&c->status, 0, sizeof(c->status));
	memcpy(&c->status.internal[0], &bytes, sizeof(bytes));
}

static void answer(struct chan_call *c)
{
	px.id = c->id;
	px.used = shim.arena.used;
	switch (c->id) {
	case CALL_SEND:
		px.base = c->arg[0];
		px.first = *pptr(c->arg[0]);
		break;
	case CALL_RECV:
		px.base = c->arg[0];
		for (int i = 0; i < 16; i++)
			pptr(c->arg[0])[i] = px.fill + i;
		set_status(c, 16 * sizeof(int));
		break;
	case CALL_SENDRECV:
		px.base = c->arg[0];
		px.rbase = c->arg[5];
		px.first = *pptr(c->arg[0]);
		set_status(c, 0);
		break;
	case CALL_ALLREDUCE:
		px.sbuf = c->arg[COLL_SBUF];
		px.rbuf = c->arg[COLL_RBUF];
		for (int64_t i = 0; i < c->arg[COLL_SCOUNT]; i++)
			pptr(px.rbuf)[i] = 2 * pptr(px.sbuf)[i];
		break;
	default:
		c->err = MPI_ERR_INTERN;
	}
}

FAKEPX_FIXTURES(ARENA, 0, 2, answer)

static int64_t base_of(const void *p)
{
	return (int64_t)((uintptr_t)p - (uintptr_t)shim.ch.arena);
}

static int *alloc(size_t n)
{
	int *p = NULL;

	assert_int_equal(MPI_Alloc_mem((MPI_Aint)n, MPI_INFO_NULL, &p), MPI_SUCCESS);
	assert_non_null(p);
	return p;
}

/* A block is 64-byte aligned arena memory; freeing gives the room back. */
static void test_block_in_arena(void **state)
{
	(void)state;
	uint64_t used = shim.arena.used;
	int *p = alloc(1000);

	assert_int_equal((uintptr_t)p % 64, 0);
	assert_true(shim_mem_in_arena(p, 1000));
	assert_true(shim_mem_in_arena(p + 10, 960));
	assert_false(shim_mem_in_arena(p + 10, 961));
	assert_true(shim.arena.used > used);
	assert_int_equal(MPI_Free_mem(p), MPI_SUCCESS);
	assert_int_equal(shim.arena.used, used);
	assert_false(shim_mem_in_arena(p, 4));
}

/* Send and receive name the user's buffer; nothing is staged. */
static void test_p2p_in_place(void **state)
{
	(void)state;
	int *p = alloc(64 * sizeof(int));
	uint64_t used = shim.arena.used;

	for (int i = 0; i < 64; i++)
		p[i] = 500 + i;
	assert_int_equal(MPI_Send(p + 3, 8, MPI_INT, 1, 0, MPI_COMM_WORLD), MPI_SUCCESS);
	assert_int_equal(px.base, base_of(p + 3));
	assert_int_equal(px.first, 503);
	assert_int_equal(px.used, used);
	px.fill = 9000;
	assert_int_equal(MPI_Recv(p + 20, 16, MPI_INT, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
			 MPI_SUCCESS);
	assert_int_equal(px.base, base_of(p + 20));
	assert_int_equal(px.used, used);
	for (int i = 0; i < 16; i++)
		assert_int_equal(p[20 + i], 9000 + i);
	assert_int_equal(p[19], 519);
	assert_int_equal(p[36], 536);
	assert_int_equal(MPI_Free_mem(p), MPI_SUCCESS);
}

/* A span running past the block's end (into arena bytes that are not
 * the block's), or a heap buffer, is staged. */
static void test_partly_outside_is_staged(void **state)
{
	(void)state;
	int *p = alloc(16 * sizeof(int)), *h = malloc(16 * sizeof(int));
	uint64_t used = shim.arena.used;

	p[12] = 71;
	h[0] = 72;
	assert_int_equal(MPI_Send(p + 12, 8, MPI_INT, 1, 0, MPI_COMM_WORLD), MPI_SUCCESS);
	assert_true(px.used > used);
	assert_true(px.base != base_of(p + 12));
	assert_int_equal(px.first, 71);
	assert_int_equal(MPI_Send(h, 4, MPI_INT, 1, 0, MPI_COMM_WORLD), MPI_SUCCESS);
	assert_true(px.used > used);
	assert_int_equal(px.first, 72);
	assert_int_equal(shim.arena.used, used);
	assert_int_equal(MPI_Free_mem(p), MPI_SUCCESS);
	free(h);
}

/* Sendrecv_replace: the receive lands in place, the send is a copy. */
static void test_replace_copies_send(void **state)
{
	(void)state;
	int *p = alloc(32 * sizeof(int));

	p[0] = 41;
	assert_int_equal(MPI_Sendrecv_replace(p, 32, MPI_INT, 1, 0, 1, 0, MPI_COMM_WORLD,
					      MPI_STATUS_IGNORE), MPI_SUCCESS);
	assert_int_equal(px.id, CALL_SENDRECV);
	assert_int_equal(px.rbase, base_of(p));
	assert_true(px.base != base_of(p));
	assert_int_equal(px.first, 41);
	assert_int_equal(MPI_Free_mem(p), MPI_SUCCESS);
}

/* Staged with SHIM_STAGE_COPY (buffered sends, Isendrecv), a send from
 * a block takes an arena block of its own holding the data as it was:
 * the caller may overwrite its buffer at once.  SHIM_STAGE_BORROW names
 * the buffer itself. */
static void test_stage_copy_never_borrows(void **state)
{
	(void)state;
	int *p = alloc(32 * sizeof(int));
	struct shim_type *t = shim_type_get(MPI_INT);
	struct shim_stage s;
	int64_t base;

	for (int i = 0; i < 32; i++)
		p[i] = 300 + i;
	assert_int_equal(shim_stage_send(p, 32, t, SHIM_STAGE_BORROW, &s, &base, "test"),
			 MPI_SUCCESS);
	assert_int_equal(base, base_of(p));
	assert_true(s.off == ARENA_NONE);
	uint64_t used = shim.arena.used;
	assert_int_equal(shim_stage_send(p, 32, t, SHIM_STAGE_COPY, &s, &base, "test"),
			 MPI_SUCCESS);
	assert_true(s.off != ARENA_NONE);
	assert_true(shim.arena.used > used);
	assert_true(base != base_of(p));
	for (int i = 0; i < 32; i++)
		p[i] = -1;
	for (int i = 0; i < 32; i++)
		assert_int_equal(pptr(base)[i], 300 + i);
	shim_stage_free(&s);
	assert_int_equal(shim.arena.used, used);
	assert_int_equal(MPI_Free_mem(p), MPI_SUCCESS);
}

/* A collective's buffers in blocks go in place, results need no copy. */
static void test_coll_in_place(void **state)
{
	(void)state;
	int *s = alloc(100 * sizeof(int)), *r = alloc(100 * sizeof(int));
	uint64_t used = shim.arena.used;

	for (int i = 0; i < 100; i++)
		s[i] = i;
	assert_int_equal(MPI_Allreduce(s, r, 100, MPI_INT, MPI_SUM, MPI_COMM_WORLD),
			 MPI_SUCCESS);
	assert_int_equal(px.sbuf, base_of(s));
	assert_int_equal(px.rbuf, base_of(r));
	assert_int_equal(px.used, used);
	for (int i = 0; i < 100; i++)
		assert_int_equal(r[i], 2 * i);
	assert_int_equal(MPI_Free_mem(s), MPI_SUCCESS);
	assert_int_equal(MPI_Free_mem(r), MPI_SUCCESS);
}

/* Free_mem of a pointer Alloc_mem never gave: MPI_ERR_ARG, nothing freed. */
static void test_free_foreign(void **state)
{
	(void)state;
	int x, *p = alloc(128);

	assert_int_equal(MPI_Free_mem(&x), MPI_ERR_ARG);
	assert_int_equal(MPI_Free_mem(p + 1), MPI_ERR_ARG);
	assert_true(shim_mem_in_arena(p, 128));
	assert_int_equal(MPI_Free_mem(p), MPI_SUCCESS);
	assert_int_equal(MPI_Free_mem(p), MPI_ERR_ARG);
	assert_int_equal(MPI_Free_mem(NULL), MPI_SUCCESS);
}

/* Past half the arena, blocks are heap memory, still usable and freed. */
static void test_half_arena_cap(void **state)
{
	(void)state;
	size_t half = shim.arena.size / 2;
	int *a = alloc(half - 4096), *b = alloc(8192);

	assert_true(shim_mem_in_arena(a, half - 4096));
	assert_false(shim_mem_in_arena(b, 1));
	b[2047] = 5;
	assert_int_equal(MPI_Free_mem(b), MPI_SUCCESS);
	assert_int_equal(MPI_Free_mem(a), MPI_SUCCESS);
	b = alloc(8192);
	assert_true(shim_mem_in_arena(b, 8192));
	assert_int_equal(MPI_Free_mem(b), MPI_SUCCESS);
}

/* Threads allocate, fill, check and free at once: no block is shared. */
static void *churn(void *arg)
{
	int id = (int)(intptr_t)arg, bad = 0;

	for (int k = 0; k < 300; k++) {
		int n = 16 + (k * 37 + id * 11) % 500, *p = NULL;
		if (MPI_Alloc_mem(n * (MPI_Aint)sizeof(int), MPI_INFO_NULL, &p) != MPI_SUCCESS)
			return (void *)1;
		for (int i = 0; i < n; i++)
			p[i] = id * 100000 + i;
		sched_yield();
		for (int i = 0; i < n; i++)
			bad += p[i] != id * 100000 + i;
		bad += !shim_mem_in_arena(p, (uint64_t)n * sizeof(int));
		if (MPI_Free_mem(p) != MPI_SUCCESS)
			return (void *)1;
	}
	return (void *)(intptr_t)bad;
}

static void test_threads(void **state)
{
	(void)state;
	pthread_t t[4];
	uint64_t used = shim.arena.used;
	int level = shim.thread_level;

	shim.thread_level = MPI_THREAD_MULTIPLE;
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, churn, (void *)(intptr_t)i), 0);
	for (int i = 0; i < 4; i++) {
		void *rc;
		pthread_join(t[i], &rc);
		assert_null(rc);
	}
	shim.thread_level = level;
	assert_int_equal(shim.arena.used, used);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_block_in_arena),
		cmocka_unit_test(test_p2p_in_place),
		cmocka_unit_test(test_partly_outside_is_staged),
		cmocka_unit_test(test_replace_copies_send),
		cmocka_unit_test(test_stage_copy_never_borrows),
		cmocka_unit_test(test_coll_in_place),
		cmocka_unit_test(test_free_foreign),
		cmocka_unit_test(test_half_arena_cap),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
