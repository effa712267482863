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

int shim_drain_deliver(struct shim_drained *d, void *buf, int count, MPI_Datatype type,
		       struct chan_status *st)
{
	size_t size, extent;
	int err = shim_type_info(type, &size, &extent);

	if (err)
		return err;
	shim_drain_status(d, st);
	size_t cap = (size_t)count * size;
	if (d->bytes > cap) {
		err = MPI_ERR_TRUNCATE;
		st->error = err;
	}
	size_t n = d->bytes < cap ? d->bytes : cap;
	if (size == extent) {
		memcpy(buf, d->data, n);
	} else {
		int pos = 0;
		/* Unpack from the wire image with the receiver's datatype. */
		PMPI_Unpack(d->data, (int)n, &pos, buf, (int)(n / size), type, d->comm);
	}
	shim_drain_remove(d);
	return err;
}
