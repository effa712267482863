/*
 * call.c - one call over the channel, from the application's side.
 *
 * Previous hop: a wrapper in shim/<family>.c.  Next hop: chan_post /
 * chan_wait (chan/wait.c), then proxy/loop.c on the other side.
 *
 * The channel has a single call slot, so a mutex serialises the threads
 * of the application; the slot stays locked from shim_call_begin until
 * shim_call_end so a wrapper can read the reply in place.  Under
 * MPI_THREAD_MULTIPLE no call may keep it while it waits for a peer
 * (shim/mtwait.c), and the shim's own records have a lock of their own
 * (shim_state_mu) because wrappers touch them outside the slot.
 *
 * During a checkpoint (shim/ckpt.c) a call may wait at the gate in
 * shim_call_begin, and a receive-side blocking call may be answered
 * CHAN_RETRY: the caller then starts that call over, after the
 * checkpoint, from its own beginning (drained messages come first).
 */
#include "shim.h"

#include <unistd.h>

#include "util/exitcode.h"
#include "util/log.h"

/* Recursive: releasing a datatype may release its components.  A
 * shim_rlock: a thread stopped for an image while holding it must still
 * be its owner after a restart (shim/rlock.h). */
struct shim_rlock shim_state_mu = SHIM_RLOCK_INIT;

/* Set by shim_call_begin_coll for the shim_call_begin it makes. */
static _Thread_local int admitted_collective;
/* Collectives admitted whose call has not taken the slot yet, and
 * whether this thread's next shim_call_begin is one of them.  A DRAIN
 * that ended meanwhile would image this rank before the call and a peer
 * after it, the peer's eager part of it lost with the proxy (seen with
 * an intercommunicator Bcast). */
_Atomic int shim_coll_on_way;
static _Thread_local int on_way;

void shim_coll_on_way_mine(void)
{
	atomic_fetch_add(&shim_coll_on_way, 1);
	on_way = 1;
}

void shim_coll_on_way_hold(int held)
{
	if (on_way)
		atomic_fetch_add(&shim_coll_on_way, held ? -1 : 1);
}
/* This thread's last shim_call_begin waited at the checkpoint gate. */
static _Thread_local int was_parked;

struct chan_call *shim_call_begin_coll(enum chan_call_id id, struct shim_comm *cm)
{
	shim_coll_on_way_mine();
	shim_coll_enter(cm);
	admitted_collective = 1;
	return shim_call_begin(id);
}

struct chan_call *shim_call_begin_admitted(enum chan_call_id id)
{
	admitted_collective = 1;
	return shim_call_begin(id);
}

DM_HOT struct chan_call *shim_call_begin(enum chan_call_id id)
{
	pthread_mutex_lock(&shim.lock);
	was_parked = 0;
	/* An admitted collective must reach the proxy even while parked:
	 * the other members are in it already. */
	if (shim_ck_closed(atomic_load_explicit(&shim_ck_phase, memory_order_relaxed),
			   admitted_collective)) {
		shim_ckpt_call_gate(admitted_collective);
		was_parked = 1;
	}
	admitted_collective = 0;
	if (on_way) { /* the slot is ours: DRAIN waits for the call now */
		on_way = 0;
		atomic_fetch_sub(&shim_coll_on_way, 1);
	}
	struct chan_call *c = &shim.ch.hdr->call;

	c->id = (uint32_t)id;
	c->err = 0;
	c->inl_len = 0;
	return c;
}

DM_HOT int shim_call_was_parked(void)
{
	int p = was_parked;

	was_parked = 0;
	return p;
}

DM_HOT int shim_call_run(struct chan_call *c)
{
	uint32_t seen = chan_seq(&shim.ch, CHAN_RSP);

	chan_post(&shim.ch, CHAN_REQ);
	if (chan_wait(&shim.ch, CHAN_RSP, seen) < 0) {
		/* The launcher marked the proxy dead and will end us too;
		 * don't return garbage to the application meanwhile. */
		dm_err("rank %d: proxy is gone; ending the rank",
		       shim.world_rank);
		_exit(DM_EXIT_PROXY_DIED);
	}
	int err = c->err;
	/* The slot carries the checkpoint's own calls meanwhile: keep ours. */
	if (err == CHAN_RETRY)
		shim_ckpt_wait_resume();
	return err;
}

DM_HOT void shim_call_end(void)
{
	pthread_mutex_unlock(&shim.lock);
}

int shim_call_simple(struct chan_call *c)
{
	int err = shim_call_run(c);

	shim_call_end();
	return err;
}

int shim_require_init(const char *fn)
{
	if (shim.initialized && !shim.finalized)
		return MPI_SUCCESS;
	dm_err("%s called %s MPI_Init", fn,
	       shim.finalized ? "after MPI_Finalize, not" : "before");
	/* The standard makes this erroneous; no handler can be trusted yet. */
	_exit(DM_EXIT_MPI_FATAL);
}
