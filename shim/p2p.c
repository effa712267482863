/*
 * p2p.c - point-to-point calls, application side.
 *
 * A send stages the user's bytes in an arena block and names the block;
 * a receive names an empty block and copies out of it once the message
 * is there.  A buffer inside an MPI_Alloc_mem block is named where it
 * is, with no copy (shim/stage.c).  Blocking calls are one round trip: the proxy completes the
 * real request before it replies (proxy/p2p.c).  Nonblocking calls leave
 * the block with the request record until the request completes
 * (shim/req.c); one the proxy found complete right after posting it
 * (CALL_ARG_DONE) is completed here at once, so its Wait or Test, and
 * under MPI_THREAD_MULTIPLE the blocking call built on it, needs no
 * further round trip.  Below MULTIPLE they need no reply at all and go
 * on the post ring (ring_entry): Irecv, Irecv, Isend, Isend, Waitall is
 * then one round trip.
 *
 * Buffers travel as the arena offset of the image of the buffer's byte 0
 * (shim_stage_send/recv): any int64, negative too, never a sentinel.
 *
 * Call layouts (arg[] indices), served by proxy/p2p.c:
 *   SEND, ISEND  0 base, 1 count, 2 type, 3 dest, 4 tag, 5 comm, 6 mode,
 *                7 request (ISEND); SEND: 7 the spare request (send_kept),
 *                under which the send is kept if the reply is CHAN_RETRY
 *   RECV, IRECV  0 base, 1 count, 2 type, 3 source, 4 tag, 5 comm,
 *                6 request (IRECV); RECV replies with status
 *   ISEND, IRECV reply CALL_ARG_DONE and, when it is 1, the status
 *   SENDRECV     0..4 as SEND, 5 rbase, 6 rcount, 7 rtype, 8 source,
 *                9 rtag, 10 comm, 11 the spare request as SEND's 7;
 *                replies with status; with CHAN_RETRY (the receive
 *                starts over) the send is under the spare request, kept
 *                or complete; otherwise arg[11] is 1 if it was kept
 *   PROBE        0 source, 1 tag, 2 comm; replies with status
 *   IPROBE       as PROBE; replies arg[3] flag and status
 */
#include "shim.h"

#include <stdlib.h>

/* Send modes, arg[6] of SEND/ISEND. */
enum { MODE_STANDARD = 0, MODE_SYNC = 1, MODE_READY = 2 };

struct msg {
	struct shim_comm *comm;
	struct shim_type *type;
};

/* Validate a buffer description and a peer; raise the error through
 * comm's handler.  Returns the error class or MPI_SUCCESS. */
DM_HOT static int check_msg(const char *fn, const void *buf, int count, MPI_Datatype type,
		     int peer, int tag, MPI_Comm comm, int recv, struct msg *m)
{
	int err;

	/* A persistent request's Start brings the record it was made on,
	 * found after MPI_Comm_free too (shim/persist.c). */
	if (!m->comm && !(m->comm = shim_comm_check(comm, fn, &err)))
		return err;
	if ((err = shim_check_count(count)))
		return shim_errorf(comm, err, fn, "count %d", count);
	/* A held record (persistent requests) outlives the application's
	 * handle: MPI_Type_free after MPI_Send_init is allowed. */
	if (m->type)
		err = MPI_SUCCESS;
	else if ((err = shim_type_check(type, &m->type)))
		return shim_errorf(comm, err, fn, "datatype %#lx is %s",
				   (unsigned long)(uintptr_t)type, shim_type_why(type));
	/* MPI_BOTTOM (NULL) is a buffer for derived types.  The type is
	 * valid here, so a handle below SHIM_HANDLE_BASE is predefined. */
	if ((uintptr_t)type < SHIM_HANDLE_BASE && (err = shim_check_buf(buf, count)))
		return shim_errorf(comm, err, fn, "NULL buffer with count %d", count);
	if ((err = shim_check_rank(m->comm, peer, recv)))
		return shim_errorf(comm, err, fn, "rank %d is not in [0, %d)", peer,
				   m->comm->size);
	if ((err = shim_check_tag(tag, recv)))
		return shim_errorf(comm, err, fn, "tag %d", tag);
	return MPI_SUCCESS;
}

/* s and t: the buffer as staged, which may go packed (shim_stage_wire). */
static void fill_msg(int64_t *arg, const struct shim_stage *s,
		     const struct shim_type *t, int64_t base, int count, MPI_Datatype type,
		     int peer, int tag, MPI_Comm comm)
{
	int64_t n = count;

	shim_stage_wire(s, t, &n, &type);
	arg[0] = base;
	arg[1] = n;
	arg[2] = (int64_t)(intptr_t)type;
	arg[3] = peer;
	arg[4] = tag;
	arg[5] = (int64_t)(intptr_t)comm;
}

/* Below MPI_THREAD_MULTIPLE an ISEND or IRECV of up to RING_MAX_BYTES
 * goes on the post ring (chan/chan.h) with no reply, when the ring has
 * room: the arguments of the entry to fill, or NULL for the call slot.
 * Larger ones keep the slot: with the application staging the next one
 * while its proxy drives the last, four processes of two ranks compete
 * for two CPUs, and the windowed bandwidth of 64 KiB..16 MiB messages
 * (bench/mpibench.c) fell by a fifth to a third (load 15-20, 2 CPUs),
 * where 8 B and 1 KiB windows gained 3-5x.  Under MULTIPLE the reply's
 * CALL_ARG_DONE is what spares the polls (shim/mtwait.c). */
#define RING_MAX_BYTES (32 << 10)

static int64_t *ring_entry(const struct shim_type *t, int count)
{
	if (shim_mt() || (int64_t)count * t->size > RING_MAX_BYTES)
		return NULL;
	return chan_ring_claim(&shim.ch);
}

/* The request a blocking send becomes when a checkpoint's PARK finds it
 * in flight: the proxy then keeps it like an Isend instead of holding
 * the call slot (proxy/p2p.c keep_send) and answers the call.  Made
 * before the call, since PARK leaves no time to ask for one, and kept for
 * the next call until a send takes it.  Blocking sends take the slot only
 * below MPI_THREAD_MULTIPLE, one at a time: the slot lock guards it.
 * Its handle, or 0 if there is no memory for one (the proxy then holds
 * the send as it did before). */
static struct shim_req *spare;

static int64_t spare_handle(void)
{
	if (!spare)
		spare = shim_req_new(SHIM_REQ_SEND, MPI_COMM_WORLD);
	return spare ? (int64_t)(intptr_t)spare->handle : 0;
}

/* The proxy kept the send under the spare request: the request takes
 * over its stage s; once the caller released the slot, send_wait_kept
 * waits for it (at the gate until the checkpoint is over).  Known from a
 * CHAN_RETRY reply, which comes after the checkpoint: the reply's other
 * slots may then be a restarted proxy's channel, which says nothing.
 * Returns the request, NULL if there was no spare. */
static struct shim_req *send_kept(MPI_Comm comm, struct shim_stage *s, int64_t base)
{
	struct shim_req *r = spare;

	if (!r)
		return NULL;
	spare = NULL;
	r->comm = comm;
	r->stage = *s;
	r->base = base;
	r->in_proxy = 1;
	s->off = ARENA_NONE;
	return r;
}

static int send_wait_kept(struct shim_req *r)
{
	MPI_Request h = r->handle;

	return PMPI_Wait(&h, MPI_STATUS_IGNORE);
}

DM_HOT static int send_mode(const char *fn, const void *buf, int count, MPI_Datatype type,
		     int dest, int tag, MPI_Comm comm, int mode)
{
	struct msg m = { NULL, NULL };
	struct shim_stage s;
	int64_t base;
	int err = check_msg(fn, buf, count, type, dest, tag, comm, 0, &m);

	if (err)
		return err;
	if (shim_mt())
		return shim_mt_send(buf, count, type, dest, tag, comm, mode);
	if ((err = shim_stage_send(buf, count, m.type, SHIM_STAGE_BORROW, &s, &base, fn)))
		return shim_error(comm, err, fn, NULL);
	struct chan_call *c = shim_call_begin(CALL_SEND);
	fill_msg(c->arg, &s, m.type, base, count, type, dest, tag, comm);
	c->arg[6] = mode;
	c->arg[7] = spare_handle();
	if (spare) /* PARK may hand the send back (shim/ssend.c) before send_kept */
		spare->comm = comm;
	err = shim_call_run(c);
	struct shim_req *kept = err == CHAN_RETRY ? send_kept(comm, &s, base) : NULL;
	shim_call_end();
	shim_stage_free(&s);
	if (kept) /* its error, if any, went through the handler there */
		return send_wait_kept(kept);
	return shim_error(comm, err, fn, NULL);
}

DM_HOT int PMPI_Send(const void *buf, int count, MPI_Datatype datatype, int dest, int tag,
	      MPI_Comm comm)
{
	return send_mode("MPI_Send", buf, count, datatype, dest, tag, comm, MODE_STANDARD);
}
SHIM_WEAK_HOT(Send)

int PMPI_Ssend(const void *buf, int count, MPI_Datatype datatype, int dest, int tag,
	       MPI_Comm comm)
{
	return send_mode("MPI_Ssend", buf, count, datatype, dest, tag, comm, MODE_SYNC);
}
SHIM_WEAK(Ssend)

int PMPI_Rsend(const void *buf, int count, MPI_Datatype datatype, int dest, int tag,
	       MPI_Comm comm)
{
	return send_mode("MPI_Rsend", buf, count, datatype, dest, tag, comm, MODE_READY);
}
SHIM_WEAK(Rsend)

/* After a checkpoint, drained messages are the oldest there are: the
 * first one that matches is the message MPI would deliver.  The
 * application takes one only with the queue held and no checkpoint
 * parked (shim_ckpt_queue_enter): while parked, DRAIN fills the queue and
 * the receives PARK cancelled, posted before any new one, must get their
 * messages first (they do when the checkpoint ends).  1 if served. */
static int recv_queued(void *buf, int count, const struct shim_type *type, MPI_Comm comm,
		       int source, int tag, struct chan_status *st, int *err)
{
	if (!shim_ckpt_queue_enter())
		return 0;
	shim_state_lock(); /* another thread may take the same message */
	struct shim_drained *d = shim_drain_find(comm, source, tag);
	if (d)
		*err = shim_drain_deliver(d, buf, count, type, st);
	shim_state_unlock();
	shim_ckpt_queue_leave();
	shim_ssend_flush(0); /* a synchronous send's acknowledgement */
	return d != NULL;
}

/* A receive looks in the drain queue before it takes the call slot, but
 * a checkpoint may fill the queue after that look, even one the caller
 * never waited for at the gate (it came and went between the look and
 * the slot): looked at again with the slot held, a message found means
 * the call must start over, or it would pass older messages. */
DM_HOT static int drained_meanwhile(MPI_Comm comm, int source, int tag)
{
	if (!shim_ckpt_queue_enter())
		return 0;
	shim_state_lock();
	int found = shim_drain_find(comm, source, tag) != NULL;
	shim_state_unlock();
	shim_ckpt_queue_leave();
	return found;
}

DM_HOT int PMPI_Recv(void *buf, int count, MPI_Datatype datatype, int source, int tag,
	      MPI_Comm comm, MPI_Status *status)
{
	struct msg m = { NULL, NULL };
	struct shim_stage s;
	int64_t base;
	int err = check_msg("MPI_Recv", buf, count, datatype, source, tag, comm, 1, &m);

	if (err)
		return err;
	if (shim_mt())
		return shim_mt_recv(buf, count, datatype, source, tag, comm, status);
	struct chan_status qst;
	if (recv_queued(buf, count, m.type, comm, source, tag, &qst, &err)) {
		shim_status_out(status, &qst);
		return shim_error(comm, err, "MPI_Recv", NULL);
	}
	if ((err = shim_stage_recv(buf, count, m.type, &s, &base, "MPI_Recv")))
		return shim_error(comm, err, "MPI_Recv", NULL);
	struct chan_call *c = shim_call_begin(CALL_RECV);
	err = CHAN_RETRY; /* parked on the way: the message may be drained now */
	if (!shim_call_was_parked() && !drained_meanwhile(comm, source, tag)) {
		fill_msg(c->arg, &s, m.type, base, count, datatype, source, tag, comm);
		err = shim_call_run(c);
	}
	if (err == CHAN_RETRY) {
		/* A checkpoint came; the message may be in the drain queue now. */
		shim_call_end();
		shim_stage_free(&s);
		return PMPI_Recv(buf, count, datatype, source, tag, comm, status);
	}
	if (source == MPI_PROC_NULL)
		shim_status_proc_null(&c->status);
	shim_stage_unload_typed(buf, count, m.type, base, s.packed, &c->status);
	shim_status_out(status, &c->status);
	shim_call_end();
	shim_stage_free(&s);
	return shim_error(comm, err, "MPI_Recv", NULL);
}
SHIM_WEAK_HOT(Recv)

int shim_p2p_post_send(struct shim_req *r, const char *fn, const void *buf, int count,
		       MPI_Datatype type, struct shim_type *held, int dest, int tag,
		       MPI_Comm comm, struct shim_comm *on, int mode, enum shim_stage_how how)
{
	struct msg m = { on, held };
	int err = check_msg(fn, buf, count, type, dest, tag, comm, 0, &m);

	if (err)
		return err;
	r->in_proxy = 0;
	if ((err = shim_stage_send(buf, count, m.type, how, &r->stage, &r->base, fn)))
		return shim_error(comm, err, fn, NULL);
	struct chan_call *c = shim_call_begin(CALL_ISEND);
	int64_t *e = ring_entry(m.type, count);
	fill_msg(e ? e : c->arg, &r->stage, m.type, r->base, count, type, dest, tag, comm);
	/* Set with the slot held: an image never falls between the post
	 * and this (DRAIN waits for an idle slot). */
	r->in_proxy = 1;
	if (e) {
		e[6] = mode;
		e[7] = (int64_t)(intptr_t)r->handle;
		chan_ring_publish(&shim.ch, CALL_ISEND);
		shim_call_end();
		return MPI_SUCCESS;
	}
	c->arg[6] = mode;
	c->arg[7] = (int64_t)(intptr_t)r->handle;
	if ((err = shim_req_post_run(r, c))) {
		shim_stage_free(&r->stage);
		return shim_error(comm, err, fn, NULL);
	}
	return MPI_SUCCESS;
}

static int isend_mode(const char *fn, const void *buf, int count, MPI_Datatype type,
		      struct shim_type *held, int dest, int tag, MPI_Comm comm,
		      struct shim_comm *on, int mode, enum shim_stage_how how,
		      MPI_Request *request)
{
	struct shim_req *r = shim_req_new(SHIM_REQ_SEND, comm);

	if (!r)
		return shim_error(comm, MPI_ERR_NO_MEM, fn, "no memory for a request");
	int err = shim_p2p_post_send(r, fn, buf, count, type, held, dest, tag, comm, on, mode,
				     how);
	if (err) {
		shim_req_complete(r, NULL);
		return err;
	}
	*request = r->handle;
	return MPI_SUCCESS;
}

int PMPI_Isend(const void *buf, int count, MPI_Datatype datatype, int dest, int tag,
	       MPI_Comm comm, MPI_Request *request)
{
	return isend_mode("MPI_Isend", buf, count, datatype, NULL, dest, tag, comm, NULL,
			  MODE_STANDARD, SHIM_STAGE_BORROW, request);
}
SHIM_WEAK(Isend)

int PMPI_Issend(const void *buf, int count, MPI_Datatype datatype, int dest, int tag,
		MPI_Comm comm, MPI_Request *request)
{
	return isend_mode("MPI_Issend", buf, count, datatype, NULL, dest, tag, comm, NULL,
			  MODE_SYNC, SHIM_STAGE_BORROW, request);
}
SHIM_WEAK(Issend)

int PMPI_Irsend(const void *buf, int count, MPI_Datatype datatype, int dest, int tag,
		MPI_Comm comm, MPI_Request *request)
{
	return isend_mode("MPI_Irsend", buf, count, datatype, NULL, dest, tag, comm, NULL,
			  MODE_READY, SHIM_STAGE_BORROW, request);
}
SHIM_WEAK(Irsend)

int shim_p2p_isend_copy(const char *fn, const void *buf, int count, MPI_Datatype type,
			struct shim_type *held, int dest, int tag, MPI_Comm comm,
			struct shim_comm *on, MPI_Request *request)
{
	return isend_mode(fn, buf, count, type, held, dest, tag, comm, on, MODE_STANDARD,
			  SHIM_STAGE_COPY, request);
}

int shim_p2p_post_recv(struct shim_req *r, const char *fn, void *buf, int count,
		       MPI_Datatype type, struct shim_type *held, int source, int tag,
		       MPI_Comm comm, struct shim_comm *on)
{
	struct msg m = { on, held };
	int err = check_msg(fn, buf, count, type, source, tag, comm, 1, &m);

	if (err)
		return err;
	if ((err = shim_stage_recv(buf, count, m.type, &r->stage, &r->base, fn)))
		return shim_error(comm, err, fn, NULL);
	shim_req_set_recv(r, buf, count, m.type);
	r->from_proc_null = source == MPI_PROC_NULL;
	shim_req_note_recv(r, type, source, tag);
	if (r->from_proc_null) {
		/* Done at once; in the proxy MPICH 4.0 would complete it with
		 * source 0, and a checkpoint would count a message never sent. */
		struct chan_status st;
		shim_status_proc_null(&st);
		shim_req_done_locally(r, &st);
		return MPI_SUCCESS;
	}
	struct chan_status st;
	int qerr = 0; /* a truncation is in st, for the completion call */
	if (recv_queued(buf, count, m.type, comm, source, tag, &st, &qerr)) {
		shim_req_done_locally(r, &st);
		return MPI_SUCCESS;
	}
	struct chan_call *c = shim_call_begin(CALL_IRECV);
	/* Parked on the way, or a checkpoint came and went: the message may
	 * be in the drain queue now. */
	if (shim_call_was_parked() || drained_meanwhile(comm, source, tag)) {
		shim_call_end();
		shim_stage_free(&r->stage);
		shim_type_release(r->utype);
		r->utype = NULL;
		return shim_p2p_post_recv(r, fn, buf, count, type, held, source, tag, comm, on);
	}
	int64_t *e = ring_entry(m.type, count);
	fill_msg(e ? e : c->arg, &r->stage, m.type, r->base, count, type, source, tag, comm);
	if (e) {
		e[6] = (int64_t)(intptr_t)r->handle;
		chan_ring_publish(&shim.ch, CALL_IRECV);
		shim_call_end();
		return MPI_SUCCESS;
	}
	c->arg[6] = (int64_t)(intptr_t)r->handle;
	if ((err = shim_req_post_run(r, c))) {
		shim_stage_free(&r->stage);
		shim_type_release(r->utype);
		r->utype = NULL;
		return shim_error(comm, err, fn, NULL);
	}
	return MPI_SUCCESS;
}

int PMPI_Irecv(void *buf, int count, MPI_Datatype datatype, int source, int tag,
	       MPI_Comm comm, MPI_Request *request)
{
	struct shim_req *r = shim_req_new(SHIM_REQ_RECV, comm);

	if (!r)
		return shim_error(comm, MPI_ERR_NO_MEM, "MPI_Irecv", "no memory for a request");
	int err = shim_p2p_post_recv(r, "MPI_Irecv", buf, count, datatype, NULL, source, tag,
				     comm, NULL);
	if (err) {
		shim_req_complete(r, NULL);
		return err;
	}
	*request = r->handle;
	return MPI_SUCCESS;
}
SHIM_WEAK(Irecv)

/* The receive half of a Sendrecv matches a message drained at a
 * checkpoint: that message is older than anything the proxy has from its
 * sender, so it is taken from the drain queue and the send half goes out
 * alone.  Sendrecv_replace's outgoing data is packed first, since the
 * receive overwrites it. */
static int sendrecv_drained(const char *fn, const void *sbuf, int scount,
			    MPI_Datatype stype, int dest, int stag, void *rbuf, int rcount,
			    MPI_Datatype rtype, int source, int rtag, MPI_Comm comm,
			    MPI_Status *status)
{
	void *packed = NULL;
	int size = 0, pos = 0, err;

	if (sbuf == rbuf) {
		if ((err = PMPI_Pack_size(scount, stype, comm, &size)))
			return err;
		if (!(packed = malloc(size > 0 ? (size_t)size : 1)))
			return shim_error(comm, MPI_ERR_NO_MEM, fn, "no memory for the data to send");
		if ((err = PMPI_Pack(sbuf, scount, stype, packed, size, &pos, comm))) {
			free(packed);
			return err;
		}
		sbuf = packed;
		scount = pos;
		stype = MPI_PACKED;
	}
	err = PMPI_Recv(rbuf, rcount, rtype, source, rtag, comm, status);
	if (!err)
		err = PMPI_Send(sbuf, scount, stype, dest, stag, comm);
	free(packed);
	return err;
}

static int sendrecv(const char *fn, const void *sbuf, int scount, MPI_Datatype stype,
		    int dest, int stag, void *rbuf, int rcount, MPI_Datatype rtype,
		    int source, int rtag, MPI_Comm comm, MPI_Status *status)
{
	struct msg sm = { NULL, NULL }, rm = { NULL, NULL };
	struct shim_stage ss, rs;
	int64_t sbase, rbase;
	int err = check_msg(fn, sbuf, scount, stype, dest, stag, comm, 0, &sm);

	if (err || (err = check_msg(fn, rbuf, rcount, rtype, source, rtag, comm, 1, &rm)))
		return err;
	if (shim_mt())
		return shim_mt_sendrecv(sbuf, scount, stype, dest, stag, rbuf, rcount, rtype,
					source, rtag, comm, status);
	if (shim_drain_head && shim_drain_find(comm, source, rtag))
		return sendrecv_drained(fn, sbuf, scount, stype, dest, stag, rbuf, rcount, rtype,
					source, rtag, comm, status);
	/* Replace: the receive may land in place, so the send is a copy. */
	if ((err = shim_stage_send(sbuf, scount, sm.type,
				   sbuf == rbuf ? SHIM_STAGE_COPY : SHIM_STAGE_BORROW, &ss,
				   &sbase, fn)))
		return shim_error(comm, err, fn, NULL);
	if ((err = shim_stage_recv(rbuf, rcount, rm.type, &rs, &rbase, fn))) {
		shim_stage_free(&ss);
		return shim_error(comm, err, fn, NULL);
	}
	struct chan_call *c = shim_call_begin(CALL_SENDRECV);
	/* Parked on the way, or a checkpoint came and went: the message may
	 * be in the drain queue now. */
	if (shim_call_was_parked() || drained_meanwhile(comm, source, rtag)) {
		shim_call_end();
		shim_stage_free(&rs);
		shim_stage_free(&ss);
		return sendrecv(fn, sbuf, scount, stype, dest, stag, rbuf, rcount, rtype,
				source, rtag, comm, status);
	}
	fill_msg(c->arg, &ss, sm.type, sbase, scount, stype, dest, stag, comm);
	int64_t wrcount = rcount;
	MPI_Datatype wrtype = rtype;
	shim_stage_wire(&rs, rm.type, &wrcount, &wrtype);
	c->arg[5] = rbase;
	c->arg[6] = wrcount;
	c->arg[7] = (int64_t)(intptr_t)wrtype;
	c->arg[8] = source;
	c->arg[9] = rtag;
	c->arg[10] = (int64_t)(intptr_t)comm;
	c->arg[11] = spare_handle();
	err = shim_call_run(c);
	struct shim_req *kept = err == CHAN_RETRY || c->arg[11] == 1 ?
		send_kept(comm, &ss, sbase) : NULL;
	if (err == CHAN_RETRY) {
		/* Only the receive starts over; the send is done or kept. */
		shim_call_end();
		shim_stage_free(&rs);
		shim_stage_free(&ss);
		err = PMPI_Recv(rbuf, rcount, rtype, source, rtag, comm, status);
		int serr = kept ? send_wait_kept(kept) : MPI_SUCCESS;
		return err ? err : serr;
	}
	if (source == MPI_PROC_NULL)
		shim_status_proc_null(&c->status);
	shim_stage_unload_typed(rbuf, rcount, rm.type, rbase, rs.packed, &c->status);
	shim_status_out(status, &c->status);
	shim_call_end();
	shim_stage_free(&rs);
	shim_stage_free(&ss);
	err = shim_error(comm, err, fn, NULL);
	int serr = kept ? send_wait_kept(kept) : MPI_SUCCESS;
	return err ? err : serr;
}

int PMPI_Sendrecv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, int dest,
		  int sendtag, void *recvbuf, int recvcount, MPI_Datatype recvtype,
		  int source, int recvtag, MPI_Comm comm, MPI_Status *status)
{
	return sendrecv("MPI_Sendrecv", sendbuf, sendcount, sendtype, dest, sendtag,
			recvbuf, recvcount, recvtype, source, recvtag, comm, status);
}
SHIM_WEAK(Sendrecv)

/* The send is staged (copied, even from an MPI_Alloc_mem block), so
 * replacing in place is the same call with one user buffer. */
int PMPI_Sendrecv_replace(void *buf, int count, MPI_Datatype datatype, int dest,
			  int sendtag, int source, int recvtag, MPI_Comm comm,
			  MPI_Status *status)
{
	return sendrecv("MPI_Sendrecv_replace", buf, count, datatype, dest, sendtag,
			buf, count, datatype, source, recvtag, comm, status);
}
SHIM_WEAK(Sendrecv_replace)

static int probe(const char *fn, enum chan_call_id id, int source, int tag,
		 MPI_Comm comm, int *flag, MPI_Status *status)
{
	int err;
	struct shim_comm *co = shim_comm_check(comm, fn, &err);

	if (!co)
		return err;
	if ((err = shim_check_rank(co, source, 1)))
		return shim_errorf(comm, err, fn, "rank %d is not in [0, %d)", source, co->size);
	if ((err = shim_check_tag(tag, 1)))
		return shim_errorf(comm, err, fn, "tag %d", tag);
	if (id == CALL_PROBE && shim_mt())
		return shim_mt_probe(source, tag, comm, status);
	struct shim_drained *d = NULL;
	struct chan_status st;
	if (shim_ckpt_queue_enter()) {
		shim_state_lock(); /* another thread may take the message meanwhile */
		if ((d = shim_drain_find(comm, source, tag)))
			shim_drain_status(d, &st);
		shim_state_unlock();
		shim_ckpt_queue_leave();
	}
	if (d) {
		if (flag)
			*flag = 1;
		shim_status_out(status, &st);
		return MPI_SUCCESS;
	}
	struct chan_call *c = shim_call_begin(id);
	err = CHAN_RETRY; /* parked on the way: the message may be drained now */
	if (!shim_call_was_parked() && !drained_meanwhile(comm, source, tag)) {
		c->arg[0] = source;
		c->arg[1] = tag;
		c->arg[2] = (int64_t)(intptr_t)comm;
		err = shim_call_run(c);
	}
	if (err == CHAN_RETRY) {
		shim_call_end();
		return probe(fn, id, source, tag, comm, flag, status);
	}
	if (flag)
		*flag = (int)c->arg[3];
	if (!flag || *flag)
		shim_status_out(status, &c->status);
	shim_call_end();
	return shim_error(comm, err, fn, NULL);
}

int PMPI_Probe(int source, int tag, MPI_Comm comm, MPI_Status *status)
{
	return probe("MPI_Probe", CALL_PROBE, source, tag, comm, NULL, status);
}
SHIM_WEAK(Probe)

int PMPI_Iprobe(int source, int tag, MPI_Comm comm, int *flag, MPI_Status *status)
{
	return probe("MPI_Iprobe", CALL_IPROBE, source, tag, comm, flag, status);
}
SHIM_WEAK(Iprobe)
