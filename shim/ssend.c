/*
 * ssend.c - synchronous sends across a checkpoint's DRAIN.
 *
 * MPI completes a synchronous send (Ssend, Issend, Ssend_init) only once
 * its receive has started.  DRAIN receives every message in flight into
 * the receiver's drain queue, so the real send completes though the
 * receiving application may not have posted its receive yet; NBX-style
 * exchanges (Issend, then Ibarrier once they all completed) could then
 * leave a message unread.  So:
 *
 *  - PARK: the proxy lets go of every synchronous send still incomplete
 *    and reports it with the number of sends to the same (destination,
 *    communicator, tag) started after it (proxy/ssend.c).  The request
 *    becomes a wait for an acknowledgement (shim_ssend_parked): a 0-byte
 *    receive from the destination, under a tag of its own, on a private
 *    dup of WORLD (shim_ssend_comm).  Like any pending receive it is
 *    posted at the end of the checkpoint, and parked and drained at later
 *    ones, restarts included.  The request tells the destination what it
 *    was in an *info* message (tag 0 on that communicator), sent at this
 *    rank's first DRAIN (shim_ssend_commit), so DRAIN's counts see it
 *    delivered before the image.
 *  - Until then the conversion is only noted: no DRAIN runs anywhere
 *    before every rank has parked, so a checkpoint that fails first
 *    left the message in the network and the proxy still holds the real
 *    request; at RESUME the request is a synchronous send again and the
 *    info is dropped unsent (shim_ssend_undo, proxy/ssend.c).
 *  - DRAIN takes the info out of the network with everything else;
 *    keep_drained (shim/ckpt.c) gives it to shim_ssend_info.  An info a
 *    checkpoint that failed during DRAIN left in flight is taken at the
 *    receiver's RESUME or next TARGETS instead (sweep_infos), and placed
 *    at once among that checkpoint's entries still in the queue; the
 *    acknowledgements that owes go through the proxy's control slot
 *    (shim_ssend_take_acks).
 *  - At the end of the checkpoint (shim_ssend_settle, before the parked
 *    receives are posted again) the destination finds the message: for
 *    one (sender, comm, tag) the messages real receives matched are a
 *    prefix of the send order (non-overtaking), so this checkpoint's
 *    drained ones are a suffix, and the send with `later` sends after it
 *    is entry D-1-later of the D drained now, if later < D.  That entry
 *    is marked; otherwise a real receive had matched the message before
 *    the checkpoint and the acknowledgement goes at once.
 *  - When the application takes a marked entry out of the drain queue
 *    (shim_drain_remove), the acknowledgement is queued and sent once the
 *    queue's locks are released (shim_ssend_flush).
 *
 * Nothing here runs while no synchronous send is pending at a
 * checkpoint: the send path is untouched, the receive path tests one
 * pointer (shim_ssend_outbox).
 */
#include "shim.h"

#include <stdlib.h>
#include <string.h>

#include "util/grow.h"
#include "util/log.h"

MPI_Comm shim_ssend_comm = MPI_COMM_NULL;

/* Acknowledgement tags: 1..ACK_TAG_MAX, in turn (tag 0 is the info).
 * Two pending waits of one sender on one receiver share a tag only
 * after ACK_TAG_MAX more conversions.  32767 is the least MPI_TAG_UB. */
#define ACK_TAG_MAX 32767
static int ack_tag_last;

struct shim_ssend_out *shim_ssend_outbox;
static struct shim_ssend_out **outbox_tail = &shim_ssend_outbox;

/* From PARK to this rank's first DRAIN of a checkpoint: the infos of the
 * sends PARK took, not sent yet, and those sends' requests.  Only the
 * checkpoint thread touches them. */
static int noting;
static struct shim_ssend_out *noted, **noted_tail = &noted;
static MPI_Request *noted_req;
static size_t nnoted_req, cap_noted_req;

/* Infos drained at this checkpoint, for shim_ssend_settle. */
struct info {
	int from;                /* the sender's world rank */
	int64_t word[SHIM_INFO_WORDS];
};
static struct info *infos;
static size_t ninfos, cap_infos;

int shim_ssend_init(void)
{
	return PMPI_Comm_dup(MPI_COMM_WORLD, &shim_ssend_comm);
}

static struct shim_ssend_out *new_out(int to, int tag, const int64_t *word, int n)
{
	struct shim_ssend_out *o = malloc(sizeof(*o));

	if (!o) {
		dm_err("rank %d: no memory to acknowledge a synchronous send to rank %d; "
		       "it stays incomplete", shim.world_rank, to);
		return NULL;
	}
	o->next = NULL;
	o->to = to;
	o->tag = tag;
	o->n = n;
	if (n)
		memcpy(o->word, word, (size_t)n * sizeof(*word));
	return o;
}

/* Queue the messages from o to *last for shim_ssend_flush.  The
 * checkpoint thread and an application thread (an acknowledgement,
 * shim_ssend_flush) may meet here at any thread level, so the lock is
 * taken below MULTIPLE too. */
static void queue_list(struct shim_ssend_out *o, struct shim_ssend_out **last)
{
	shim_state_lock_always();
	*outbox_tail = o;
	outbox_tail = last;
	shim_state_unlock_always();
}

static void queue(int to, int tag, const int64_t *word, int n)
{
	struct shim_ssend_out *o = new_out(to, tag, word, n);

	if (o)
		queue_list(o, &o->next);
}

/* PARK took the send of request h, whose info is o: both wait for this
 * rank's first DRAIN.  0, or -1 without memory. */
static int note(MPI_Request h, struct shim_ssend_out *o)
{
	if (dm_grow((void **)&noted_req, &cap_noted_req, nnoted_req + 1, sizeof(*noted_req)) < 0)
		return -1;
	noted_req[nnoted_req++] = h;
	*noted_tail = o;
	noted_tail = &o->next;
	return 0;
}

static int world_of(const struct shim_comm *c, int rank)
{
	const int *w = c->remote ? c->remote : c->world;
	int n = c->remote ? c->remote_size : c->size;

	return rank >= 0 && rank < n ? w[rank] : -1;
}

void shim_ssend_parked(struct shim_req *r, const struct chan_parked *p)
{
	const struct shim_comm *c = shim_comm_any(r->comm);
	int to = c ? world_of(c, p->status.source) : -1;

	if (to < 0) { /* cannot be: the proxy sent it there */
		dm_err("rank %d: a synchronous send to rank %d has no destination; "
		       "it stays incomplete", shim.world_rank, p->status.source);
		return;
	}
	ack_tag_last = ack_tag_last % ACK_TAG_MAX + 1;
	int64_t word[SHIM_INFO_WORDS] = {
		[SHIM_INFO_GID] = c->gid,
		[SHIM_INFO_COMM] = (int64_t)(intptr_t)r->comm,
		[SHIM_INFO_TAG] = p->status.tag,
		[SHIM_INFO_LATER] = p->later,
		[SHIM_INFO_ACK_TAG] = ack_tag_last,
	};
	struct shim_ssend_out *o = new_out(to, 0, word, SHIM_INFO_WORDS);
	if (o && !noting) {
		queue_list(o, &o->next);
	} else if (o && note(r->handle, o) < 0) {
		dm_err("rank %d: no memory to note a synchronous send to rank %d; "
		       "it stays incomplete", shim.world_rank, to);
		free(o);
	}
	r->ack_wait = 1;
	r->ack_peer = to;
	r->ack_tag = ack_tag_last;
	r->repost = 1;
}

void shim_ssend_park_begin(void)
{
	noting = 1;
}

void shim_ssend_commit(void)
{
	if (!noting)
		return;
	noting = 0;
	nnoted_req = 0;
	if (noted)
		queue_list(noted, noted_tail);
	noted = NULL;
	noted_tail = &noted;
}

void shim_ssend_undo(void)
{
	if (!noting)
		return;
	noting = 0;
	for (size_t i = 0; i < nnoted_req; i++) {
		struct shim_req *r = shim_req_get(noted_req[i]);
		if (r) {
			r->ack_wait = 0;
			r->repost = 0;
		}
	}
	nnoted_req = 0;
	while (noted) {
		struct shim_ssend_out *o = noted;
		noted = o->next;
		free(o);
	}
	noted_tail = &noted;
}

void shim_ssend_info(int from, const void *data, size_t bytes)
{
	int malformed = bytes != sizeof(infos->word);

	if (malformed || dm_grow((void **)&infos, &cap_infos, ninfos + 1, sizeof(*infos)) < 0) {
		dm_err("rank %d: %s from rank %d; its synchronous send stays incomplete",
		       shim.world_rank, malformed ? "a malformed info message" : "no memory for the info",
		       from);
		return;
	}
	infos[ninfos].from = from;
	memcpy(infos[ninfos].word, data, bytes);
	ninfos++;
}

/* Drained entry d is one of this checkpoint's from world rank `from` on
 * the communicator and tag info i names. */
static int same_key(const struct shim_drained *d, const struct info *i)
{
	const struct shim_comm *c = shim_comm_any(d->comm);

	if (!c || d->epoch != shim_drain_epoch || d->tag != i->word[SHIM_INFO_TAG] ||
	    world_of(c, d->source) != i->from)
		return 0;
	/* SELF and its dups share gid -1; only this process sends on them. */
	return i->word[SHIM_INFO_GID] >= 0 ? c->gid == i->word[SHIM_INFO_GID]
				      : (int64_t)(intptr_t)d->comm == i->word[SHIM_INFO_COMM];
}

/* The drained entry info i names, or NULL if a real receive took it. */
static struct shim_drained *find_entry(const struct info *i)
{
	int64_t n = 0, k;
	struct shim_drained *d;

	for (d = shim_drain_head; d; d = d->next)
		n += same_key(d, i);
	if (i->word[SHIM_INFO_LATER] >= n)
		return NULL;
	k = n - 1 - i->word[SHIM_INFO_LATER];
	for (d = shim_drain_head; d; d = d->next)
		if (same_key(d, i) && k-- == 0)
			break;
	return d;
}

void shim_ssend_settle(void)
{
	shim_state_lock();
	for (size_t k = 0; k < ninfos; k++) {
		struct shim_drained *d = find_entry(&infos[k]);
		if (d) {
			d->ack_to = infos[k].from;
			d->ack_tag = (int)infos[k].word[SHIM_INFO_ACK_TAG];
			continue;
		}
		/* Rare but real; tests/ckpt-mpi/restart_issend.sh makes it
		 * with DMTCP_MPI_FAULT=ssend-unseen and greps this line. */
		if (dm_verbose())
			dm_info("rank %d: a synchronous send of rank %d was received before the "
				"checkpoint: acknowledged at once", shim.world_rank, infos[k].from);
		queue(infos[k].from, (int)infos[k].word[SHIM_INFO_ACK_TAG], NULL, 0);
	}
	free(infos);
	infos = NULL;
	ninfos = cap_infos = 0;
	shim_state_unlock();
}

void shim_ssend_matched(const struct shim_drained *d)
{
	queue(d->ack_to, d->ack_tag, NULL, 0);
}

struct shim_ssend_out *shim_ssend_take(void)
{
	shim_state_lock_always();
	struct shim_ssend_out *o = shim_ssend_outbox;
	shim_ssend_outbox = NULL;
	outbox_tail = &shim_ssend_outbox;
	shim_state_unlock_always();
	return o;
}

int shim_ssend_take_acks(struct chan_ack *out, int max)
{
	struct shim_ssend_out **pp = &shim_ssend_outbox, *gone = NULL;
	int n = 0;

	shim_state_lock_always();
	while (*pp && n < max) {
		struct shim_ssend_out *o = *pp;
		if (o->n) {
			pp = &o->next;
			continue;
		}
		out[n].to = o->to;
		out[n].tag = o->tag;
		n++;
		*pp = o->next;
		o->next = gone;
		gone = o;
	}
	/* At the end pp is the next of the last message kept, or the head:
	 * the new tail.  Stopped at max, the tail was not reached. */
	if (!*pp)
		outbox_tail = pp;
	shim_state_unlock_always();
	while (gone) {
		struct shim_ssend_out *o = gone;
		gone = o->next;
		free(o);
	}
	return n;
}

void shim_ssend_flush_now(int exempt)
{
	struct shim_ssend_out *o = shim_ssend_take();
	int was = shim_ck_exempt;
	shim_ck_exempt = exempt;
	while (o) {
		struct shim_ssend_out *next = o->next;
		MPI_Request r;
		if (PMPI_Isend(o->word, o->n, MPI_INT64_T, o->to, o->tag, shim_ssend_comm, &r) ==
		    MPI_SUCCESS)
			PMPI_Request_free(&r);
		free(o);
		o = next;
	}
	shim_ck_exempt = was;
}

int shim_ssend_repost(struct shim_req *r)
{
	if (!r->ack_wait)
		return 0;
	struct shim_type *byte;
	shim_type_check(MPI_BYTE, &byte);
	/* DRAIN is over: the real send has delivered what it staged. */
	shim_stage_free(&r->stage);
	r->ubuf = NULL;
	r->bottom = 0;
	shim_state_lock();
	struct shim_drained *d = shim_drain_find(shim_ssend_comm, r->ack_peer, r->ack_tag);
	struct chan_status st;
	r->repost = 0;
	if (d)
		shim_drain_deliver(d, NULL, 0, byte, &st);
	shim_state_unlock();
	if (d) {
		shim_req_done_locally(r, &st);
		return 1;
	}
	struct chan_call *c = shim_call_begin(CALL_IRECV);
	c->arg[0] = 0;
	c->arg[1] = 0;
	c->arg[2] = (int64_t)(intptr_t)MPI_BYTE;
	c->arg[3] = r->ack_peer;
	c->arg[4] = r->ack_tag;
	c->arg[5] = (int64_t)(intptr_t)shim_ssend_comm;
	c->arg[6] = (int64_t)(intptr_t)r->handle;
	shim_req_post_run(r, c);
	return 1;
}
