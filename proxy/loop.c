/*
 * loop.c - the proxy's request loop.
 *
 * Previous hop: shim_call_run (shim/call.c) posted a call.  Next hop: the
 * handler for its id in proxy/<family>.c, then back through chan_post.
 * The loop ends after MPI_Finalize has been answered, or when the
 * launcher marks the application gone.
 */
#include "px.h"

#include <stdlib.h>
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

int px_serve(void)
{
	/* A fresh channel starts at 0; the application may have posted its
	 * first call before we got here, so don't read the current value. */
	uint32_t seen = 0;

	for (;;) {
		if (chan_wait(&px.ch, CHAN_REQ, seen) < 0)
			px_app_gone();
		seen++;
		dispatch(&px.ch.hdr->call);
		chan_post(&px.ch, CHAN_RSP);
		if (px.finalized)
			return 0;
	}
}

_Noreturn void px_app_gone(void)
{
	if (!px.initialized || px.finalized)
		exit(0);
	dm_err("rank %d: the application ended without MPI_Finalize; aborting the job",
	       px.world_rank);
	MPI_Abort(MPI_COMM_WORLD, DM_EXIT_APP_ABORT);
	_exit(DM_EXIT_APP_ABORT);
}
