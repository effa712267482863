/*
 * loop.c - the proxy's request loop.
 *
 * Previous hop: shim_call_run (shim/call.c) posted a call.  Next hop: the
 * handler for its id in proxy/<family>.c, then back through chan_post.
 * The loop ends when the launcher marks the application gone: exit 0
 * after MPI_Finalize, MPI_Abort before it.  A finalized proxy stays until
 * then, because a checkpoint may still come (the application runs on
 * after MPI_Finalize) and its control requests need an answer; with the
 * proxy gone, PARK waited for ever.
 *
 * Idle, it sleeps on the channel's doorbell (chan_wait_request), so a
 * checkpoint's control request (proxy/ckpt.c) or a post on the ring
 * (proxy/ring.c) wakes it as a call does; the ring is emptied before
 * anything else is served.
 * While parked for a checkpoint it polls instead, and keeps MPI
 * progressing between looks: a peer draining a large message this rank
 * sent may need this side to call MPI (transports that copy through
 * shared buffers do), and every other rank is parked too.
 */
#include "px.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "util/exitcode.h"
#include "util/log.h"

static px_handler *const handlers[CALL_COUNT] = {
#define PX_ENTRY(name) [CALL_##name] = px_call_##name,
	CHAN_CALLS(PX_ENTRY)
#undef PX_ENTRY
};

static void dispatch(struct chan_call *c)
{
	if (c->id >= CALL_COUNT) {
		dm_err("rank %d: proxy got unknown call id %u", px.world_rank, c->id);
		c->err = ABI_ERR_INTERN;
		return;
	}
	handlers[c->id](c);
}

#define PX_PARKED_POLL_NS 200000 /* between two looks while parked */

/* chan_wait_request, made of looks and MPI progress while parked. */
static int next_request(uint32_t seen)
{
	const struct timespec nap = { 0, PX_PARKED_POLL_NS };
	struct chan_hdr *h = px.ch.hdr;

	while (px.parked) {
		if (chan_ring_waiting(&px.ch))
			return CHAN_POSTS;
		if (chan_seq(&px.ch, CHAN_REQ) != seen)
			return CHAN_REQ;
		if (chan_seq(&px.ch, CHAN_CTL_REQ) != px.ctl_seen)
			return CHAN_CTL_REQ;
		if (atomic_load(&h->state) != CHAN_UP)
			return -1;
		px_parked_progress();
		nanosleep(&nap, NULL);
	}
	return chan_wait_request(&px.ch, seen, px.ctl_seen);
}

DM_HOT _Noreturn void px_serve(void)
{
	/* A fresh channel starts at 0; the application may have posted its
	 * first call before we got here, so don't read the current value. */
	uint32_t seen = 0;
	struct chan_call *c = &px.ch.hdr->call;

	px.busy = -1;
	for (;;) {
		int which = next_request(seen);
		if (which < 0)
			px_app_gone();
		/* Posts published before the request we saw come first. */
		px_ring_take();
		if (which == CHAN_POSTS)
			continue;
		if (which == CHAN_CTL_REQ) {
			px_ctl_poll(0);
			continue;
		}
		seen++;
		px.busy = c->id;
		dispatch(c);
		px.busy = -1;
		chan_post(&px.ch, CHAN_RSP);
	}
}

_Noreturn void px_app_gone(void)
{
	/* An application that never asked for MPI (a restore that failed,
	 * even with MPI started early) leaves the ending to the launcher. */
	if (!px.initialized || !px.app_asked || px.finalized)
		exit(0);
	dm_err("rank %d: the application ended without MPI_Finalize; aborting the job",
	       px.world_rank);
	px_abort_job(MPI_COMM_WORLD, DM_EXIT_APP_ABORT);
}
