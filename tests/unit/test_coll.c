/*
 * test_coll.c - unit tests of the application side of the collectives
 * (shim/coll.c): what crosses the channel, what comes back into the
 * application's buffers, and what never leaves the shim.
 *
 * A thread plays the proxy (fakepx.h): it answers each call through a
 * small fake collective chosen by the test, and records what it saw
 * (arguments, arena use, the staged inputs).  The world has W = 20000 ranks, so Alltoallv's four count and
 * displacement arrays (320 000 bytes) no longer fit the inline area and
 * must travel in the arena; smaller communicators are made the way a
 * constructor's reply makes them (an intercommunicator by giving one a
 * remote group).  MPI_COMM_WORLD's handler is
 * MPI_ERRORS_RETURN, so argument errors come back as codes, and the fake
 * proxy's call counter proves they never crossed the channel.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chan/coll.h"
#include "fakepx.h"

#define W 20000
#define ME 2
#define POISON 0xa5

/* ---------------------------------------------------------- fake proxy */

static void (*respond)(struct chan_call *c);

/* What the fake proxy saw of the last call. */
static struct {
	int calls;
	uint32_t id;
	int64_t arg[COLL_NARGS];
	uint32_t inl_len;
	uint64_t arena_used;     /* app arena bytes in use during the call */
	int ok;                  /* the responder's own checks passed */
} seen;

static void *pptr(int64_t off)
{
	return chan_arena_ptr(&fakepx_ch, (uint64_t)off);
}

/* Record the call, then answer it with the test's responder. */
static void answer(struct chan_call *c)
{
	seen.calls++;
	seen.id = c->id;
	memcpy(seen.arg, c->arg, sizeof(seen.arg));
	seen.inl_len = c->inl_len;
	seen.arena_used = shim.arena.used;
	seen.ok = 1;
	if (respond)
		respond(c);
}

FAKEPX_FIXTURES(64u << 20, ME, W, answer)

/* A communicator of n members in which I (world rank ME) have rank me. */
static MPI_Comm make(int n, int me)
{
	int world[16];
	struct shim_comm *c = shim_comm_reserve();

	assert_non_null(c);
	for (int i = 0, w = 100; i < n; i++)
		world[i] = i == me ? ME : w++;
	assert_int_equal(shim_comm_set(c, world, n, me, MPI_COMM_WORLD, CALL_COMM_SPLIT),
			 MPI_SUCCESS);
	return c->handle;
}

static void drop(MPI_Comm h)
{
	shim_comm_release(shim_comm_get(h));
}

static void expect_clean(void)
{
	assert_true(seen.ok);
	assert_int_equal(shim.arena.used, 0);
}

/* ---------------------------------------------- 8-byte Allreduce is lean */

static void respond_triple(struct chan_call *c)
{
	long *s = pptr(c->arg[COLL_SBUF]), *r = pptr(c->arg[COLL_RBUF]);

	*r = *s * 3;
}

static void test_allreduce_small_is_one_block(void **state)
{
	long v = 14, r = 0;
	int before = seen.calls;

	(void)state;
	respond = respond_triple;
	assert_int_equal(MPI_Allreduce(&v, &r, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD),
			 MPI_SUCCESS);
	assert_int_equal(r, 42);
	assert_int_equal(seen.calls, before + 1);
	assert_int_equal(seen.id, CALL_ALLREDUCE);
	assert_int_equal(seen.arg[COLL_SCOUNT], 1);
	assert_int_equal(seen.arg[COLL_STYPE], (int64_t)(intptr_t)MPI_LONG);
	assert_int_equal(seen.arg[COLL_OP], (int64_t)(intptr_t)MPI_SUM);
	assert_int_equal(seen.arg[COLL_COMM], (int64_t)(intptr_t)MPI_COMM_WORLD);
	assert_int_equal(seen.inl_len, 0);
	/* both 8-byte buffers in one block of two aligned regions */
	assert_in_range(seen.arena_used, 16, 2 * ARENA_ALIGN);
	expect_clean();
}

/* ------------------------------------ arrays: inline, or in the arena */

static int *sc, *sd, *rc, *rd;   /* Alltoallv arrays of the test in progress */

static void respond_alltoallv(struct chan_call *c)
{
	int n = (int)(c->inl_len ? c->inl_len / (4 * sizeof(int)) : W);
	const int *a = c->arg[COLL_ARRAYS] == CHAN_OFF_NONE ? (const int *)(void *)c->inl
		: pptr(c->arg[COLL_ARRAYS]);
	const int *s = pptr(c->arg[COLL_SBUF]);
	int *r = pptr(c->arg[COLL_RBUF]);

	if (memcmp(a, sc, (size_t)n * sizeof(int)) || memcmp(a + n, sd, (size_t)n * sizeof(int)) ||
	    memcmp(a + 2 * n, rc, (size_t)n * sizeof(int)) ||
	    memcmp(a + 3 * n, rd, (size_t)n * sizeof(int)))
		seen.ok = 0;
	for (int i = 0; i < n; i++)
		r[rd[i]] = s[sd[i]] + 1;
}

static void alltoallv_on(MPI_Comm comm, int n)
{
	int *s = malloc((size_t)n * 2 * sizeof(int)), *r = malloc((size_t)n * 2 * sizeof(int));

	sc = malloc((size_t)n * sizeof(int));
	sd = malloc((size_t)n * sizeof(int));
	rc = malloc((size_t)n * sizeof(int));
	rd = malloc((size_t)n * sizeof(int));
	assert_true(s && r && sc && sd && rc && rd);
	for (int i = 0; i < n; i++) {
		sc[i] = rc[i] = 1;
		sd[i] = 2 * (n - 1 - i);   /* reversed, one-element gaps */
		rd[i] = 2 * i + 1;
		s[sd[i]] = i * 7;
		s[sd[i] + 1] = -9;
		r[2 * i] = r[2 * i + 1] = -1;
	}
	respond = respond_alltoallv;
	assert_int_equal(MPI_Alltoallv(s, sc, sd, MPI_INT, r, rc, rd, MPI_INT, comm),
			 MPI_SUCCESS);
	for (int i = 0; i < n; i++) {
		assert_int_equal(r[rd[i]], i * 7 + 1);
		assert_int_equal(r[2 * i], -1);    /* gap */
	}
	expect_clean();
	free(s);
	free(r);
	free(sc);
	free(sd);
	free(rc);
	free(rd);
}

static void test_arrays_inline_for_small_comm(void **state)
{
	MPI_Comm c = make(3, 1);

	(void)state;
	alltoallv_on(c, 3);
	assert_int_equal(seen.arg[COLL_ARRAYS], CHAN_OFF_NONE);
	assert_int_equal(seen.inl_len, 4 * 3 * sizeof(int));
	drop(c);
}

static void test_arrays_in_arena_for_huge_comm(void **state)
{
	(void)state;
	alltoallv_on(MPI_COMM_WORLD, W);
	assert_true(seen.arg[COLL_ARRAYS] >= 0);
	assert_int_equal(seen.inl_len, 0);
}

/* ------------------------------ Gatherv: gaps and negative displacements */

static const int gv_cnt[4] = { 2, 0, 3, 1 }, gv_dsp[4] = { -10, 0, 4, -3 };

static void respond_gatherv(struct chan_call *c)
{
	int *s = pptr(c->arg[COLL_SBUF]), *r = pptr(c->arg[COLL_RBUF]);

	/* A real MPI writes only the blocks; scribbling over the gaps in
	 * the image proves the shim never copies them back. */
	for (int i = -10; i < 7; i++)
		r[i] = 0x7777;
	for (int i = 0; i < 4; i++)
		for (int k = 0; k < gv_cnt[i]; k++)
			r[gv_dsp[i] + k] = i * 100 + k;
	if (s[0] != 55 || s[1] != 56)
		seen.ok = 0;
}

static void test_gatherv_copies_blocks_only(void **state)
{
	MPI_Comm c = make(4, 1);
	int arr[40], mine[2] = { 55, 56 };
	int *rb = arr + 16;

	(void)state;
	memset(arr, POISON, sizeof(arr));
	respond = respond_gatherv;
	assert_int_equal(MPI_Gatherv(mine, 2, MPI_INT, rb, gv_cnt, gv_dsp, MPI_INT, 1, c),
			 MPI_SUCCESS);
	int want[40];
	memset(want, POISON, sizeof(want));
	for (int i = 0; i < 4; i++)
		for (int k = 0; k < gv_cnt[i]; k++)
			want[16 + gv_dsp[i] + k] = i * 100 + k;
	assert_memory_equal(arr, want, sizeof(arr));
	assert_int_equal(seen.inl_len, 2 * 4 * sizeof(int));
	expect_clean();
	drop(c);
}

/* ------------------------------------------------ pair types: padding */

struct si { short v; int i; };

static void respond_bcast_si(struct chan_call *c)
{
	struct si *e = pptr(c->arg[COLL_SBUF]);

	/* whatever the image's padding holds must not reach the application */
	memset(e, 0x11, 3 * sizeof(*e));
	for (int k = 0; k < 3; k++) {
		e[k].v = (short)(10 + k);
		e[k].i = 20 + k;
	}
}

static void test_pair_padding_survives(void **state)
{
	struct si buf[3];
	MPI_Comm c = make(3, 2);

	(void)state;
	memset(buf, POISON, sizeof(buf));
	respond = respond_bcast_si;
	assert_int_equal(MPI_Bcast(buf, 3, MPI_SHORT_INT, 0, c), MPI_SUCCESS);
	for (int k = 0; k < 3; k++) {
		const unsigned char *b = (const unsigned char *)&buf[k];
		assert_int_equal(buf[k].v, 10 + k);
		assert_int_equal(buf[k].i, 20 + k);
		assert_int_equal(b[sizeof(short)], POISON);
		assert_int_equal(b[sizeof(short) + 1], POISON);
	}
	expect_clean();
	drop(c);
}

/* ---------------------------------------------------------- MPI_IN_PLACE */

static void respond_double_in_place(struct chan_call *c)
{
	int *r = pptr(c->arg[COLL_RBUF]);

	if (c->arg[COLL_SBUF] != CHAN_OFF_IN_PLACE)
		seen.ok = 0;
	for (int i = 0; i < 6; i++)
		r[i] *= 2;
}

static void test_in_place_reduce_scatter_returns_own_block(void **state)
{
	MPI_Comm c = make(3, 0);
	int counts[3] = { 2, 3, 1 }, buf[6] = { 1, 2, 3, 4, 5, 6 };

	(void)state;
	respond = respond_double_in_place;
	assert_int_equal(MPI_Reduce_scatter(MPI_IN_PLACE, buf, counts, MPI_INT, MPI_SUM, c),
			 MPI_SUCCESS);
	/* my block (rank 0: two elements) is the result; the rest is input */
	int want[6] = { 2, 4, 3, 4, 5, 6 };
	assert_memory_equal(buf, want, sizeof(buf));
	expect_clean();
	drop(c);
}

static void test_in_place_allreduce(void **state)
{
	int buf[6] = { 1, 2, 3, 4, 5, 6 };

	(void)state;
	respond = respond_double_in_place;
	assert_int_equal(MPI_Allreduce(MPI_IN_PLACE, buf, 6, MPI_INT, MPI_MAX, MPI_COMM_WORLD),
			 MPI_SUCCESS);
	for (int i = 0; i < 6; i++)
		assert_int_equal(buf[i], 2 * (i + 1));
	expect_clean();
}

/* ------------------------------------------ non-significant arguments */

static void respond_none(struct chan_call *c)
{
	(void)c;
}

static void test_gather_off_root_ignores_receive_side(void **state)
{
	MPI_Comm c = make(3, 1);
	int v = 5;

	(void)state;
	respond = respond_none;
	assert_int_equal(MPI_Gather(&v, 1, MPI_INT, NULL, -7, MPI_DATATYPE_NULL, 0, c),
			 MPI_SUCCESS);
	assert_int_equal(seen.arg[COLL_RBUF], CHAN_OFF_NONE);
	assert_int_equal(seen.arg[COLL_RCOUNT], 0);
	assert_int_equal(seen.arg[COLL_RTYPE], (int64_t)(intptr_t)MPI_BYTE);
	assert_int_equal(seen.arg[COLL_ROOT], 0);
	assert_true(seen.arg[COLL_SBUF] >= 0);
	assert_int_equal(MPI_Scatterv(NULL, NULL, NULL, MPI_DATATYPE_NULL, &v, 1, MPI_INT, 0, c),
			 MPI_SUCCESS);
	assert_int_equal(seen.inl_len, 0);
	assert_int_equal(seen.arg[COLL_SBUF], CHAN_OFF_NONE);
	assert_int_equal(seen.arg[COLL_STYPE], (int64_t)(intptr_t)MPI_BYTE);
	expect_clean();
	drop(c);
}

/* -------------------------------------------------------------- Exscan */

static void respond_scribble(struct chan_call *c)
{
	int *r = pptr(c->arg[COLL_RBUF]);

	for (int i = 0; i < 4; i++)
		r[i] = 0x5a5a;
}

static void test_exscan_leaves_rank0_alone(void **state)
{
	MPI_Comm c0 = make(3, 0), c1 = make(3, 1);
	int v[4] = { 1, 2, 3, 4 }, r[4] = { -1, -1, -1, -1 };

	(void)state;
	respond = respond_scribble;
	assert_int_equal(MPI_Exscan(v, r, 4, MPI_INT, MPI_SUM, c0), MPI_SUCCESS);
	for (int i = 0; i < 4; i++)
		assert_int_equal(r[i], -1);
	assert_int_equal(MPI_Exscan(v, r, 4, MPI_INT, MPI_SUM, c1), MPI_SUCCESS);
	for (int i = 0; i < 4; i++)
		assert_int_equal(r[i], 0x5a5a);
	expect_clean();
	drop(c0);
	drop(c1);
}

/* ------------------------------------------- distinct staged images */

static void test_images_never_alias(void **state)
{
	MPI_Comm c = make(3, 0);
	int src[32], dst[2] = { 0, 0 }, cnt[3] = { 2, 2, 2 }, dsp[3] = { -2, -6, -16 };

	(void)state;
	for (int i = 0; i < 32; i++)
		src[i] = i;
	respond = respond_none;
	assert_int_equal(MPI_Scatterv(src + 16, cnt, dsp, MPI_INT, dst, 2, MPI_INT, 0, c),
			 MPI_SUCCESS);
	/* every block lies before the send pointer and the span is exactly
	 * 64 bytes, so the send image ends where an aligned next region
	 * would start: it must still differ from the receive image (libnbc
	 * reads equal pointers as in place) */
	assert_true(seen.arg[COLL_SBUF] >= 0 && seen.arg[COLL_RBUF] >= 0);
	assert_int_not_equal(seen.arg[COLL_SBUF], seen.arg[COLL_RBUF]);
	expect_clean();
	drop(c);
}

/* ------------------------------------- derived types: bases off arena */

static unsigned char seen_bytes[4];

static void respond_peek(struct chan_call *c)
{
	unsigned char *img = pptr(c->arg[COLL_SBUF]);

	for (int i = 0; i < 4; i++)
		seen_bytes[i] = img[1 + 3 * i];
}

/* A datatype of one char at byte 1 and extent 3: byte 0 of a buffer lies
 * before its data, so with the block at arena offset 0 the image's base
 * would be -1, which means "no buffer" on the wire. */
static void test_positive_lb_base_is_no_sentinel(void **state)
{
	MPI_Comm c = make(3, 0);
	MPI_Datatype t, tmp, ch = MPI_CHAR;
	int one = 1;
	MPI_Aint at1 = 1;
	unsigned char buf[12];

	(void)state;
	respond = respond_none;
	assert_int_equal(MPI_Type_create_struct(1, &one, &at1, &ch, &tmp), MPI_SUCCESS);
	assert_int_equal(MPI_Type_create_resized(tmp, 0, 3, &t), MPI_SUCCESS);
	assert_int_equal(MPI_Type_commit(&t), MPI_SUCCESS);
	for (int i = 0; i < 12; i++)
		buf[i] = (unsigned char)(i + 1);
	respond = respond_peek;
	assert_int_equal(shim.arena.used, 0);
	assert_int_equal(MPI_Bcast(buf, 4, t, 0, c), MPI_SUCCESS);
	assert_true(seen.arg[COLL_SBUF] != CHAN_OFF_NONE &&
		    seen.arg[COLL_SBUF] != CHAN_OFF_IN_PLACE);
	for (int i = 0; i < 4; i++)
		assert_int_equal(seen_bytes[i], 2 + 3 * i);
	expect_clean();
	respond = respond_none;
	MPI_Type_free(&t);
	MPI_Type_free(&tmp);
	drop(c);
}

/* ---------------------------------------------- intercommunicators */

/* An intercommunicator: local group of 3 (my rank 1), remote group of 5. */
static MPI_Comm make_inter(void)
{
	MPI_Comm h = make(3, 1);
	struct shim_comm *c = shim_comm_get(h);

	c->remote = malloc(5 * sizeof(int));
	assert_non_null(c->remote);
	for (int i = 0; i < 5; i++)
		c->remote[i] = 200 + i;
	c->remote_size = 5;
	return h;
}

static void drop_inter(MPI_Comm h)
{
	struct shim_comm *c = shim_comm_get(h);

	free(c->remote);
	c->remote = NULL;
	c->remote_size = 0;
	drop(h);
}

static void respond_five(struct chan_call *c)
{
	int *r = pptr(c->arg[COLL_RBUF]);

	for (int i = 0; i < 5; i++)
		r[i] = 70 + i;
}

static void test_intercomm_blocks_follow_remote_group(void **state)
{
	MPI_Comm ic = make_inter();
	int s = 3, r[8], cnt[5] = { 1, 1, 1, 1, 1 }, dsp[5] = { 0, 1, 2, 3, 4 };

	(void)state;
	for (int i = 0; i < 8; i++)
		r[i] = -1;
	respond = respond_five;
	assert_int_equal(MPI_Allgather(&s, 1, MPI_INT, r, 1, MPI_INT, ic), MPI_SUCCESS);
	for (int i = 0; i < 5; i++)
		assert_int_equal(r[i], 70 + i);
	assert_int_equal(r[5], -1);
	expect_clean();

	/* Gatherv at MPI_ROOT: arrays as long as the remote group, nothing sent */
	assert_int_equal(MPI_Gatherv(NULL, 0, MPI_INT, r, cnt, dsp, MPI_INT, MPI_ROOT, ic),
			 MPI_SUCCESS);
	assert_int_equal(seen.arg[COLL_NARR], 5);
	assert_int_equal(seen.inl_len, 2 * 5 * sizeof(int));
	assert_int_equal(seen.arg[COLL_SBUF], CHAN_OFF_NONE);
	assert_int_equal(seen.arg[COLL_ROOT], MPI_ROOT);

	/* Bcast at MPI_PROC_NULL: no buffer, but the count as given */
	respond = respond_none;
	assert_int_equal(MPI_Bcast(NULL, 4, MPI_INT, MPI_PROC_NULL, ic), MPI_SUCCESS);
	assert_int_equal(seen.arg[COLL_SBUF], CHAN_OFF_NONE);
	assert_int_equal(seen.arg[COLL_SCOUNT], 4);
	assert_int_equal(seen.arg[COLL_ROOT], MPI_PROC_NULL);

	/* errors: a local rank as root, MPI_IN_PLACE, Scan */
	int before = seen.calls;
	assert_int_equal(MPI_Bcast(r, 1, MPI_INT, 5, ic), MPI_ERR_ROOT);
	assert_int_equal(MPI_Allreduce(MPI_IN_PLACE, r, 1, MPI_INT, MPI_SUM, ic),
			 MPI_ERR_BUFFER);
	assert_int_equal(MPI_Scan(&s, r, 1, MPI_INT, MPI_SUM, ic), MPI_ERR_COMM);
	assert_int_equal(seen.calls, before);
	expect_clean();
	drop_inter(ic);
}

/* ------------------------------------------- cache-line skew of images */

static void test_large_images_keep_user_skew(void **state)
{
	unsigned char *mem = malloc(16384 + 128);
	MPI_Comm c = make(3, 0);

	(void)state;
	assert_non_null(mem);
	respond = respond_none;
	for (int skew = 0; skew < 64; skew += 24) {
		unsigned char *buf = mem + 64 - (uintptr_t)mem % 64 + (unsigned)skew;
		assert_int_equal(MPI_Bcast(buf, 16384, MPI_BYTE, 0, c), MPI_SUCCESS);
		uintptr_t img = (uintptr_t)chan_arena_ptr(&shim.ch,
							  (uint64_t)seen.arg[COLL_SBUF]);
		assert_int_equal(img % 64, (uintptr_t)buf % 64);
		expect_clean();
	}
	free(mem);
	drop(c);
}

/* ----------------------------------------------------- argument errors */

static void test_errors_never_cross(void **state)
{
	MPI_Comm c = make(3, 1);
	int a[4] = { 0 }, b[4], cnt[3] = { 1, -1, 1 }, ok[3] = { 1, 1, 1 };
	int before = seen.calls;
	MPI_Op user_op = (MPI_Op)SHIM_H_MAKE(SHIM_K_OP, 1);

	(void)state;
	respond = respond_none;
	assert_int_equal(MPI_Barrier(MPI_COMM_NULL), MPI_ERR_COMM);
	assert_int_equal(MPI_Bcast(a, 1, MPI_INT, 3, c), MPI_ERR_ROOT);
	assert_int_equal(MPI_Bcast(a, -1, MPI_INT, 0, c), MPI_ERR_COUNT);
	assert_int_equal(MPI_Bcast(a, 1, MPI_DATATYPE_NULL, 0, c), MPI_ERR_TYPE);
	assert_int_equal(MPI_Bcast(NULL, 1, MPI_INT, 0, c), MPI_ERR_BUFFER);
	assert_int_equal(MPI_Allreduce(a, b, 1, MPI_INT, MPI_OP_NULL, c), MPI_ERR_OP);
	assert_int_equal(MPI_Allreduce(a, b, 1, MPI_INT, user_op, c), MPI_ERR_OP);
	assert_int_equal(MPI_Allreduce(a, b, 1, MPI_DATATYPE_NULL, MPI_SUM, c), MPI_ERR_OP);
	assert_int_equal(MPI_Allreduce(a, b, -1, MPI_INT, MPI_OP_NULL, c), MPI_ERR_OP);
	assert_int_equal(MPI_Allreduce(a, b, -1, MPI_INT, MPI_SUM, c), MPI_ERR_COUNT);
	assert_int_equal(MPI_Allreduce(NULL, b, 1, MPI_INT, MPI_SUM, c), MPI_ERR_BUFFER);
	assert_int_equal(MPI_Reduce(MPI_IN_PLACE, b, 1, MPI_INT, MPI_SUM, 0, c), MPI_ERR_BUFFER);
	assert_int_equal(MPI_Gather(MPI_IN_PLACE, 1, MPI_INT, b, 1, MPI_INT, 0, c),
			 MPI_ERR_BUFFER);
	assert_int_equal(MPI_Scatter(a, 1, MPI_INT, MPI_IN_PLACE, 1, MPI_INT, 0, c),
			 MPI_ERR_BUFFER);
	assert_int_equal(MPI_Gatherv(a, 1, MPI_INT, b, ok, NULL, MPI_INT, 1, c), MPI_ERR_BUFFER);
	assert_int_equal(MPI_Gatherv(a, 1, MPI_INT, b, cnt, ok, MPI_INT, 1, c), MPI_ERR_COUNT);
	assert_int_equal(MPI_Alltoallv(a, NULL, ok, MPI_INT, b, ok, ok, MPI_INT, c),
			 MPI_ERR_COUNT);
	assert_int_equal(MPI_Reduce_scatter(a, b, cnt, MPI_INT, MPI_SUM, c), MPI_ERR_COUNT);
	assert_int_equal(MPI_Reduce_scatter(a, b, NULL, MPI_INT, MPI_SUM, c), MPI_ERR_COUNT);
	assert_int_equal(MPI_Reduce_scatter_block(a, b, 1, MPI_INT, MPI_SUM, MPI_COMM_NULL),
			 MPI_ERR_COMM);
	/* a span no arena holds: no memory, no crash, nothing sent */
	assert_int_equal(MPI_Allgather(a, 1, MPI_INT, b, 1 << 30, MPI_LONG_DOUBLE_INT,
				       MPI_COMM_WORLD), MPI_ERR_NO_MEM);
	assert_int_equal(seen.calls, before);
	assert_int_equal(shim.arena.used, 0);
	drop(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allreduce_small_is_one_block),
		cmocka_unit_test(test_arrays_inline_for_small_comm),
		cmocka_unit_test(test_arrays_in_arena_for_huge_comm),
		cmocka_unit_test(test_gatherv_copies_blocks_only),
		cmocka_unit_test(test_pair_padding_survives),
		cmocka_unit_test(test_in_place_reduce_scatter_returns_own_block),
		cmocka_unit_test(test_in_place_allreduce),
		cmocka_unit_test(test_gather_off_root_ignores_receive_side),
		cmocka_unit_test(test_exscan_leaves_rank0_alone),
		cmocka_unit_test(test_images_never_alias),
		cmocka_unit_test(test_positive_lb_base_is_no_sentinel),
		cmocka_unit_test(test_intercomm_blocks_follow_remote_group),
		cmocka_unit_test(test_large_images_keep_user_skew),
		cmocka_unit_test(test_errors_never_cross),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
