/*
 * ring.c - the post ring: reply-less ISEND and IRECV (chan/chan.h, "The
 * post ring").
 *
 * Single producer (the application, under the shim's call lock), single
 * consumer (the proxy's main thread).  The producer owns seq[CHAN_POSTS],
 * the count published; the consumer owns hdr->ring_taken, the count
 * taken.  An entry is written before the step that publishes it
 * (chan_post, seq_cst) and read after the load that sees the step; it is
 * reused only after the consumer's store of ring_taken says it was
 * copied out.  Both counts wrap modulo 2^32; their difference never
 * exceeds CHAN_RING_SIZE.
 */
#include "chan/chan.h"
#include "util/hot.h"

int64_t *chan_ring_claim(struct chan *ch)
{
	struct chan_hdr *h = ch->hdr;
	uint32_t top = atomic_load_explicit(&h->seq[CHAN_POSTS], memory_order_relaxed);
	uint32_t taken = atomic_load_explicit(&h->ring_taken, memory_order_acquire);

	if (top - taken >= CHAN_RING_SIZE)
		return NULL;
	return h->ring[top % CHAN_RING_SIZE].arg;
}

void chan_ring_publish(struct chan *ch, uint32_t id)
{
	struct chan_hdr *h = ch->hdr;
	uint32_t top = atomic_load_explicit(&h->seq[CHAN_POSTS], memory_order_relaxed);

	h->ring[top % CHAN_RING_SIZE].id = id;
	chan_post(ch, CHAN_POSTS);
}

int chan_ring_waiting(const struct chan *ch)
{
	const struct chan_hdr *h = ch->hdr;

	return atomic_load_explicit(&h->seq[CHAN_POSTS], memory_order_acquire) !=
	       atomic_load_explicit(&h->ring_taken, memory_order_relaxed);
}

DM_HOT int chan_ring_next(struct chan *ch, struct chan_ring_post *out)
{
	struct chan_hdr *h = ch->hdr;
	uint32_t taken = atomic_load_explicit(&h->ring_taken, memory_order_relaxed);

	if (atomic_load_explicit(&h->seq[CHAN_POSTS], memory_order_acquire) == taken)
		return 0;
	*out = h->ring[taken % CHAN_RING_SIZE];
	atomic_store_explicit(&h->ring_taken, taken + 1, memory_order_release);
	return 1;
}
