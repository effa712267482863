/*
 * handle.c - virtual handles: what the application holds instead of real
 * MPI handles.
 *
 * A handle is (kind << 24 | index), always above the 0..4095 range the
 * standard ABI reserves for predefined handles and never 0.  Index i of a
 * kind names the same object in the shim (obj[i]) and in the proxy's
 * table for that kind, so no id is ever exchanged back: the shim picks
 * it, the proxy stores the real object under it.  Because the id lives in
 * application memory it survives a checkpoint, and a restarted proxy
 * stores the rebuilt real object under the same id.
 *
 * Freed indices are reused (requests are created at a high rate); the
 * free list is a stack so a just-freed index is reused first and the
 * proxy's tables stay small.  Under MPI_THREAD_MULTIPLE every access
 * holds shim_state_mu: a table may move when it grows.
 */
#include "shim.h"

#include "util/grow.h"

struct handle_table {
	void **obj;        /* obj[idx], NULL when free; idx 0 unused */
	uint32_t *free;    /* stack of free indices */
	uint32_t nfree;
	uint32_t len;      /* indices handed out so far, including 0 */
	size_t cap_obj, cap_free; /* room in obj and free (grown apart: one may fail) */
};

static struct handle_table tables[SHIM_K_COUNT];

/* Room for index t->len; -1 past the last index a handle can hold, or
 * without memory. */
static int table_grow(struct handle_table *t)
{
	size_t need = (size_t)t->len + 1;

	if (t->len > SHIM_H_INDEX(~(uintptr_t)0))
		return -1;
	if (dm_grow((void **)&t->obj, &t->cap_obj, need, sizeof(*t->obj)) < 0 ||
	    dm_grow((void **)&t->free, &t->cap_free, need, sizeof(*t->free)) < 0)
		return -1;
	return 0;
}

static uintptr_t handle_new(enum shim_kind kind, void *obj)
{
	struct handle_table *t = &tables[kind];
	uint32_t idx;

	if (t->nfree) {
		idx = t->free[--t->nfree];
	} else {
		if (t->len == 0)
			t->len = 1; /* index 0 is never a handle */
		if (table_grow(t) < 0)
			return 0;
		idx = t->len++;
	}
	t->obj[idx] = obj;
	return SHIM_H_MAKE(kind, idx);
}

static void *handle_get(enum shim_kind kind, uintptr_t h)
{
	struct handle_table *t = &tables[kind];
	uint32_t idx = SHIM_H_INDEX(h);

	if (SHIM_H_KIND(h) != (int)kind || h >> 31 || idx == 0 || idx >= t->len)
		return NULL;
	return t->obj[idx];
}

uintptr_t shim_handle_new(enum shim_kind kind, void *obj)
{
	shim_state_lock();
	uintptr_t h = handle_new(kind, obj);
	shim_state_unlock();
	return h;
}

void *shim_handle_get(enum shim_kind kind, uintptr_t h)
{
	shim_state_lock();
	void *obj = handle_get(kind, h);
	shim_state_unlock();
	return obj;
}

void shim_handle_free(enum shim_kind kind, uintptr_t h)
{
	struct handle_table *t = &tables[kind];
	uint32_t idx = SHIM_H_INDEX(h);

	shim_state_lock();
	if (handle_get(kind, h)) {
		t->obj[idx] = NULL;
		t->free[t->nfree++] = idx;
	}
	shim_state_unlock();
}

void shim_handle_each(enum shim_kind kind,
		      void (*fn)(uintptr_t h, void *obj, void *arg), void *arg)
{
	struct handle_table *t = &tables[kind];

	shim_state_lock();
	for (uint32_t i = 1; i < t->len; i++)
		if (t->obj[i])
			fn(SHIM_H_MAKE(kind, i), t->obj[i], arg);
	shim_state_unlock();
}
