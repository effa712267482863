/*
 * table.c - the proxy's side of virtual handles.
 *
 * The shim hands out handles kind << 24 | index (shim/handle.c); the proxy
 * stores the real object for index i of a kind at slot i of that kind's
 * array.  Predefined handles (below 0x1000) are translated by fixed
 * tables in proxy/xlate.c.  Slots grow on demand, never shrink: indices
 * are reused by the shim, so an array is as long as the most objects of
 * its kind ever alive at once.
 *
 * Requests carry one more byte each, in an array of its own: whether a
 * checkpoint must treat them as a send or a receive (px_req_mark), and
 * the order they were marked in (PARK cancels receives latest first).
 */
#include "px.h"

#include <string.h>

#include "util/exitcode.h"
#include "util/grow.h"
#include "util/log.h"

/* Kinds as in shim/shim.h (enum shim_kind). */
enum { K_COMM = 1, K_REQ = 3, K_TYPE = 4, K_OP = 5 };

#define H_KIND(h) ((int)(((uint64_t)(h) >> 24) & 0x7f))
#define H_INDEX(h) ((uint32_t)((uint64_t)(h) & 0xffffff))

struct slots {
	void *v;          /* array of the real handle type */
	size_t len;       /* slots, each set (the NULL handle until used) */
	size_t elem;
	const void *null; /* the real NULL handle to fill new slots with */
};

static MPI_Comm comm_null = MPI_COMM_NULL;
static MPI_Request req_null = MPI_REQUEST_NULL;
static MPI_Datatype type_null = MPI_DATATYPE_NULL;
static struct slots comms = { NULL, 0, sizeof(MPI_Comm), &comm_null };
static struct slots reqs = { NULL, 0, sizeof(MPI_Request), &req_null };
static const unsigned char kind_other = PX_REQ_OTHER;
static struct slots kinds = { NULL, 0, 1, &kind_other };
static const uint64_t order_none = 0;
static struct slots orders = { NULL, 0, sizeof(uint64_t), &order_none };
static uint64_t marks;
static struct slots types = { NULL, 0, sizeof(MPI_Datatype), &type_null };

/* Pointer to slot idx, growing the array; dies on ENOMEM (the proxy
 * cannot serve the application without its tables). */
static void *slot(struct slots *s, uint32_t idx)
{
	if (idx >= s->len) {
		size_t old = s->len;
		if (dm_grow(&s->v, &s->len, (size_t)idx + 1, s->elem) < 0)
			dm_die(DM_EXIT_INTERNAL, "proxy: out of memory for handle tables");
		for (size_t i = old; i < s->len; i++)
			memcpy((char *)s->v + i * s->elem, s->null, s->elem);
	}
	return (char *)s->v + (size_t)idx * s->elem;
}

DM_HOT MPI_Comm px_comm(int64_t abi)
{
	if (abi == ABI_COMM_WORLD)
		return MPI_COMM_WORLD;
	if (abi == ABI_COMM_SELF)
		return MPI_COMM_SELF;
	if (H_KIND(abi) != K_COMM || H_INDEX(abi) >= comms.len)
		return MPI_COMM_NULL;
	return ((MPI_Comm *)comms.v)[H_INDEX(abi)];
}

void px_comm_set(int64_t abi, MPI_Comm real)
{
	*(MPI_Comm *)slot(&comms, H_INDEX(abi)) = real;
}

MPI_Comm px_comm_take(int64_t abi)
{
	MPI_Comm c = px_comm(abi);

	if (H_KIND(abi) == K_COMM && H_INDEX(abi) < comms.len)
		((MPI_Comm *)comms.v)[H_INDEX(abi)] = MPI_COMM_NULL;
	return c;
}

MPI_Request *px_req_slot(int64_t abi)
{
	return slot(&reqs, H_INDEX(abi));
}

MPI_Datatype px_type_derived(int64_t abi)
{
	if (H_KIND(abi) != K_TYPE || H_INDEX(abi) >= types.len)
		return MPI_DATATYPE_NULL;
	return ((MPI_Datatype *)types.v)[H_INDEX(abi)];
}

void px_type_set(int64_t abi, MPI_Datatype real)
{
	*(MPI_Datatype *)slot(&types, H_INDEX(abi)) = real;
}

MPI_Datatype px_type_take(int64_t abi)
{
	MPI_Datatype t = px_type_derived(abi);

	if (t != MPI_DATATYPE_NULL)
		((MPI_Datatype *)types.v)[H_INDEX(abi)] = MPI_DATATYPE_NULL;
	return t;
}

void px_req_mark(int64_t abi, enum px_req_kind kind)
{
	*(unsigned char *)slot(&kinds, H_INDEX(abi)) = (unsigned char)kind;
	if (kind != PX_REQ_OTHER)
		*(uint64_t *)slot(&orders, H_INDEX(abi)) = ++marks;
}

uint64_t px_req_order(int64_t abi)
{
	if (H_INDEX(abi) >= orders.len)
		return 0;
	return ((uint64_t *)orders.v)[H_INDEX(abi)];
}

enum px_req_kind px_req_kind(int64_t abi)
{
	if (H_INDEX(abi) >= kinds.len)
		return PX_REQ_OTHER;
	return ((unsigned char *)kinds.v)[H_INDEX(abi)];
}

int px_req_each(int (*fn)(int64_t abi, MPI_Request *r, enum px_req_kind kind, void *arg),
		void *arg)
{
	for (uint32_t i = 0; i < kinds.len; i++) {
		unsigned char k = ((unsigned char *)kinds.v)[i];
		if (k == PX_REQ_OTHER)
			continue;
		int64_t abi = (int64_t)((uint64_t)K_REQ << 24 | i);
		int rc = fn(abi, px_req_slot(abi), k, arg);
		if (rc)
			return rc;
	}
	return 0;
}

int px_comm_each(int (*fn)(int64_t abi, MPI_Comm real, void *arg), void *arg)
{
	for (uint32_t i = 0; i < comms.len; i++) {
		MPI_Comm real = ((MPI_Comm *)comms.v)[i];
		if (real == MPI_COMM_NULL)
			continue;
		int rc = fn((int64_t)((uint64_t)K_COMM << 24 | i), real, arg);
		if (rc)
			return rc;
	}
	return 0;
}
