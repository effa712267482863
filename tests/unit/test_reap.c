/*
 * test_reap.c - unit tests of requests freed while active
 * (MPI_Request_free, shim/req.c): the proxy still owns them, so their
 * records and staged payloads must stay until it reports them done, and
 * then go, or a loop of Isend and Request_free fills the handle table
 * and the arena.
 *
 * A thread plays the proxy (fakepx.h): ISEND remembers the payload
 * staged for each request; TEST answers done or not as the test says,
 * WAIT always done; both check that the request's payload is still
 * intact in the arena, which it is not if the shim freed the block (and
 * a later send reused it) early.
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

#define W 2
#define ME 0
#define MAXREQ 4096

/* The fake proxy's view: per request index, where its payload is and
 * what it held at ISEND. */
static struct {
	int64_t base[MAXREQ];
	int value[MAXREQ];
	int busy;                /* TEST answers "not done" */
	int tests, waits;
	int corrupt;             /* a payload changed before it was done */
} px;

static void check_payload(int64_t h)
{
	uint32_t i = SHIM_H_INDEX(h);
	int v;

	memcpy(&v, chan_arena_ptr(&fakepx_ch, (uint64_t)px.base[i]), sizeof(v));
	if (v != px.value[i])
		px.corrupt++;
}

static void answer(struct chan_call *c)
{
	switch (c->id) {
	case CALL_ISEND: {
		uint32_t i = SHIM_H_INDEX(c->arg[7]);
		if (i >= MAXREQ) {
			c->err = MPI_ERR_INTERN;
			break;
		}
		px.base[i] = c->arg[0];
		memcpy(&px.value[i], chan_arena_ptr(&fakepx_ch, (uint64_t)c->arg[0]), sizeof(int));
		break;
	}
	case CALL_TEST:
		px.tests++;
		check_payload(c->arg[0]);
		c->arg[1] = !px.busy;
		break;
	case CALL_WAIT:
		px.waits++;
		check_payload(c->arg[0]);
		break;
	default:
		c->err = MPI_ERR_INTERN;
	}
}

FAKEPX_FIXTURES(16u << 20, ME, W, answer)

static void count_one(uintptr_t h, void *obj, void *arg)
{
	(void)h;
	(void)obj;
	(*(int *)arg)++;
}

static int live_requests(void)
{
	int n = 0;

	shim_handle_each(SHIM_K_REQ, count_one, &n);
	return n;
}

/* n sends of distinct values, each freed at once. */
static void send_and_free(int n, int first)
{
	for (int i = 0; i < n; i++) {
		int v = first + i;
		MPI_Request r;
		assert_int_equal(MPI_Isend(&v, 1, MPI_INT, 1, 0, MPI_COMM_WORLD, &r),
				 MPI_SUCCESS);
		assert_int_equal(MPI_Request_free(&r), MPI_SUCCESS);
		assert_true(r == MPI_REQUEST_NULL);
	}
}

/* Done in the proxy: the records go along the way, not only at the end. */
static void test_done_are_reaped(void **state)
{
	(void)state;
	memset(&px, 0, sizeof(px));
	send_and_free(1000, 0);
	assert_true(live_requests() < 64);
	assert_true(px.tests < 2000);
	shim_req_reap(1);
	assert_int_equal(live_requests(), 0);
	assert_int_equal(shim.arena.used, 0);
	assert_int_equal(px.corrupt, 0);
}

/* Still busy in the proxy: every record and payload stays, intact, and
 * the proxy is asked about them O(1) times per request; the final reap
 * waits for each. */
static void test_busy_are_kept(void **state)
{
	(void)state;
	memset(&px, 0, sizeof(px));
	px.busy = 1;
	send_and_free(200, 5000);
	assert_int_equal(live_requests(), 200);
	assert_true(shim.arena.used > 0);
	assert_true(px.tests > 0 && px.tests < 3 * 200);
	assert_int_equal(px.waits, 0);
	shim_req_reap(1);
	assert_int_equal(px.waits, 200);
	assert_int_equal(live_requests(), 0);
	assert_int_equal(shim.arena.used, 0);
	assert_int_equal(px.corrupt, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_done_are_reaped),
		cmocka_unit_test(test_busy_are_kept),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
