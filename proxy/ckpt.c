/*
 * ckpt.c - the proxy's part of a consistent checkpoint: the control slot.
 *
 * Previous hop: chan_ctl_call (chan/ctl.c) in the application's
 * checkpoint code (shim/ckpt.c), driven by the coordinator's phases.
 * Requests and reply layouts are in chan/chan.h.
 *
 * A control request is served from wherever the proxy is: idle in its
 * loop (proxy/loop.c) or between two tests of the application's blocking
 * call (proxy/progress.c).  PARK is the one that waits: while a
 * receive-side call is in progress it only marks the proxy parked, the
 * call gives way (CHAN_RETRY) and PARK is answered from the loop once the
 * call slot is idle.  A collective in progress is never abandoned, so
 * PARK is answered with it still running (CTL_ARG_BUSY); a blocking
 * send in flight leaves the slot as a pending send (proxy/p2p.c).
 *
 * After PARK the proxy has no receive posted: pending nonblocking
 * receives were completed or cancelled, blocking ones abandoned.  They
 * are cancelled latest first: a message arriving meanwhile then matches
 * the earliest receive still posted, as it would have without us, and
 * never a later one while an earlier one waits to be posted again
 * (which would reorder a sender's messages).  So
 * every message DRAIN finds with Iprobe is one no receive will take,
 * and receiving it into the drain block loses nothing: the application
 * matches it from its drain queue later, as MPI would have.
 *
 * PARK also takes every synchronous send still incomplete, which DRAIN
 * would otherwise complete before its receive is posted, and the first
 * DRAIN lets go of their real requests; RESUME without a DRAIN gives
 * them back (proxy/ssend.c).  INFOS, served in any state, takes only
 * the infos those sends' shims exchange, which a checkpoint that failed
 * during DRAIN may have left in flight, and sends the acknowledgements
 * the shim owes (shim/ckpt.c sweep_infos).
 *
 * Nonblocking collectives are never cancelled: every member has started
 * them by PARK (they are admitted like blocking ones), so they complete;
 * DRAIN reports how many have not yet (proxy/icoll.c).
 *
 * The counters (sent, received) let the coordinator tell when DRAIN has
 * found everything: summed over all ranks they agree once no message is
 * in flight.  They count from the proxy's start and are never reset: a
 * checkpoint that fails leaves messages in flight, and a reset would
 * drop their sends from one side's count and keep their receives in the
 * other's, so no later drain could balance.  Every rank of a restart
 * starts a new proxy at 0 from images with nothing in flight, so the
 * sums agree there too.  Control requests themselves wait with
 * px_wait_quiet, which serves no other control request.
 */
#include "px.h"
#include "util/fault.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util/grow.h"
#include "util/log.h"

DM_HOT void px_count_send(int peer)
{
	if (peer != MPI_PROC_NULL && !px.no_bookkeeping)
		px.sent++;
}

DM_HOT void px_count_recv(const MPI_Status *st)
{
	if (!px.no_bookkeeping && !px_status_cancelled(st) && st->MPI_SOURCE != MPI_PROC_NULL)
		px.recvd++;
}

/* ---- PARK ---- */

/* Put one pending receive in the reply: complete, or cancelled. */
static int park_recv(struct chan_ctl *ctl, int64_t abi, MPI_Request *r)
{
	MPI_Status st;
	int flag = 0, cancelled = 0;

	if (ctl->n == CHAN_CTL_MAX) {
		ctl->arg[CTL_ARG_MORE] = 1;
		return 1;
	}
	memset(&st, 0, sizeof(st));
	int rc = MPI_Test(r, &flag, &st);
	if (rc == MPI_SUCCESS && !flag) {
		rc = MPI_Cancel(r);
		if (rc == MPI_SUCCESS) {
			flag = 1; /* the wait completes it, in error or not */
			rc = px_wait_quiet(r, &st);
		}
		if (rc == MPI_SUCCESS)
			MPI_Test_cancelled(&st, &cancelled);
	}
	if (rc != MPI_SUCCESS && !flag) {
		ctl->err = px_err(rc);
		return 1;
	}
	struct chan_parked *p = &ctl->parked[ctl->n++];
	p->handle = abi;
	p->pad = 0;
	if (cancelled) {
		p->state = CHAN_PARKED_REPOST;
		memset(&p->status, 0, sizeof(p->status));
	} else {
		/* Completed in error (a truncated message) is completed: the
		 * application's Wait or Test returns the error, as when the
		 * receive completes at its post (test_at_post). */
		p->state = CHAN_PARKED_DONE;
		px_status_out(&st, &p->status);
		if (rc != MPI_SUCCESS)
			p->status.error = px_err(rc);
		px_count_recv(&st);
	}
	px_req_mark(abi, PX_REQ_OTHER);
	px_req_done(abi);
	return 0;
}

struct recvs {
	int64_t *h;
	size_t n, cap;
};

static int add_recv(int64_t abi, MPI_Request *r, enum px_req_kind kind, void *arg)
{
	struct recvs *l = arg;

	(void)r;
	if (kind != PX_REQ_RECV)
		return 0;
	if (dm_grow((void **)&l->h, &l->cap, l->n + 1, sizeof(*l->h)) < 0)
		return 1;
	l->h[l->n++] = abi;
	return 0;
}

static int latest_first(const void *a, const void *b)
{
	uint64_t x = px_req_order(*(const int64_t *)a), y = px_req_order(*(const int64_t *)b);

	return (x < y) - (x > y);
}

static void serve_park(struct chan_ctl *ctl)
{
	struct recvs l = { NULL, 0, 0 };

	px.parked = 1;
	if (!px.initialized || px.finalized)
		return; /* no MPI: no receive can be pending */
	if (px_req_each(add_recv, &l)) {
		ctl->err = ABI_ERR_NO_MEM;
		free(l.h);
		return;
	}
	qsort(l.h, l.n, sizeof(*l.h), latest_first);
	size_t i = 0;
	while (i < l.n && !park_recv(ctl, l.h[i], px_req_slot(l.h[i])))
		i++;
	free(l.h);
	if (i == l.n && !ctl->err)
		px_ssend_park(ctl);
}

/* ---- DRAIN ---- */

struct drain {
	struct chan_ctl *ctl;
	uint64_t off, size;  /* the drain block */
	uint64_t used;
	int64_t pending;     /* send requests not complete */
	int tag;             /* what to take: MPI_ANY_TAG, or 0 for infos */
};

static uint64_t align_up(uint64_t n)
{
	return (n + CHAN_DRAIN_ALIGN - 1) / CHAN_DRAIN_ALIGN * CHAN_DRAIN_ALIGN;
}

/* Progress a send without completing it: the application's Wait or Test
 * still owns it. */
static int drain_send(int64_t abi, MPI_Request *r, enum px_req_kind kind, void *arg)
{
	struct drain *d = arg;
	MPI_Status st;
	int flag = 1;

	(void)abi;
	if (kind == PX_REQ_SEND && *r != MPI_REQUEST_NULL)
		MPI_Request_get_status(*r, &flag, &st);
	d->pending += !flag;
	return 0;
}

/* Receive the message st announced on comm into the block; 1 to stop.
 * Its size is read from the probe's status as on the latency path
 * (px_status_bytes); a message past INT_MAX bytes, which one MPI_BYTE
 * receive cannot take, fails the checkpoint (MPI_Get_count gave
 * MPI_UNDEFINED for it, which was taken as a size). */
static int drain_one(struct drain *d, int64_t abi, MPI_Comm comm, MPI_Status *st)
{
	struct chan_ctl *ctl = d->ctl;
	int64_t bytes = px_status_bytes(st);
	MPI_Request r;

	if (ctl->n == CHAN_CTL_MAX) {
		ctl->arg[CTL_ARG_MORE] = 1;
		return 1;
	}
	if (bytes > INT_MAX) {
		dm_err("checkpoint (rank %d): a message in flight of %lld bytes is more than one "
		       "drain receive takes (2 GiB - 1): this checkpoint fails; take one while no "
		       "such message is in flight", px.world_rank, (long long)bytes);
		ctl->err = ABI_ERR_COUNT;
		return 1;
	}
	/* An empty message fits anywhere, even past the last boundary. */
	uint64_t at = bytes ? align_up(d->used) : d->used;
	if (at > d->size || (uint64_t)bytes > d->size - at) {
		ctl->arg[CTL_ARG_DRAIN_NEED] = bytes;
		return 1;
	}
	int rc = MPI_Irecv(px_ptr((int64_t)(d->off + at)), (int)bytes, MPI_BYTE, st->MPI_SOURCE,
			   st->MPI_TAG, comm, &r);
	if (rc == MPI_SUCCESS)
		rc = px_wait_quiet(&r, st);
	if (rc != MPI_SUCCESS) {
		ctl->err = px_err(rc);
		return 1;
	}
	struct chan_drained *m = &ctl->msgs[ctl->n++];
	m->comm = abi;
	m->source = px_rank_out(st->MPI_SOURCE);
	m->tag = px_tag_out(st->MPI_TAG);
	m->bytes = bytes;
	m->off = (int64_t)(d->off + at);
	d->used = at + (uint64_t)bytes;
	px.recvd++;
	return 0;
}

/* Every message waiting on comm (of tag d->tag), in the order Iprobe
 * offers them. */
static int drain_comm(int64_t abi, MPI_Comm comm, void *arg)
{
	struct drain *d = arg;
	MPI_Status st;
	int flag = 0;

	for (;;) {
		int rc = MPI_Iprobe(MPI_ANY_SOURCE, d->tag, comm, &flag, &st);
		if (rc != MPI_SUCCESS) {
			d->ctl->err = px_err(rc);
			return 1;
		}
		if (!flag)
			return 0;
		if (drain_one(d, abi, comm, &st))
			return 1;
	}
}

void px_parked_progress(void)
{
	struct drain d = { NULL, 0, 0, 0, 0, MPI_ANY_TAG };
	int flag;

	if (!px.initialized || px.finalized)
		return;
	px_req_each(drain_send, &d);
	/* With no send pending, Iprobe still runs the progress engine. */
	MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
}

/* DMTCP_MPI_FAULT=drain-late: the first DRAIN of each checkpoint finds
 * nothing, as when the messages in flight arrive just after it; this
 * rank's first round then ends without them, and only a later round can
 * take them (tests/ckpt-mpi/restart_heldsend.sh).  Armed until that
 * DRAIN, again at RESUME. */
static int drain_late = -1;

static int drain_late_now(void)
{
	if (drain_late < 0)
		drain_late = dm_fault("drain-late");
	int now = drain_late;
	drain_late = 0;
	return now;
}

/* The drain block CTL_DRAIN and CTL_INFOS name lies in the arena; the
 * outputs about it start at zero. */
static int drain_block_ok(struct chan_ctl *ctl)
{
	uint64_t arena = px.ch.hdr->arena_size;
	uint64_t off = (uint64_t)ctl->arg[CTL_ARG_DRAIN_OFF];
	uint64_t size = (uint64_t)ctl->arg[CTL_ARG_DRAIN_SIZE];

	ctl->arg[CTL_ARG_DRAIN_USED] = 0;
	ctl->arg[CTL_ARG_DRAIN_NEED] = 0;
	if (ctl->arg[CTL_ARG_DRAIN_OFF] < 0 || ctl->arg[CTL_ARG_DRAIN_SIZE] < 0 ||
	    off > arena || size > arena - off) {
		ctl->err = ABI_ERR_ARG;
		return 0;
	}
	return 1;
}

static void serve_drain(struct chan_ctl *ctl)
{
	struct drain d = { ctl, (uint64_t)ctl->arg[CTL_ARG_DRAIN_OFF],
			   (uint64_t)ctl->arg[CTL_ARG_DRAIN_SIZE], 0, 0, MPI_ANY_TAG };

	px_ssend_let_go();
	ctl->arg[CTL_ARG_DRAIN_PENDING] = 0;
	ctl->arg[CTL_ARG_DRAIN_COLLS] = 0;
	if (!drain_block_ok(ctl))
		return;
	if (!px.initialized || px.finalized)
		return; /* no MPI: nothing can be in flight */
	/* Every member of a running constructor has entered it (they are
	 * admitted like collectives), so it ends without our draining; the
	 * shim asks again until it has (px_ctor_running). */
	int ctors = px_ctor_running();
	if (!ctors && !drain_late_now() && !drain_comm(ABI_COMM_WORLD, MPI_COMM_WORLD, &d) &&
	    !drain_comm(ABI_COMM_SELF, MPI_COMM_SELF, &d))
		px_comm_each(drain_comm, &d);
	px_req_each(drain_send, &d);
	ctl->arg[CTL_ARG_DRAIN_USED] = (int64_t)d.used;
	ctl->arg[CTL_ARG_DRAIN_PENDING] = d.pending;
	ctl->arg[CTL_ARG_DRAIN_COLLS] = px_icoll_incomplete() + ctors;
}

/* ---- INFOS ---- */

/* The acknowledgements the shim owes, then the infos waiting for it: a
 * checkpoint that failed during DRAIN may have left infos in flight,
 * which no receive of the application takes (chan/chan.h CTL_INFOS). */
static void serve_infos(struct chan_ctl *ctl)
{
	struct drain d = { ctl, (uint64_t)ctl->arg[CTL_ARG_DRAIN_OFF],
			   (uint64_t)ctl->arg[CTL_ARG_DRAIN_SIZE], 0, 0, 0 };
	int64_t nacks = ctl->arg[CTL_ARG_INFO_ACKS];
	MPI_Comm comm = px_comm(ctl->arg[CTL_ARG_INFO_COMM]);

	if (!drain_block_ok(ctl))
		return;
	if (!px.initialized || px.finalized)
		return;
	if (comm == MPI_COMM_NULL || nacks < 0 || nacks > CHAN_CTL_MAX) {
		ctl->err = ABI_ERR_ARG;
		return;
	}
	/* Read every ack before msgs[], which shares their memory, is written. */
	for (int64_t i = 0; i < nacks; i++) {
		MPI_Request r;
		int to = ctl->acks[i].to;
		if (MPI_Isend(NULL, 0, MPI_BYTE, to, ctl->acks[i].tag, comm, &r) != MPI_SUCCESS)
			continue;
		MPI_Request_free(&r);
		px_count_send(to);
	}
	drain_comm(ctl->arg[CTL_ARG_INFO_COMM], comm, &d);
	ctl->arg[CTL_ARG_DRAIN_USED] = (int64_t)d.used;
}

/* ---- serving ---- */

static void serve(struct chan_ctl *ctl)
{
	ctl->err = 0;
	ctl->n = 0;
	ctl->arg[CTL_ARG_MORE] = 0;
	switch (ctl->id) {
	case CTL_PARK:
		serve_park(ctl);
		break;
	case CTL_DRAIN:
		serve_drain(ctl);
		break;
	case CTL_RESUME:
		px.parked = 0;
		drain_late = -1;
		px_ssend_resume();
		break;
	case CTL_INFOS:
		serve_infos(ctl);
		break;
	default:
		ctl->err = ABI_ERR_ARG;
		return;
	}
	ctl->arg[CTL_ARG_BUSY] = px.busy;
	ctl->arg[CTL_ARG_SENT] = px.sent;
	ctl->arg[CTL_ARG_RECVD] = px.recvd;
}

void px_ctl_poll(int can_retry)
{
	if (chan_seq(&px.ch, CHAN_CTL_REQ) == px.ctl_seen)
		return;
	struct chan_ctl *ctl = &px.ch.hdr->ctl;
	if (ctl->id == CTL_PARK && can_retry) {
		px.parked = 1;
		return;
	}
	serve(ctl);
	px.ctl_seen++;
	chan_post(&px.ch, CHAN_CTL_RSP);
}
