/*
 * px_test_neighbor.c - a Cartesian neighbourhood exchange of the proxy
 * (proxy/neighbor.c) that fails part-way leaves nothing behind, and
 * px_take_back (proxy/progress.c), which it uses; a nonblocking one is
 * kept under its request and completed by the completion calls; work
 * kept with a poll function (px_icoll_track) is stepped by a test of any
 * request and by the wait loops (px_icoll_step); built and run once per
 * MPI, as a singleton.
 *
 * The communicator is a periodic dimension of one process, so both
 * neighbours are this process and the blocks go to itself.  A call whose
 * second receive count is negative has posted its first receive when the
 * second start fails.  Left posted, that receive would take the next
 * exchange's message of its tag and the next call would wait forever:
 * alarm() ends the binary then, which the unit runner counts as a
 * failure.  Expected blocks follow from MPI_Neighbor_alltoallv's
 * definition: block k arrives from neighbour k, which sent it as its
 * block k ^ 1.  The stepped work is a generalized request that a poll
 * function completes at its third call; a wait that did not step it
 * would wait forever (alarm again).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "chan/coll.h"
#include "proxy/px.h"

struct px_state px;

#define ARENA (1u << 20)
#define SENTINEL (-5)
#define CART_ABI ((1 << 24) | 77)
#define NB_IN COLL_NARGS
#define NB_OUT (COLL_NARGS + 1)
#define WATCHDOG_S 60
#define REQ_ABI(i) ((3 << 24) | (i)) /* request handles (proxy/table.c) */
#define POLLS_TO_END 3

static MPI_Comm cart;
static struct chan_call call;

/* An int array of the arena at byte off. */
static int *arena_ints(int64_t off)
{
	return (int *)(void *)(px.ch.arena + off);
}

/* Fill call as the shim does for a blocking MPI_Neighbor_alltoallv of
 * two MPI_INT blocks each way: send blocks at sbuf, receive blocks at
 * rbuf, receive counts rc0 and rc1. */
static void alltoallv_call(int64_t sbuf, int64_t rbuf, int rc0, int rc1)
{
	const int32_t arrays[8] = { 1, 1, 0, 1, rc0, rc1, 0, 1 };

	memset(&call, 0, sizeof(call));
	call.id = CALL_NEIGHBOR_ALLTOALLV;
	call.arg[COLL_COMM] = CART_ABI;
	call.arg[COLL_SBUF] = sbuf;
	call.arg[COLL_STYPE] = ABI_INT;
	call.arg[COLL_RBUF] = rbuf;
	call.arg[COLL_RTYPE] = ABI_INT;
	call.arg[COLL_ARRAYS] = CHAN_OFF_NONE;
	call.arg[NB_IN] = 2;
	call.arg[NB_OUT] = 2;
	memcpy(call.inl, arrays, sizeof(arrays));
	call.inl_len = sizeof(arrays);
}

static void test_failed_exchange_leaves_nothing(void **state)
{
	int *s = arena_ints(0), *failed = arena_ints(64), *r = arena_ints(128);

	(void)state;
	s[0] = 11;
	s[1] = 22;
	failed[0] = failed[1] = r[0] = r[1] = SENTINEL;
	alltoallv_call(0, 64, 1, -1);
	px_call_NEIGHBOR_ALLTOALLV(&call);
	assert_int_not_equal(call.err, 0);

	alltoallv_call(0, 128, 1, 1);
	px_call_NEIGHBOR_ALLTOALLV(&call);
	assert_int_equal(call.err, 0);
	assert_int_equal(r[0], s[1]);
	assert_int_equal(r[1], s[0]);
	assert_int_equal(failed[0], SENTINEL);
	assert_int_equal(failed[1], SENTINEL);
}

static void test_nonblocking_exchange_kept_until_wait(void **state)
{
	int *s = arena_ints(256), *r = arena_ints(320);

	(void)state;
	s[0] = 33;
	s[1] = 44;
	r[0] = r[1] = SENTINEL;
	alltoallv_call(256, 320, 1, 1);
	call.arg[COLL_REQ] = REQ_ABI(1);
	px_call_NEIGHBOR_ALLTOALLV(&call);
	assert_int_equal(call.err, 0);
	assert_true(*px_req_slot(REQ_ABI(1)) != MPI_REQUEST_NULL);
	memset(&call, 0, sizeof(call));
	call.id = CALL_WAIT;
	call.arg[0] = REQ_ABI(1);
	px_call_WAIT(&call);
	assert_int_equal(call.err, 0);
	assert_true(*px_req_slot(REQ_ABI(1)) == MPI_REQUEST_NULL);
	assert_int_equal(r[0], s[1]);
	assert_int_equal(r[1], s[0]);
	assert_int_equal(px_icoll_incomplete(), 0);
}

/* Stepped work: a generalized request under handle stepped_req that
 * ends at the POLLS_TO_END-th step. */
static int64_t stepped_req;
static int polls;

static int greq_query(void *extra, MPI_Status *st)
{
	(void)extra;
	MPI_Status_set_elements(st, MPI_BYTE, 0);
	MPI_Status_set_cancelled(st, 0);
	return MPI_SUCCESS;
}

static void stepped_poll(void *keep)
{
	(void)keep;
	if (++polls == POLLS_TO_END)
		MPI_Grequest_complete(*px_req_slot(stepped_req));
}

static void start_stepped(int64_t req)
{
	stepped_req = req;
	polls = 0;
	assert_int_equal(MPI_Grequest_start(greq_query, px_greq_free_nothing,
					    px_greq_cancel_nothing, NULL, px_req_slot(req)),
			 MPI_SUCCESS);
	assert_int_equal(px_icoll_track(req, NULL, stepped_poll), MPI_SUCCESS);
}

static void test_wait_steps_kept_work(void **state)
{
	(void)state;
	start_stepped(REQ_ABI(2));
	memset(&call, 0, sizeof(call));
	call.id = CALL_WAIT;
	call.arg[0] = REQ_ABI(2);
	px_call_WAIT(&call);
	assert_int_equal(call.err, 0);
	assert_int_equal(polls, POLLS_TO_END);
	assert_true(*px_req_slot(REQ_ABI(2)) == MPI_REQUEST_NULL);
}

/* A test of another request steps it too; Waitall's loop ends it. */
static void test_any_test_and_waitall_step_kept_work(void **state)
{
	const int64_t h = REQ_ABI(3);

	(void)state;
	start_stepped(h);
	memset(&call, 0, sizeof(call));
	call.id = CALL_TEST;
	call.arg[0] = REQ_ABI(4); /* no request there: complete at once */
	px_call_TEST(&call);
	assert_int_equal(call.arg[1], 1);
	assert_int_equal(polls, 1);
	memset(&call, 0, sizeof(call));
	call.id = CALL_WAITALL;
	call.arg[0] = 1;
	call.arg[1] = CHAN_OFF_NONE;
	memcpy(call.inl, &h, sizeof(h));
	px_call_WAITALL(&call);
	assert_int_equal(call.err, 0);
	assert_int_equal(polls, POLLS_TO_END);
	assert_true(*px_req_slot(h) == MPI_REQUEST_NULL);
}

/* A receive taken back is gone: the message it would have matched goes
 * to the receive posted after it. */
static void test_take_back_recv(void **state)
{
	MPI_Comm self;
	MPI_Request r[2] = { MPI_REQUEST_NULL, MPI_REQUEST_NULL }, s;
	int old = SENTINEL, now = SENTINEL, v = 42;

	(void)state;
	assert_int_equal(MPI_Comm_dup(MPI_COMM_SELF, &self), MPI_SUCCESS);
	assert_int_equal(MPI_Irecv(&old, 1, MPI_INT, 0, 3, self, &r[1]), MPI_SUCCESS);
	px_take_back(2, r, 0);
	assert_true(r[0] == MPI_REQUEST_NULL && r[1] == MPI_REQUEST_NULL);
	assert_int_equal(MPI_Irecv(&now, 1, MPI_INT, 0, 3, self, &r[0]), MPI_SUCCESS);
	assert_int_equal(MPI_Isend(&v, 1, MPI_INT, 0, 3, self, &s), MPI_SUCCESS);
	assert_int_equal(px_wait_quiet(&r[0], MPI_STATUS_IGNORE), MPI_SUCCESS);
	assert_int_equal(px_wait_quiet(&s, MPI_STATUS_IGNORE), MPI_SUCCESS);
	assert_int_equal(now, v);
	assert_int_equal(old, SENTINEL);
	MPI_Comm_free(&self);
}

/* A send taken back without a receiver is either cancelled or delivered
 * whole later, never half; its handle is freed at once. */
static void test_take_back_send(void **state)
{
	MPI_Comm self;
	MPI_Request s;
	MPI_Status st;
	int v = 7, got = SENTINEL, flag = 0;

	(void)state;
	assert_int_equal(MPI_Comm_dup(MPI_COMM_SELF, &self), MPI_SUCCESS);
	assert_int_equal(MPI_Isend(&v, 1, MPI_INT, 0, 4, self, &s), MPI_SUCCESS);
	px_take_back(1, &s, 1);
	assert_true(s == MPI_REQUEST_NULL);
	assert_int_equal(MPI_Iprobe(0, 4, self, &flag, &st), MPI_SUCCESS);
	if (flag) {
		assert_int_equal(MPI_Recv(&got, 1, MPI_INT, 0, 4, self, MPI_STATUS_IGNORE),
				 MPI_SUCCESS);
		assert_int_equal(got, v);
	}
	MPI_Comm_free(&self);
}

static int setup(void **state)
{
	int dims = 1, periods = 1;
	int fd = chan_create(ARENA);

	(void)state;
	alarm(WATCHDOG_S);
	px_xlate_init();
	if (fd < 0 || chan_attach(&px.ch, fd) < 0 || MPI_Init(NULL, NULL) != MPI_SUCCESS)
		return -1;
	MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
	if (MPI_Cart_create(MPI_COMM_SELF, 1, &dims, &periods, 0, &cart) != MPI_SUCCESS)
		return -1;
	MPI_Comm_set_errhandler(cart, MPI_ERRORS_RETURN);
	px_comm_set(CART_ABI, cart);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	px_neighbor_forget(CART_ABI);
	MPI_Comm_free(&cart);
	return MPI_Finalize() == MPI_SUCCESS ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_exchange_leaves_nothing),
		cmocka_unit_test(test_nonblocking_exchange_kept_until_wait),
		cmocka_unit_test(test_wait_steps_kept_work),
		cmocka_unit_test(test_any_test_and_waitall_step_kept_work),
		cmocka_unit_test(test_take_back_recv),
		cmocka_unit_test(test_take_back_send),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
