/*
 * px_test_ssend.c - the proxy's half of synchronous sends at a
 * checkpoint (proxy/ssend.c): which sends PARK takes, the count of later
 * sends to the same (destination, communicator, tag) it reports with
 * each, that their real requests are freed only at the first DRAIN (at
 * once by a PARK after it) and given back by a RESUME without one; built
 * and run once per MPI, as a singleton.
 *
 * Sends go to this process itself on MPI_COMM_WORLD through the real
 * ISEND handler (proxy/p2p.c), so they are started, marked and counted
 * as the application's are; an Issend to oneself stays incomplete until
 * it is received.  The model: a send's count is the number of sends to
 * its (dest, comm, tag) started after it, whatever their mode; a
 * synchronous send that a receive matched before PARK, or whose request
 * completed (its handle maybe reused), is not reported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "proxy/px.h"

struct px_state px;

#define ARENA (1u << 20)
#define WATCHDOG_S 60
#define REQ_ABI(i) ((3 << 24) | (i)) /* request handles (proxy/table.c) */
enum { STANDARD = 0, SYNC = 1 };

static struct chan_call call;
static struct chan_ctl ctl;

/* ISEND of one int (arena offset 0) to myself, as request h. */
static void isend(int h, int mode, int tag)
{
	memset(&call, 0, sizeof(call));
	call.id = CALL_ISEND;
	call.arg[0] = 0;
	call.arg[1] = 1;
	call.arg[2] = ABI_INT;
	call.arg[3] = 0;
	call.arg[4] = tag;
	call.arg[5] = ABI_COMM_WORLD;
	call.arg[6] = mode;
	call.arg[7] = REQ_ABI(h);
	px_call_ISEND(&call);
	assert_int_equal(call.err, 0);
}

/* Receive n messages of tag (what the sends left in flight). */
static void take(int n, int tag)
{
	int v;

	for (int i = 0; i < n; i++)
		assert_int_equal(MPI_Recv(&v, 1, MPI_INT, 0, tag, MPI_COMM_WORLD,
					  MPI_STATUS_IGNORE), MPI_SUCCESS);
}

/* Complete request h if the proxy still has it (not done at its post). */
static void wait_for(int h)
{
	if (px_req_kind(REQ_ABI(h)) == PX_REQ_OTHER)
		return;
	memset(&call, 0, sizeof(call));
	call.arg[0] = REQ_ABI(h);
	px_call_WAIT(&call);
	assert_int_equal(call.err, 0);
}

static void park(void)
{
	memset(&ctl, 0, sizeof(ctl));
	px_ssend_park(&ctl);
}

static void expect_parked(int i, int h, int tag, int64_t later)
{
	const struct chan_parked *p = &ctl.parked[i];

	assert_int_equal(p->handle, REQ_ABI(h));
	assert_int_equal(p->state, CHAN_PARKED_SSEND);
	assert_int_equal(p->status.source, 0);
	assert_int_equal(p->status.tag, tag);
	assert_int_equal(p->later, later);
}

/* PARK took request h and holds it until the first DRAIN. */
static void expect_held(int h)
{
	assert_true(*px_req_slot(REQ_ABI(h)) != MPI_REQUEST_NULL);
	assert_int_equal(px_req_kind(REQ_ABI(h)), PX_REQ_SEND);
}

/* Request h was freed: its message goes on alone. */
static void expect_let_go(int h)
{
	assert_true(*px_req_slot(REQ_ABI(h)) == MPI_REQUEST_NULL);
	assert_int_equal(px_req_kind(REQ_ABI(h)), PX_REQ_OTHER);
}

static void test_later_sends_counted_per_key(void **state)
{
	(void)state;
	assert_int_equal(px_ssend_n, 0);
	isend(1, SYNC, 5);
	isend(2, STANDARD, 5);
	isend(3, STANDARD, 6); /* another tag */
	isend(4, SYNC, 5);
	isend(5, SYNC, 6);
	park();
	assert_int_equal(ctl.n, 3);
	expect_parked(0, 1, 5, 2);
	expect_parked(1, 4, 5, 0);
	expect_parked(2, 5, 6, 0);
	assert_int_equal(px_ssend_n, 0);
	expect_held(1);
	expect_held(4);
	expect_held(5);
	park(); /* taken once */
	assert_int_equal(ctl.n, 0);
	px_ssend_let_go();
	expect_let_go(1);
	expect_let_go(4);
	expect_let_go(5);
	take(3, 5);
	take(2, 6);
	wait_for(2);
	wait_for(3);
	px_ssend_resume();
}

/* A receive matched it before PARK: its own Wait completes it. */
static void test_matched_not_taken(void **state)
{
	MPI_Request r;
	int v;

	(void)state;
	assert_int_equal(MPI_Irecv(&v, 1, MPI_INT, 0, 7, MPI_COMM_WORLD, &r), MPI_SUCCESS);
	isend(6, SYNC, 7);
	assert_int_equal(MPI_Wait(&r, MPI_STATUS_IGNORE), MPI_SUCCESS);
	park();
	assert_int_equal(ctl.n, 0);
	wait_for(6);
	assert_int_equal(px_ssend_n, 0);
}

/* Completed by its Wait and the handle reused for a standard send: not
 * the send that was tracked. */
static void test_completed_and_reused_forgotten(void **state)
{
	(void)state;
	isend(7, SYNC, 8);
	take(1, 8);
	wait_for(7);
	isend(7, STANDARD, 8);
	park();
	assert_int_equal(ctl.n, 0);
	assert_int_equal(px_ssend_n, 0);
	take(1, 8);
	wait_for(7);
}

/* A full reply: MORE, and the send is reported by the next PARK. */
static void test_full_reply(void **state)
{
	(void)state;
	isend(8, SYNC, 10);
	memset(&ctl, 0, sizeof(ctl));
	ctl.n = CHAN_CTL_MAX;
	px_ssend_park(&ctl);
	assert_int_equal(ctl.n, CHAN_CTL_MAX);
	assert_int_equal(ctl.arg[CTL_ARG_MORE], 1);
	isend(9, STANDARD, 10);
	park();
	assert_int_equal(ctl.n, 1);
	expect_parked(0, 8, 10, 1);
	px_ssend_let_go();
	expect_let_go(8);
	take(2, 10);
	wait_for(9);
	px_ssend_resume();
}

/* RESUME without a DRAIN: the send is back, tracked with its later
 * sends, and the next PARK takes it again. */
static void test_resume_gives_back(void **state)
{
	(void)state;
	isend(10, SYNC, 11);
	park();
	assert_int_equal(ctl.n, 1);
	expect_parked(0, 10, 11, 0);
	px_ssend_resume();
	assert_int_equal(px_ssend_n, 1);
	expect_held(10);
	isend(11, STANDARD, 11);
	park();
	assert_int_equal(ctl.n, 1);
	expect_parked(0, 10, 11, 1);
	px_ssend_let_go();
	expect_let_go(10);
	take(2, 11);
	wait_for(11);
	px_ssend_resume();
	assert_int_equal(px_ssend_n, 0);
}

/* A PARK after this checkpoint's first DRAIN (a send that passed the
 * gate just before PARK) lets go at once. */
static void test_park_after_drain(void **state)
{
	(void)state;
	px_ssend_let_go();
	isend(12, SYNC, 12);
	park();
	assert_int_equal(ctl.n, 1);
	expect_parked(0, 12, 12, 0);
	expect_let_go(12);
	take(1, 12);
	px_ssend_resume();
}

static int setup(void **state)
{
	int fd = chan_create(ARENA);

	(void)state;
	alarm(WATCHDOG_S);
	px_xlate_init();
	if (fd < 0 || chan_attach(&px.ch, fd) < 0 || MPI_Init(NULL, NULL) != MPI_SUCCESS)
		return -1;
	px.initialized = 1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return MPI_Finalize() == MPI_SUCCESS ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_later_sends_counted_per_key),
		cmocka_unit_test(test_matched_not_taken),
		cmocka_unit_test(test_completed_and_reused_forgotten),
		cmocka_unit_test(test_full_reply),
		cmocka_unit_test(test_resume_gives_back),
		cmocka_unit_test(test_park_after_drain),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
