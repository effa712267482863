/*
 * ring.c - the proxy's side of the post ring (chan/chan.h, "The post
 * ring"): reply-less ISENDs and IRECVs the application published.
 *
 * Previous hop: shim_p2p_post_send/recv (shim/p2p.c) through
 * chan_ring_publish.  Next hop: px_ring_post (proxy/p2p.c).
 *
 * The loop (proxy/loop.c) takes every entry when it wakes for one, before
 * it serves a call and before a control request, so a call or a
 * checkpoint step never overtakes a post made before it.  The progress
 * loops of blocking calls do not look at the ring: below
 * MPI_THREAD_MULTIPLE the only application thread that may call MPI is
 * inside that call, so nothing is published meanwhile (and a post taken
 * there could move the request table under the call's feet).
 *
 * A post that fails has no reply to carry its error, so its request
 * becomes one that is complete with that error: a generalized request,
 * whose query returns the code, completed at once.  MPI itself then
 * reports the error from Wait, Test, Waitall... (MPI_ERR_IN_STATUS with
 * the code in the status), as it would have reported an error found at
 * completion.
 */
#include "px.h"

static int failed_query(void *extra, MPI_Status *st)
{
	MPI_Status_set_elements(st, MPI_BYTE, 0);
	MPI_Status_set_cancelled(st, 0);
	st->MPI_SOURCE = MPI_ANY_SOURCE;
	st->MPI_TAG = MPI_ANY_TAG;
	return (int)(intptr_t)extra;
}

int px_greq_free_nothing(void *extra)
{
	(void)extra;
	return MPI_SUCCESS;
}

int px_greq_cancel_nothing(void *extra, int complete)
{
	(void)extra;
	(void)complete;
	return MPI_SUCCESS;
}

void px_req_fail(int64_t h, int code)
{
	MPI_Request *r = px_req_slot(h);

	px_req_mark(h, PX_REQ_OTHER);
	if (MPI_Grequest_start(failed_query, px_greq_free_nothing, px_greq_cancel_nothing,
			       (void *)(intptr_t)code, r) == MPI_SUCCESS)
		MPI_Grequest_complete(*r);
}

DM_HOT void px_ring_take(void)
{
	struct chan_ring_post p;

	while (chan_ring_next(&px.ch, &p))
		px_ring_post(&p);
}
