/*
 * icoll.c - nonblocking collectives, proxy side (issued by shim/icoll.c).
 *
 *   ICOLL  the slots of the blocking twin (chan/coll.h), plus COLL_ID, the
 *          twin's call id, and COLL_REQ, the request's handle.
 *
 * The collective is started (px_coll_start, proxy/coll.c) into the
 * request's table slot and the call is answered at once: the application
 * completes it with Wait/Test like any request (proxy/req.c), and the
 * real MPI progresses it meanwhile whenever the proxy calls into MPI.
 * What the real MPI reads until completion besides the staged arena block
 * (count and displacement arrays, Alltoallw's datatypes) is kept here,
 * per request, and freed when a completion call sees it finish
 * (px_icoll_done).  A blocking collective the shim detaches under
 * MPI_THREAD_MULTIPLE (COLL_DETACH, proxy/coll.c) and a nonblocking
 * neighbourhood collective (proxy/neighbor.c, px_icoll_track) are kept
 * the same way.  One kept with a poll function is work the real MPI does
 * not finish alone (a Cartesian exchange of ours, whose request is a
 * generalized one): all such are stepped together (px_icoll_step) before
 * every test call, between the tests of every proxy wait loop, and at
 * each count of the incomplete ones, so whichever call the application
 * completes requests with, or blocks in, moves them on, as the real
 * MPI's own progress moves its collectives.
 *
 * At a checkpoint a pending collective is never cancelled: every member
 * has started it (the shim admits it like a blocking one), so DRAIN
 * reports how many are still incomplete (px_icoll_incomplete) and the
 * application keeps draining until that is zero (shim/ckpt.c).
 */
#include "px.h"

#include <stdlib.h>

#include "chan/coll.h"

struct icoll {
	int64_t req;            /* request handle (ABI) */
	void *keep;             /* arrays the real MPI reads, or NULL */
	void (*poll)(void *keep); /* steps what completes it, or NULL */
	struct icoll *next;
};

static struct icoll *pending;
static int polled;              /* entries of pending with a poll function */

int px_icoll_start(struct chan_call *c, int64_t id, int64_t req)
{
	struct icoll *k = malloc(sizeof(*k));

	if (!k)
		return MPI_ERR_NO_MEM;
	k->req = req;
	int rc = px_coll_start(c, id, px_req_slot(req), &k->keep);
	if (rc != MPI_SUCCESS) {
		free(k);
		return rc;
	}
	px_req_mark(req, PX_REQ_COLL);
	k->poll = NULL;
	k->next = pending;
	pending = k;
	return MPI_SUCCESS;
}

int px_icoll_track(int64_t req, void *keep, void (*poll)(void *keep))
{
	struct icoll *k = malloc(sizeof(*k));

	if (!k) {
		free(keep);
		return MPI_ERR_NO_MEM;
	}
	*k = (struct icoll){ req, keep, poll, pending };
	pending = k;
	polled += poll != NULL;
	px_req_mark(req, PX_REQ_COLL);
	return MPI_SUCCESS;
}

void px_call_ICOLL(struct chan_call *c)
{
	px_reply(c, px_icoll_start(c, c->arg[COLL_ID], c->arg[COLL_REQ]));
}

DM_HOT void px_icoll_step(void)
{
	if (!polled)
		return;
	for (struct icoll *k = pending; k; k = k->next)
		if (k->poll)
			k->poll(k->keep);
}

void px_icoll_done(int64_t req)
{
	for (struct icoll **pp = &pending; *pp; pp = &(*pp)->next) {
		struct icoll *k = *pp;
		if (k->req != req)
			continue;
		*pp = k->next;
		polled -= k->poll != NULL;
		free(k->keep);
		free(k);
		return;
	}
}

int64_t px_icoll_incomplete(void)
{
	int64_t n = 0;

	px_icoll_step();
	for (struct icoll *k = pending; k; k = k->next) {
		MPI_Request r = *px_req_slot(k->req);
		int flag = 1;
		if (r != MPI_REQUEST_NULL)
			MPI_Request_get_status(r, &flag, MPI_STATUS_IGNORE);
		n += !flag;
	}
	return n;
}
