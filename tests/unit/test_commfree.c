/*
 * test_commfree.c - unit tests of MPI_Comm_free with requests pending
 * on the communicator (shim/comm.c, shim/req.c).  MPI-4.1 7.4.3: the
 * handle becomes MPI_COMM_NULL at once, the pending operations complete
 * normally, and the communicator goes when nothing refers to it.
 *
 * A thread plays the proxy (fakepx.h): IRECV is taken, WAIT answers
 * with the error the test sets, COMM_FREE notes what it was asked.  The
 * communicators are records made here, as a constructor's reply would
 * make them.  Until 2026-11-27 the record and its handle went at
 * MPI_Comm_free, so the next communicator made took the same handle and
 * a pending request's error went to that one's handler.
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

static struct {
	int wait_err;            /* what WAIT answers */
	int frees, keeps;        /* COMM_FREE calls, and those with arg[1] set */
	int64_t last_freed;      /* arg[0] of the last COMM_FREE */
} px;

static int other_calls;      /* the user handler of the other communicator */

static void answer(struct chan_call *c)
{
	switch (c->id) {
	case CALL_IRECV:
		break;
	case CALL_WAIT:
		memset(&c->status, 0, sizeof(c->status));
		c->status.error = px.wait_err;
		c->err = px.wait_err;
		break;
	case CALL_COMM_FREE:
		px.frees++;
		px.keeps += c->arg[1] != 0;
		px.last_freed = c->arg[0];
		break;
	default:
		c->err = MPI_ERR_INTERN;
	}
}

FAKEPX_FIXTURES(16u << 20, ME, W, answer)

/* A dup of WORLD as its constructor would leave it (no global id: no
 * checkpoint gate). */
static MPI_Comm make_comm(void)
{
	static const int world[W] = { 0, 1 };
	struct shim_comm *c = shim_comm_reserve();

	assert_non_null(c);
	assert_int_equal(shim_comm_set(c, world, W, ME, MPI_COMM_WORLD, CALL_COMM_DUP),
			 MPI_SUCCESS);
	return c->handle;
}

static void on_other(MPI_Comm *comm, int *code, ...)
{
	(void)comm;
	(void)code;
	other_calls++;
}

/* The error of a receive pending on a freed communicator goes to that
 * communicator's handler (MPI_ERRORS_RETURN), not to the handler of a
 * communicator made after the free. */
static void test_error_reaches_freed(void **state)
{
	MPI_Comm a = make_comm(), n;
	MPI_Request r;
	MPI_Errhandler eh;
	int v;

	(void)state;
	memset(&px, 0, sizeof(px));
	other_calls = 0;
	MPI_Comm freed = a;
	assert_int_equal(MPI_Irecv(&v, 1, MPI_INT, 1, 5, a, &r), MPI_SUCCESS);
	assert_int_equal(MPI_Comm_free(&a), MPI_SUCCESS);
	assert_true(a == MPI_COMM_NULL);
	assert_null(shim_comm_get(freed));  /* no new operation through it */
	assert_int_equal(px.keeps, 1);      /* the proxy keeps the real one */
	n = make_comm();
	assert_true(n != freed);            /* its handle is not reused yet */
	assert_int_equal(MPI_Comm_create_errhandler(on_other, &eh), MPI_SUCCESS);
	assert_int_equal(MPI_Comm_set_errhandler(n, eh), MPI_SUCCESS);
	px.wait_err = MPI_ERR_TRUNCATE;
	assert_int_equal(MPI_Wait(&r, MPI_STATUS_IGNORE), MPI_ERR_TRUNCATE);
	assert_int_equal(other_calls, 0);
	assert_true(r == MPI_REQUEST_NULL);
	/* The last request is gone: the next constructor first has the
	 * proxy free the real one, then may take the handle again. */
	MPI_Comm m = make_comm();
	assert_int_equal(px.frees, 2);
	assert_true(px.last_freed == (int64_t)(intptr_t)freed);
	assert_true(m == freed);
	assert_int_equal(MPI_Comm_free(&m), MPI_SUCCESS);
	assert_int_equal(MPI_Comm_free(&n), MPI_SUCCESS);
	assert_int_equal(MPI_Errhandler_free(&eh), MPI_SUCCESS);
}

/* With nothing pending the free is immediate, as before: the proxy frees
 * the real one and the handle is free at once. */
static void test_free_idle(void **state)
{
	MPI_Comm a = make_comm();
	MPI_Comm was = a;

	(void)state;
	memset(&px, 0, sizeof(px));
	assert_int_equal(MPI_Comm_free(&a), MPI_SUCCESS);
	assert_int_equal(px.frees, 1);
	assert_int_equal(px.keeps, 0);
	MPI_Comm b = make_comm();
	assert_true(b == was);
	assert_int_equal(MPI_Comm_free(&b), MPI_SUCCESS);
}

/* A successful receive on a freed communicator: Wait completes it and
 * lets go of the record. */
static void test_success_releases(void **state)
{
	MPI_Comm a = make_comm();
	MPI_Comm was = a;
	MPI_Request r, r2 = MPI_REQUEST_NULL;
	int v;

	(void)state;
	memset(&px, 0, sizeof(px));
	assert_int_equal(MPI_Irecv(&v, 1, MPI_INT, 1, 5, a, &r), MPI_SUCCESS);
	assert_int_equal(MPI_Comm_free(&a), MPI_SUCCESS);
	assert_int_equal(MPI_Irecv(&v, 1, MPI_INT, 1, 5, was, &r2), MPI_ERR_COMM);
	assert_int_equal(MPI_Wait(&r, MPI_STATUS_IGNORE), MPI_SUCCESS);
	shim_comm_flush_retired();
	assert_int_equal(px.frees, 2);
	assert_null(shim_handle_get(SHIM_K_COMM, (uintptr_t)was));
}

/* A persistent request keeps the record too, and a point-to-point one,
 * buffered too, starts on it after the free, as natively (MPI-4.1
 * 7.4.3).  Freeing them lets go. */
static void test_persistent_after_free(void **state)
{
	MPI_Comm a = make_comm();
	MPI_Comm was = a;
	MPI_Request r, b, s;
	int v, w = 3;

	(void)state;
	memset(&px, 0, sizeof(px));
	assert_int_equal(MPI_Recv_init(&v, 1, MPI_INT, 1, 5, a, &r), MPI_SUCCESS);
	assert_int_equal(MPI_Bsend_init(&w, 1, MPI_INT, 1, 5, a, &b), MPI_SUCCESS);
	assert_int_equal(MPI_Send_init(&w, 1, MPI_INT, 1, 5, a, &s), MPI_SUCCESS);
	assert_int_equal(MPI_Comm_free(&a), MPI_SUCCESS);
	assert_int_equal(px.keeps, 1);
	struct shim_comm *rec = shim_handle_get(SHIM_K_COMM, (uintptr_t)was);
	assert_non_null(rec);
	assert_int_equal(MPI_Start(&r), MPI_SUCCESS);
	assert_int_equal(MPI_Wait(&r, MPI_STATUS_IGNORE), MPI_SUCCESS);
	/* The buffered one gets as far as the (empty) process buffer. */
	assert_int_equal(MPI_Start(&b), MPI_ERR_BUFFER);
	assert_int_equal(MPI_Request_free(&r), MPI_SUCCESS);
	assert_int_equal(MPI_Request_free(&b), MPI_SUCCESS);
	assert_int_equal(MPI_Request_free(&s), MPI_SUCCESS);
	shim_comm_flush_retired();
	assert_int_equal(px.frees, 2); /* the free that kept it, the flush's */
	assert_null(shim_handle_get(SHIM_K_COMM, (uintptr_t)was));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_reaches_freed),
		cmocka_unit_test(test_free_idle),
		cmocka_unit_test(test_success_releases),
		cmocka_unit_test(test_persistent_after_free),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
