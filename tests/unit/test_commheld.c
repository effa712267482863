/*
 * test_commheld.c - unit tests of the restart's making again of freed
 * communicators that requests still hold (shim/commheld.c).
 *
 * A thread plays the proxy (fakepx.h): COMM_GATHER_FREED notes the list
 * this rank sent and answers with every rank's list, which the test
 * writes byte by byte here (int64 gid, int64 gid_root, int32 size, int32
 * remote size, int32 members, int32 remote members, per communicator);
 * COMM_REBUILD, INTERCOMM_REBUILD and COMM_FREE note what they were asked.
 * This process is world rank 1 of 3.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fakepx.h"

#define W 3
#define ME 1
#define MAX_CALLS 8

struct made {
	int id;                  /* CALL_COMM_REBUILD, INTERCOMM_REBUILD, COMM_FREE */
	int64_t handle, gid, n;  /* INTERCOMM_REBUILD: n is the remote leader */
	int32_t members[W];
};

static struct {
	unsigned char reply[256]; /* what COMM_GATHER_FREED answers */
	uint32_t reply_len;
	unsigned char sent[256];  /* what this rank sent in it */
	uint32_t sent_len;
	int gathers;
	struct made made[MAX_CALLS]; /* the calls after the gather, in order */
	int nmade;
	int gathers_before_made[MAX_CALLS];
} px;

static void answer(struct chan_call *c)
{
	switch (c->id) {
	case CALL_COMM_GATHER_FREED:
		px.gathers++;
		px.sent_len = c->inl_len < sizeof(px.sent) ? c->inl_len : sizeof(px.sent);
		memcpy(px.sent, c->inl, px.sent_len);
		memcpy(c->inl, px.reply, px.reply_len);
		c->inl_len = px.reply_len;
		break;
	case CALL_COMM_REBUILD: {
		struct made *m = &px.made[px.nmade];
		px.gathers_before_made[px.nmade++] = px.gathers;
		m->id = CALL_COMM_REBUILD;
		m->handle = c->arg[1];
		m->n = c->arg[2];
		m->gid = c->arg[3];
		memcpy(m->members, c->inl, (size_t)(m->n < W ? m->n : W) * sizeof(int32_t));
		break;
	}
	case CALL_INTERCOMM_REBUILD:
	case CALL_COMM_FREE: {
		struct made *m = &px.made[px.nmade];
		px.gathers_before_made[px.nmade++] = px.gathers;
		m->id = (int)c->id;
		m->handle = c->arg[0];
		m->n = c->arg[2];
		break;
	}
	default:
		c->err = MPI_ERR_INTERN;
	}
}

FAKEPX_FIXTURES(16u << 20, ME, W, answer)

static void reset(void)
{
	memset(&px, 0, sizeof(px));
}

/* One entry of a list, as another rank's shim would write it. */
static void add_inter_entry(int64_t gid, int32_t n, const int32_t *members, int32_t rn,
			    const int32_t *remote)
{
	int64_t root = -1;
	unsigned char *p = px.reply + px.reply_len;

	memcpy(p, &gid, 8);
	memcpy(p + 8, &root, 8);
	memcpy(p + 16, &n, 4);
	memcpy(p + 20, &rn, 4);
	if (n)
		memcpy(p + 24, members, (size_t)n * 4);
	if (rn)
		memcpy(p + 24 + n * 4, remote, (size_t)rn * 4);
	px.reply_len += 24 + (uint32_t)(n + rn) * 4;
}

static void add_entry(int64_t gid, int32_t n, const int32_t *members)
{
	add_inter_entry(gid, n, members, 0, NULL);
}

/* A communicator this rank freed while a request (the extra count)
 * still holds it. */
static struct shim_comm *freed_held(int64_t gid, int n, const int *members)
{
	struct shim_comm *c = shim_comm_reserve();

	assert_non_null(c);
	assert_int_equal(shim_comm_set(c, members, n, 0, MPI_COMM_WORLD, CALL_COMM_DUP),
			 MPI_SUCCESS);
	c->gid = gid;
	assert_ptr_equal(shim_comm_hold(c->handle), c);
	shim_comm_free(c);
	c->unbuilt = 1; /* as the restart's first loop leaves it */
	assert_true(shim_comm_held_by_requests(c));
	return c;
}

static void let_go(struct shim_comm *c)
{
	c->proxy_keeps = 0;
	shim_comm_unhold(c);
}

/* Made in the order of the ids, after the gather, each once, only where
 * this rank is a member: under its handle when it holds one, else under
 * a handle of the moment that is freed at once.  A communicator of this
 * rank alone goes first, without the others. */
static void test_order_and_members(void **state)
{
	static const int x_m[] = { 0, 1 }, y_m[] = { 1, 2 }, z_m[] = { 1 };
	static const int32_t x32[] = { 0, 1 }, y32[] = { 1, 2 }, w32[] = { 0, 1 }, v32[] = { 0, 2 };

	(void)state;
	reset();
	struct shim_comm *x = freed_held(20, 2, x_m);
	struct shim_comm *y = freed_held(5, 2, y_m);
	struct shim_comm *z = freed_held(-1, 1, z_m);
	/* Rank 0 holds X, W (gid 7, with us) and V (gid 3, without us);
	 * we hold X and Y; rank 2 holds Y. */
	add_entry(20, 2, x32);
	add_entry(7, 2, w32);
	add_entry(3, 2, v32);
	add_entry(20, 2, x32);
	add_entry(5, 2, y32);
	add_entry(5, 2, y32);
	struct shim_comm *list[] = { x, y, z };

	assert_int_equal(shim_comm_rebuild_held(list, 3), MPI_SUCCESS);
	assert_int_equal(px.gathers, 1);
	/* Our list: X then Y, 32 bytes each; Z has no id and stays home. */
	assert_int_equal(px.sent_len, 64);
	int64_t g;
	memcpy(&g, px.sent, 8);
	assert_int_equal(g, 20);
	memcpy(&g, px.sent + 32, 8);
	assert_int_equal(g, 5);

	assert_int_equal(px.nmade, 5);
	assert_int_equal(px.made[0].gid, -1);
	assert_int_equal(px.made[0].handle, (int64_t)(intptr_t)z->handle);
	assert_int_equal(px.gathers_before_made[0], 0);
	assert_int_equal(px.made[1].gid, 5);
	assert_int_equal(px.made[1].handle, (int64_t)(intptr_t)y->handle);
	assert_int_equal(px.made[1].members[1], 2);
	assert_int_equal(px.gathers_before_made[1], 1);
	assert_int_equal(px.made[2].gid, 7);
	int64_t t = px.made[2].handle;
	assert_true(t != 0 && t != (int64_t)(intptr_t)x->handle &&
		    t != (int64_t)(intptr_t)y->handle && t != (int64_t)(intptr_t)z->handle);
	assert_int_equal(px.made[2].n, 2);
	assert_int_equal(px.made[2].members[0], 0);
	assert_int_equal(px.made[2].members[1], 1);
	assert_int_equal(px.made[3].id, CALL_COMM_FREE);
	assert_int_equal(px.made[3].handle, t);
	assert_null(shim_handle_get(SHIM_K_COMM, (uintptr_t)t));
	assert_int_equal(px.made[4].gid, 20);
	assert_int_equal(px.made[4].handle, (int64_t)(intptr_t)x->handle);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(list[i]->unbuilt, 0);
		assert_int_equal(list[i]->proxy_keeps, 1);
	}
	let_go(x);
	let_go(y);
	let_go(z);
}

/* A rank whose list did not fit sent the marker: every rank fails, and
 * none makes anything after the gather. */
static void test_too_many(void **state)
{
	static const int x_m[] = { 0, 1 };
	static const int32_t x32[] = { 0, 1 };

	(void)state;
	reset();
	struct shim_comm *x = freed_held(20, 2, x_m);
	add_entry(20, 2, x32);
	add_entry(-2, 0, x32);
	struct shim_comm *list[] = { x };

	assert_int_equal(shim_comm_rebuild_held(list, 1), MPI_ERR_NO_MEM);
	assert_int_equal(px.nmade, 0);
	assert_int_equal(x->unbuilt, 1);
	let_go(x);
}

/* This rank's own list does not fit the call: it sends the marker alone
 * (gid -2, no members) in place of what it had written, and fails with
 * the others when the marker comes back. */
static void test_sends_too_many(void **state)
{
	static const int x_m[] = { 0, 1 };
	enum { BIG = CHAN_INLINE_SIZE / sizeof(int32_t) };
	int *big_m = malloc(BIG * sizeof(int));

	(void)state;
	assert_non_null(big_m);
	for (int i = 0; i < BIG; i++)
		big_m[i] = i;
	reset();
	struct shim_comm *x = freed_held(20, 2, x_m);
	struct shim_comm *big = freed_held(30, BIG, big_m);
	free(big_m);
	add_entry(-2, 0, NULL);
	struct shim_comm *list[] = { x, big };

	assert_int_equal(shim_comm_rebuild_held(list, 2), MPI_ERR_NO_MEM);
	assert_int_equal(px.sent_len, 24);
	int64_t gid;
	int32_t n[2];
	memcpy(&gid, px.sent, 8);
	memcpy(n, px.sent + 16, 8);
	assert_int_equal(gid, -2);
	assert_int_equal(n[0], 0);
	assert_int_equal(n[1], 0);
	assert_int_equal(px.nmade, 0);
	let_go(x);
	let_go(big);
}

/* A freed intercommunicator: its holder makes its own group again under
 * its handle, then joins it to the remote group's first member; a member
 * of the other group that holds nothing does the same under a handle of
 * the moment, which it frees at once; a rank in neither group does
 * nothing. */
static void test_intercomm(void **state)
{
	static const int me_m[] = { 1 }, zero_m[] = { 0 };
	static const int32_t me32[] = { 1 }, zero32[] = { 0 }, two32[] = { 2 },
		zero_me32[] = { 0, 1 };

	(void)state;
	reset();
	struct shim_comm *i = freed_held(40, 1, me_m);
	assert_int_equal(shim_comm_set_remote(i, zero_m, 1), MPI_SUCCESS);
	add_inter_entry(40, 1, me32, 1, zero32);        /* ours */
	add_inter_entry(40, 1, zero32, 1, me32);        /* rank 0's view of it */
	add_inter_entry(50, 1, two32, 2, zero_me32);    /* rank 2's: we are remote */
	add_inter_entry(60, 1, zero32, 1, two32);       /* rank 0's, without us */
	struct shim_comm *list[] = { i };

	assert_int_equal(shim_comm_rebuild_held(list, 1), MPI_SUCCESS);
	/* Our entry: 24 bytes, then our group, then the remote one. */
	assert_int_equal(px.sent_len, 32);
	int32_t w[4];
	memcpy(w, px.sent + 16, sizeof(w));
	assert_int_equal(w[0], 1);
	assert_int_equal(w[1], 1);
	assert_int_equal(w[2], 1);
	assert_int_equal(w[3], 0);

	assert_int_equal(px.nmade, 5);
	assert_int_equal(px.made[0].id, CALL_COMM_REBUILD);
	assert_int_equal(px.made[0].gid, 40);
	assert_int_equal(px.made[0].handle, (int64_t)(intptr_t)i->handle);
	assert_int_equal(px.made[0].n, 1);
	assert_int_equal(px.made[0].members[0], 1);
	assert_int_equal(px.made[1].id, CALL_INTERCOMM_REBUILD);
	assert_int_equal(px.made[1].handle, (int64_t)(intptr_t)i->handle);
	assert_int_equal(px.made[1].n, 0);
	/* 50: our group is its remote one, {0, 1}; the leader is rank 2. */
	assert_int_equal(px.made[2].id, CALL_COMM_REBUILD);
	assert_int_equal(px.made[2].gid, 50);
	assert_int_equal(px.made[2].n, 2);
	assert_int_equal(px.made[2].members[0], 0);
	assert_int_equal(px.made[2].members[1], 1);
	int64_t t = px.made[2].handle;
	assert_int_not_equal(t, 0);
	assert_int_not_equal(t, (int64_t)(intptr_t)i->handle);
	assert_int_equal(px.made[3].id, CALL_INTERCOMM_REBUILD);
	assert_int_equal(px.made[3].handle, t);
	assert_int_equal(px.made[3].n, 2);
	assert_int_equal(px.made[4].id, CALL_COMM_FREE);
	assert_int_equal(px.made[4].handle, t);
	assert_null(shim_handle_get(SHIM_K_COMM, (uintptr_t)t));
	assert_int_equal(i->unbuilt, 0);
	assert_int_equal(i->proxy_keeps, 1);
	let_go(i);
}

/* An answer cut inside an entry is refused, not read past its end. */
static void test_cut_short(void **state)
{
	static const int32_t x32[] = { 0, 1 };

	(void)state;
	reset();
	add_entry(20, 2, x32);
	px.reply_len -= 4;

	assert_int_equal(shim_comm_rebuild_held(NULL, 0), MPI_ERR_INTERN);
	assert_int_equal(px.gathers, 1);
	assert_int_equal(px.nmade, 0);
}

/* Before its free returns, the application's handle counts one: a
 * communicator whose free is under way is held only with a request. */
static void test_held_counts(void **state)
{
	static const int x_m[] = { 0, 1 };

	(void)state;
	struct shim_comm *c = shim_comm_reserve();
	assert_non_null(c);
	assert_int_equal(shim_comm_set(c, x_m, 2, 1, MPI_COMM_WORLD, CALL_COMM_DUP),
			 MPI_SUCCESS);
	assert_false(shim_comm_held_by_requests(c));
	assert_ptr_equal(shim_comm_hold(c->handle), c);
	assert_true(shim_comm_held_by_requests(c));
	shim_comm_unhold(c);
	shim_comm_free(c); /* released: no request held it */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_members),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_sends_too_many),
		cmocka_unit_test(test_intercomm),
		cmocka_unit_test(test_cut_short),
		cmocka_unit_test(test_held_counts),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
