/*
 * ssend.c - synchronous sends still pending when a checkpoint parks.
 *
 * A synchronous send (Issend, a Ssend kept at PARK, Ssend_init's Start)
 * completes once its receive has started.  DRAIN breaks that: it
 * receives a message no application receive has matched into the
 * receiver's drain queue, and the real send then completes at once.
 * So PARK takes every synchronous send that is still incomplete out of
 * this proxy (the real request is freed and goes on alone) and hands it
 * to the shim, which waits for the receiving shim to say that its
 * application matched the message (shim/ssend.c, doc/design.md DRAIN).
 *
 * The receiver must learn which of its drained messages that send was.
 * MPI's non-overtaking rule makes the messages of one (sender, receiver,
 * communicator, tag) that real receives matched a prefix of the send
 * order, so the drained ones are a suffix: the send is the one with as
 * many later sends of the same (dest, comm, tag) after it in that
 * suffix, if the suffix is that long.  So for each pending synchronous
 * send this file counts the sends to the same (dest, comm, tag) started
 * after it; PARK reports the count with the send.  Sends pay for this
 * only while one synchronous send is pending: px_ssend_count is one
 * test of px_ssend_n otherwise.
 *
 * The real request is let go only at this rank's first DRAIN of the
 * checkpoint (px_ssend_let_go), when the shim sends the receiver its
 * info: until every rank has parked no DRAIN runs anywhere, so a
 * checkpoint that fails before that (a PARK that failed or timed out,
 * the coordinator gone) leaves the message in the network and the real
 * request with it, and RESUME hands the send back, untouched
 * (px_ssend_resume; the shim undoes its side, shim_ssend_undo).
 */
#include "px.h"
#include "util/fault.h"

#include <stdlib.h>
#include <string.h>

#include "util/grow.h"

/* One synchronous send started and not known complete. */
struct pending {
	int64_t h;         /* its request handle */
	uint64_t order;    /* px_req_order(h) when tracked: a reused slot differs */
	int peer, tag;     /* real rank in comm, real tag */
	MPI_Comm comm;
	int64_t later;     /* sends to (peer, comm, tag) started since */
};

static struct pending *pend;
static size_t cap;
size_t px_ssend_n;

/* Reported at this checkpoint's PARK, the real request still in its
 * slot until the first DRAIN (px_ssend_let_go) or RESUME. */
static struct pending *held;
static size_t nheld, cap_held;

/* A DRAIN has run since the last RESUME: PARK lets go at once (a send
 * that passed the gate just before PARK, found by a later CTL_PARK). */
static int drained;

/* The request is still the send we track, not completed and reused. */
static int live(const struct pending *p)
{
	return px_req_kind(p->h) == PX_REQ_SEND && px_req_order(p->h) == p->order;
}

/* Append p to the array v of n (capacity *c); 0, or -1 without memory. */
static int push(struct pending **v, size_t *n, size_t *c, const struct pending *p)
{
	if (dm_grow((void **)v, c, *n + 1, sizeof(**v)) < 0)
		return -1;
	(*v)[(*n)++] = *p;
	return 0;
}

void px_ssend_track(int64_t h, int peer, int tag, MPI_Comm comm)
{
	if (px.no_bookkeeping || peer == MPI_PROC_NULL)
		return;
	struct pending p = { h, px_req_order(h), peer, tag, comm, 0 };
	/* Without memory it is untracked: a checkpoint may complete it
	 * early, as before synchronous sends were tracked. */
	push(&pend, &px_ssend_n, &cap, &p);
}

/* Count one send to (peer, comm, tag) for every pending synchronous
 * send it follows; forget those that completed meanwhile. */
void px_ssend_note(int peer, int tag, MPI_Comm comm)
{
	size_t k = 0;

	for (size_t i = 0; i < px_ssend_n; i++) {
		if (!live(&pend[i]))
			continue;
		if (pend[i].peer == peer && pend[i].tag == tag && pend[i].comm == comm)
			pend[i].later++;
		pend[k++] = pend[i];
	}
	px_ssend_n = k;
}

/* DMTCP_MPI_FAULT=ssend-unseen: PARK takes complete synchronous sends
 * too, as if their completion were still on its way when PARK looked
 * (a receive matched them just before): the receiver must then
 * acknowledge them at once (tests/ckpt-mpi/restart_issend.sh). */
static int unseen_fault(void)
{
	static int fault = -1;

	if (fault < 0)
		fault = dm_fault("ssend-unseen");
	return fault;
}

/* The message goes on alone; DRAIN may take it. */
static void let_go(const struct pending *p)
{
	MPI_Request *r = px_req_slot(p->h);

	MPI_Request_free(r);
	*r = MPI_REQUEST_NULL;
	px_req_mark(p->h, PX_REQ_OTHER);
}

/* Hand one incomplete synchronous send to the shim; 1 to stop (the
 * reply is full, or no memory to hold it).  A complete one was matched
 * by a real receive: every DRAIN comes after every rank's PARK. */
static int park_one(struct chan_ctl *ctl, const struct pending *p)
{
	MPI_Request *r = px_req_slot(p->h);
	int flag = 0;

	if (MPI_Request_get_status(*r, &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS ||
	    (flag && !unseen_fault()))
		return 0; /* its Wait says so */
	if (ctl->n == CHAN_CTL_MAX) {
		ctl->arg[CTL_ARG_MORE] = 1;
		return 1;
	}
	if (drained) {
		let_go(p);
	} else if (push(&held, &nheld, &cap_held, p) < 0) {
		ctl->err = ABI_ERR_NO_MEM;
		return 1;
	}
	struct chan_parked *out = &ctl->parked[ctl->n++];
	out->handle = p->h;
	out->state = CHAN_PARKED_SSEND;
	out->pad = 0;
	out->later = p->later;
	out->status = (struct chan_status){ 0 };
	out->status.source = px_rank_out(p->peer);
	out->status.tag = px_tag_out(p->tag);
	return 0;
}

void px_ssend_park(struct chan_ctl *ctl)
{
	size_t k = 0, i;

	for (i = 0; i < px_ssend_n; i++) {
		if (!live(&pend[i]))
			continue;
		if (park_one(ctl, &pend[i]))
			break;
	}
	for (; i < px_ssend_n; i++) /* the reply is full: for the next PARK */
		pend[k++] = pend[i];
	px_ssend_n = k;
}

void px_ssend_let_go(void)
{
	for (size_t i = 0; i < nheld; i++)
		let_go(&held[i]);
	nheld = 0;
	drained = 1;
}

void px_ssend_resume(void)
{
	/* No DRAIN ran: nothing can have matched them but a real receive,
	 * and their requests say when one has.  Tracked again, later sends
	 * counted as before, for the next checkpoint's PARK. */
	for (size_t i = 0; i < nheld; i++)
		if (live(&held[i]))
			push(&pend, &px_ssend_n, &cap, &held[i]);
	nheld = 0;
	drained = 0;
}
