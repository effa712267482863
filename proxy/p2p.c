/*
 * p2p.c - point-to-point calls, proxy side (argument layouts are in
 * shim/p2p.c).  Blocking calls start the nonblocking twin and complete
 * it in px_wait, so the proxy never blocks inside MPI.
 *
 * For a checkpoint (proxy/ckpt.c) every started send and every completed
 * receive is counted here, and nonblocking ones are marked in the request
 * table so PARK and DRAIN can find them.  A blocking receive gives way to
 * PARK (px_wait_recv: CHAN_RETRY); a blocking send still in flight is
 * kept like an Isend (keep_send) and its call answered CHAN_RETRY.
 *
 * ISEND and IRECV test the new request once before replying; one that is
 * complete already (eager send, message there) is answered so and
 * forgotten (test_at_post), which saves the application a round trip
 * for its Wait or Test.  The same posts from the ring (chan/chan.h) have
 * no reply and are left for the completion call.
 */
#include "px.h"

#include <string.h>

enum { MODE_STANDARD = 0, MODE_SYNC = 1, MODE_READY = 2 };

struct msg {
	void *buf;
	int count;
	MPI_Datatype type;
	int peer;
	int tag;
	MPI_Comm comm;
};

/* Decode args [base..base+5]: buffer, count, type, peer, tag, comm.  The
 * buffer is the arena image of the application's byte 0, whatever its
 * sign (shim_stage_send/recv). */
DM_HOT static void msg_in(const int64_t *arg, int base, int64_t comm_arg, struct msg *m)
{
	m->buf = px_ptr(arg[base]);
	m->count = (int)arg[base + 1];
	m->type = px_type(arg[base + 2]);
	m->peer = px_rank_in(arg[base + 3]);
	m->tag = px_tag_in(arg[base + 4]);
	m->comm = px_comm(comm_arg);
}

/* A send starts: counted for a checkpoint's drain, and after any
 * synchronous send still pending (proxy/ssend.c). */
static void count_send(const struct msg *m)
{
	px_count_send(m->peer);
	px_ssend_count(m->peer, m->tag, m->comm);
}

/* ISEND's request (marked a send, not complete) was synchronous: track
 * it for a checkpoint (proxy/ssend.c). */
static void track_sync(const int64_t *arg)
{
	struct msg m;

	if (arg[6] != MODE_SYNC)
		return;
	msg_in(arg, 0, arg[5], &m);
	px_ssend_track(arg[7], m.peer, m.tag, m.comm);
}

DM_HOT static int start_send(const struct msg *m, int mode, MPI_Request *r)
{
	switch (mode) {
	case MODE_SYNC:
		return MPI_Issend(m->buf, m->count, m->type, m->peer, m->tag, m->comm, r);
	case MODE_READY:
		return MPI_Irsend(m->buf, m->count, m->type, m->peer, m->tag, m->comm, r);
	default:
		return MPI_Isend(m->buf, m->count, m->type, m->peer, m->tag, m->comm, r);
	}
}

/* PARK came while a blocking call's send is in flight: a rendezvous
 * send whose receiver is elsewhere.  Held in the call slot, it kept this
 * rank's DRAIN round from ending until the receiver had drained it, which
 * the receiver may do only in a later round; and the coordinator starts
 * one only once every rank has ended this one.  So when the message
 * arrived just after the receiver's first DRAIN (ckpt_all, p2p_allocmem)
 * the checkpoint timed out.  Instead the send is kept in the request
 * table under the handle the shim sent along (h), like an Isend: DRAIN
 * progresses it, and the shim waits for it after the checkpoint (after a
 * restart that wait ends at once: the new proxy has no such request, and
 * the receiver took the message before the image).  A send found
 * complete here leaves h empty, which that wait finds at once too.
 * Without a handle (h 0: the shim had no memory for one) it is held as
 * before.  Sets *kept; returns the send's error, or PX_RETRY once kept.
 * m and mode: the send, tracked if synchronous (proxy/ssend.c). */
static int keep_send(MPI_Request *r, MPI_Status *st, int64_t h, int64_t *kept,
		     const struct msg *m, int mode)
{
	int flag = 0;

	*kept = 0;
	if (h == 0)
		return px_wait(r, st);
	int rc = MPI_Test(r, &flag, st);
	if (rc != MPI_SUCCESS || flag)
		return rc;
	*px_req_slot(h) = *r;
	px_req_mark(h, PX_REQ_SEND);
	if (mode == MODE_SYNC)
		px_ssend_track(h, m->peer, m->tag, m->comm);
	*kept = 1;
	return PX_RETRY;
}

DM_HOT void px_call_SEND(struct chan_call *c)
{
	struct msg m;
	MPI_Request r;
	MPI_Status st;
	int64_t h = c->arg[7];

	c->arg[7] = 0;
	msg_in(c->arg, 0, c->arg[5], &m);
	int rc = start_send(&m, (int)c->arg[6], &r);
	if (rc == MPI_SUCCESS) {
		count_send(&m);
		rc = px_wait_app(&r, &st);
		if (rc == PX_RETRY)
			rc = keep_send(&r, &st, h, &c->arg[7], &m, (int)c->arg[6]);
	}
	px_reply(c, rc);
}

/* Test request h once right after its post: an eager send or a message
 * already there is complete now, and the application's completion call
 * then needs no round trip (CALL_ARG_DONE, chan/calls.h).  A completed
 * request leaves the table, so PARK and DRAIN no longer see it: a
 * receive is counted here, its payload waits in its arena block for the
 * shim.  A failed test with the request still there leaves it for the
 * completion call, which reports the error as usual. */
static void test_at_post(struct chan_call *c, int64_t h, enum px_req_kind kind)
{
	MPI_Request *r = px_req_slot(h);
	MPI_Status st;
	int flag = 0;

	memset(&st, 0, sizeof(st));
	int rc = MPI_Test(r, &flag, &st);
	if (!flag && *r != MPI_REQUEST_NULL) {
		px_req_mark(h, kind);
		if (kind == PX_REQ_SEND)
			track_sync(c->arg);
		return;
	}
	if (kind == PX_REQ_RECV)
		px_count_recv(&st);
	px_req_mark(h, PX_REQ_OTHER);
	px_status_out(&st, &c->status);
	if (rc != MPI_SUCCESS)
		c->status.error = px_err(rc);
	c->arg[CALL_ARG_DONE] = 1;
}

/* Start ISEND's request (arguments as in the call slot); the real
 * code. */
static int start_isend(const int64_t *arg)
{
	struct msg m;

	msg_in(arg, 0, arg[5], &m);
	int rc = start_send(&m, (int)arg[6], px_req_slot(arg[7]));
	if (rc == MPI_SUCCESS)
		count_send(&m);
	return rc;
}

void px_call_ISEND(struct chan_call *c)
{
	c->arg[CALL_ARG_DONE] = 0;
	int rc = start_isend(c->arg);
	if (rc == MPI_SUCCESS)
		test_at_post(c, c->arg[7], PX_REQ_SEND);
	px_reply(c, rc);
}

DM_HOT void px_call_RECV(struct chan_call *c)
{
	struct msg m;
	MPI_Request r;
	MPI_Status st = { 0 };

	msg_in(c->arg, 0, c->arg[5], &m);
	int rc = MPI_Irecv(m.buf, m.count, m.type, m.peer, m.tag, m.comm, &r);
	if (rc == MPI_SUCCESS) {
		rc = px_wait_recv(&r, &st);
		/* A truncated message was taken all the same.  MPI_PROC_NULL
		 * by the peer: MPICH 4.0 reports source 0 for it. */
		if (rc != PX_RETRY && m.peer != MPI_PROC_NULL)
			px_count_recv(&st);
	}
	if (rc != PX_RETRY)
		px_status_out(&st, &c->status);
	px_reply(c, rc);
}

static int start_irecv(const int64_t *arg)
{
	struct msg m;

	msg_in(arg, 0, arg[5], &m);
	return MPI_Irecv(m.buf, m.count, m.type, m.peer, m.tag, m.comm, px_req_slot(arg[6]));
}

void px_call_IRECV(struct chan_call *c)
{
	c->arg[CALL_ARG_DONE] = 0;
	int rc = start_irecv(c->arg);
	if (rc == MPI_SUCCESS)
		test_at_post(c, c->arg[6], PX_REQ_RECV);
	px_reply(c, rc);
}

/* A post from the ring (proxy/ring.c): no reply, so nothing completes
 * here; a failure waits in the request for its completion call. */
void px_ring_post(const struct chan_ring_post *p)
{
	int send = p->id == CALL_ISEND;
	int64_t h = p->arg[send ? 7 : 6];
	int rc = send ? start_isend(p->arg) : start_irecv(p->arg);

	if (rc != MPI_SUCCESS) {
		px_req_fail(h, rc);
		return;
	}
	px_req_mark(h, send ? PX_REQ_SEND : PX_REQ_RECV);
	if (send)
		track_sync(p->arg);
}

/* A SENDRECV whose receive PARK cancelled becomes the RECV the
 * application posts again: receive arguments in RECV's places
 * (shim/p2p.c). */
static void sendrecv_to_recv(struct chan_call *c)
{
	int64_t rarg[6];

	memcpy(rarg, &c->arg[5], sizeof(rarg));
	c->id = CALL_RECV;
	memcpy(c->arg, rarg, sizeof(rarg));
}

/* Both halves of a SENDRECV (r[0] send, r[1] receive).  On PARK the
 * receive is cancelled if it still can be, and a send still in flight
 * is kept under handle h (keep_send; *kept).  Returns PX_RETRY if the
 * receive was cancelled. */
static int sendrecv_wait(MPI_Request r[2], MPI_Status st[2], int64_t h, int64_t *kept)
{
	int rc = px_waitall(2, r, st);

	*kept = 0;
	if (rc == MPI_ERR_IN_STATUS)
		return st[1].MPI_ERROR ? st[1].MPI_ERROR : st[0].MPI_ERROR;
	if (rc != PX_RETRY)
		return rc;
	int rrc = px_wait_recv(&r[1], &st[1]);
	int src = keep_send(&r[0], &st[0], h, kept, NULL, MODE_STANDARD);
	return src != MPI_SUCCESS && src != PX_RETRY ? src : rrc;
}

void px_call_SENDRECV(struct chan_call *c)
{
	struct msg s, rv;
	MPI_Request r[2];
	MPI_Status st[2];
	int64_t h = c->arg[11];

	c->arg[11] = 0;
	memset(st, 0, sizeof(st));
	msg_in(c->arg, 0, c->arg[10], &s);
	msg_in(c->arg, 5, c->arg[10], &rv);
	int rc = MPI_Irecv(rv.buf, rv.count, rv.type, rv.peer, rv.tag, rv.comm, &r[1]);
	if (rc == MPI_SUCCESS) {
		rc = MPI_Isend(s.buf, s.count, s.type, s.peer, s.tag, s.comm, &r[0]);
		if (rc != MPI_SUCCESS) {
			MPI_Cancel(&r[1]);
			MPI_Request_free(&r[1]);
		} else {
			count_send(&s);
			rc = sendrecv_wait(r, st, h, &c->arg[11]);
		}
	}
	if (rc == PX_RETRY) {
		sendrecv_to_recv(c);
	} else {
		if (rc == MPI_SUCCESS && rv.peer != MPI_PROC_NULL)
			px_count_recv(&st[1]);
		px_status_out(&st[1], &c->status);
	}
	px_reply(c, rc);
}

void px_call_PROBE(struct chan_call *c)
{
	MPI_Status st = { 0 };
	int rc = px_probe(px_rank_in(c->arg[0]), px_tag_in(c->arg[1]), px_comm(c->arg[2]), &st);

	px_status_out(&st, &c->status);
	px_reply(c, rc);
}

void px_call_IPROBE(struct chan_call *c)
{
	MPI_Status st = { 0 };
	int flag = 0;
	int rc = MPI_Iprobe(px_rank_in(c->arg[0]), px_tag_in(c->arg[1]), px_comm(c->arg[2]),
			    &flag, &st);

	c->arg[3] = flag;
	if (flag)
		px_status_out(&st, &c->status);
	px_reply(c, rc);
}
