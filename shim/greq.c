/*
 * greq.c - generalized requests (MPI_Grequest_start/complete).
 *
 * A generalized request is the application's own operation wearing an
 * MPI_Request, so it lives in the app only: a request record (shim/req.c)
 * that the proxy never hears of, completed in the app by
 * MPI_Grequest_complete (shim_req_done_locally).  Its callbacks are the
 * application's functions and run here, as MPI says: query_fn when a
 * completion call is about to report the request's status, free_fn when
 * the record goes, cancel_fn from MPI_Cancel.
 *
 * MPI_Wait and MPI_Test on one request wait for (or test) the
 * MPI_Grequest_complete of another thread.  The calls on arrays of
 * requests complete the finished ones in the app and pass the others to
 * the proxy, leaving out generalized requests still running; Waitall,
 * Waitany and Waitsome with one of those poll (shim/mtwait.c) until it
 * or another completes.
 * At a checkpoint the record is application memory like the state it
 * describes.
 *
 * The shim's own operations made of several requests (a reduction in
 * chunks, shim/redbig.c) wear one too, with a poll function instead of
 * the application's callbacks: every completion call first polls those
 * among its requests (shim_greq_drive, before it takes the call slot,
 * since a poll makes calls of its own), and the ones found done are
 * completed locally like any other.
 */
#include "shim.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct shim_greq {
	MPI_Grequest_query_function *query;
	MPI_Grequest_free_function *free;
	MPI_Grequest_cancel_function *cancel;
	void *extra;
	int queried;
	shim_greq_poll_fn *poll;   /* the shim's own: no query_fn, no cancel_fn */
};

/* Polled records alive: completion calls skip the drive when none is. */
static _Atomic int polled;

int PMPI_Grequest_start(MPI_Grequest_query_function *query_fn,
			MPI_Grequest_free_function *free_fn,
			MPI_Grequest_cancel_function *cancel_fn, void *extra_state,
			MPI_Request *request)
{
	static const char fn[] = "MPI_Grequest_start";

	if (!query_fn || !free_fn || !cancel_fn || !request)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "NULL argument");
	struct shim_greq *g = malloc(sizeof(*g));
	/* No payload crosses the channel: a send record with nothing staged. */
	struct shim_req *r = g ? shim_req_new(SHIM_REQ_SEND, MPI_COMM_WORLD) : NULL;
	if (!r) {
		free(g);
		return shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, "no memory for a request");
	}
	*g = (struct shim_greq){ query_fn, free_fn, cancel_fn, extra_state, 0, NULL };
	r->greq = g;
	*request = r->handle;
	return MPI_SUCCESS;
}
SHIM_WEAK(Grequest_start)

int shim_greq_start_polled(shim_greq_poll_fn *poll, MPI_Grequest_free_function *free_fn,
			   void *extra, MPI_Comm comm, MPI_Request *request)
{
	struct shim_greq *g = malloc(sizeof(*g));
	struct shim_req *r = g ? shim_req_new(SHIM_REQ_SEND, comm) : NULL;

	if (!r) {
		free(g);
		return MPI_ERR_NO_MEM;
	}
	/* Queried already: there is no query_fn, the poll gives the status. */
	*g = (struct shim_greq){ NULL, free_fn, NULL, extra, 1, poll };
	r->greq = g;
	atomic_fetch_add(&polled, 1);
	*request = r->handle;
	return MPI_SUCCESS;
}

void shim_greq_drive(int count, const MPI_Request *reqs, int wait)
{
	struct chan_status st;

	if (!atomic_load(&polled))
		return;
	for (int i = 0; i < count; i++) {
		struct shim_req *r = reqs[i] == MPI_REQUEST_NULL ? NULL : shim_req_get(reqs[i]);
		if (!r || !r->greq || !r->greq->poll || r->local_done)
			continue;
		if (r->greq->poll(r->greq->extra, wait, &st))
			shim_req_done_locally(r, &st);
	}
}

int PMPI_Grequest_complete(MPI_Request request)
{
	struct shim_req *r = shim_req_get(request);

	if (!r || !r->greq)
		return shim_error(SHIM_NOCOMM, MPI_ERR_REQUEST, "MPI_Grequest_complete",
				  "not a generalized request");
	if (r->local_done)
		return shim_error(SHIM_NOCOMM, MPI_ERR_REQUEST, "MPI_Grequest_complete",
				  "completed already");
	struct chan_status st;
	memset(&st, 0, sizeof(st));
	st.source = MPI_ANY_SOURCE;
	st.tag = MPI_ANY_TAG;
	shim_req_done_locally(r, &st);
	return MPI_SUCCESS;
}
SHIM_WEAK(Grequest_complete)

void shim_greq_query(struct shim_req *r)
{
	struct shim_greq *g = r->greq;
	MPI_Status st;

	if (g->queried)
		return;
	g->queried = 1;
	memcpy(&st, &r->local_st, sizeof(st));
	int err = g->query(g->extra, &st);
	memcpy(&r->local_st, &st, sizeof(st));
	r->local_st.error = err ? err : st.MPI_ERROR;
}

void shim_greq_free(struct shim_req *r)
{
	struct shim_greq *g = r->greq;

	g->free(g->extra);
	if (g->poll)
		atomic_fetch_sub(&polled, 1);
	free(g);
	r->greq = NULL;
}

int shim_greq_cancel(struct shim_req *r)
{
	struct shim_greq *g = r->greq;

	/* The shim's own are collectives, which MPI_Cancel leaves alone. */
	if (!g->cancel)
		return MPI_SUCCESS;
	int err = g->cancel(g->extra, r->local_done);

	return err ? shim_error(SHIM_NOCOMM, err, "MPI_Cancel", "cancel_fn failed") : MPI_SUCCESS;
}
