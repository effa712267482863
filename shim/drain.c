/*
 * drain.c - messages drained out of the network at a checkpoint.
 *
 * When a checkpoint is taken, every message that was sent but not yet
 * received is pulled out of the real MPI by the proxy and kept here, in
 * application memory, so that it is part of the image and survives a
 * restart under another MPI.  Afterwards the receive calls (Recv, Irecv,
 * Probe, Iprobe) look here first: a drained message is older than
 * anything the proxy can still deliver from the same sender, so serving
 * these first keeps MPI's per-sender order.  The queue is empty almost
 * always, and the receive path tests that with one load.
 */
#include "shim.h"

#include <stdlib.h>
#include <string.h>

struct shim_drained *shim_drain_head;
unsigned shim_drain_epoch;
static struct shim_drained **tail = &shim_drain_head;

int shim_drain_push(MPI_Comm comm, int source, int tag, const void *data, size_t bytes)
{
	struct shim_drained *d = malloc(sizeof(*d) + bytes);

	if (!d)
		return MPI_ERR_NO_MEM;
	d->next = NULL;
	d->comm = comm;
	d->source = source;
	d->tag = tag;
	d->epoch = shim_drain_epoch;
	d->ack_to = -1;
	d->ack_tag = 0;
	d->bytes = bytes;
	memcpy(d->data, data, bytes);
	*tail = d;
	tail = &d->next;
	return MPI_SUCCESS;
}

static int matches(const struct shim_drained *d, MPI_Comm comm, int source, int tag)
{
	return d->comm == comm && (source == MPI_ANY_SOURCE || source == d->source) &&
	       (tag == MPI_ANY_TAG || tag == d->tag);
}

struct shim_drained *shim_drain_find(MPI_Comm comm, int source, int tag)
{
	for (struct shim_drained *d = shim_drain_head; d; d = d->next)
		if (matches(d, comm, source, tag))
			return d;
	return NULL;
}

void shim_drain_remove(struct shim_drained *victim)
{
	struct shim_drained **pp = &shim_drain_head;

	while (*pp != victim)
		pp = &(*pp)->next;
	*pp = victim->next;
	if (tail == &victim->next)
		tail = pp;
	if (victim->ack_to >= 0)
		shim_ssend_matched(victim);
	free(victim);
}

void shim_drain_status(const struct shim_drained *d, struct chan_status *st)
{
	int64_t bytes = (int64_t)d->bytes;

	memset(st, 0, sizeof(*st));
	st->source = d->source;
	st->tag = d->tag;
	memcpy(&st->internal[0], &bytes, sizeof(bytes));
}

int shim_drain_unpack(const struct shim_drained *d, void *buf, int count,
		      const struct shim_type *t, struct chan_status *st)
{
	int err = MPI_SUCCESS;
	int64_t cap = (int64_t)count * t->size, n = (int64_t)d->bytes;

	shim_drain_status(d, st);
	if (n > cap) {
		err = MPI_ERR_TRUNCATE;
		st->error = err;
		n = cap;
	}
	/* The wire image is the typemap's bytes in order: unpack it. */
	shim_type_unpack_raw(t, count, d->data, buf, n);
	return err;
}

int shim_drain_deliver(struct shim_drained *d, void *buf, int count,
		       const struct shim_type *t, struct chan_status *st)
{
	int err = shim_drain_unpack(d, buf, count, t, st);

	shim_drain_remove(d);
	return err;
}
