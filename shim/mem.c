/*
 * mem.c - MPI_Alloc_mem and MPI_Free_mem: memory the real MPI uses in
 * place.
 *
 * Memory an application asks MPI for is memory it means to communicate
 * from, so it comes from the channel arena, which the proxy maps too: a
 * buffer inside such a block reaches the real MPI as it is, with no
 * staging copy either way (shim/stage.c, shim/coll.c ask
 * shim_mem_in_arena).  Blocks are ARENA_ALIGN (64-byte) aligned.
 *
 * The arena is also where every other payload is staged, so Alloc_mem
 * blocks and large heap blocks (shim/heap.c) may take at most half of
 * it together (shim_mem_keep); beyond that, or before MPI_Init
 * (no channel yet), a block is plain heap memory, still correct, just
 * staged like any other buffer.  Both kinds are recorded here, in
 * application memory, so MPI_Free_mem knows which it was given and
 * rejects a pointer that is neither.  Info hints are accepted and
 * ignored.
 *
 * Across a checkpoint nothing is special: the image keeps every used
 * range of the arena and a restart puts it back at the same address
 * (shim/ckpt.c), contents and pending receives into it included.
 * The table is guarded by the arena lock (shim_arena_lock: threads of
 * a MULTIPLE application allocate, and with the shared heap any thread
 * cuts arena blocks through malloc).
 */
#include "shim.h"

#include <stdlib.h>

#include "util/grow.h"

/* One block handed out. */
struct mem_block {
	uintptr_t addr;
	uint64_t len;       /* bytes asked for */
	int in_arena;       /* arena block at addr - arena start, else malloc'ed */
};

static struct mem_block *blocks;
static size_t nblocks, cap;
static size_t narena;             /* blocks in the arena */
static uint64_t arena_taken;      /* bytes they and heap blocks were asked for */

int shim_mem_keep(uint64_t len)
{
	if (!shim.attached || len > shim.arena.size / 2 - arena_taken)
		return -1;
	arena_taken += len;
	return 0;
}

void shim_mem_unkeep(uint64_t len)
{
	arena_taken -= len;
}

/* An arena block of len bytes, or NULL when the arena is not there or
 * kept blocks would take more than half of it. */
static void *arena_take(uint64_t len)
{
	if (shim_mem_keep(len) < 0)
		return NULL;
	uint64_t off = arena_alloc(&shim.arena, len);

	if (off == ARENA_NONE) {
		shim_mem_unkeep(len);
		return NULL;
	}
	return chan_arena_ptr(&shim.ch, off);
}

static void *take(uint64_t len, int *in_arena)
{
	void *p;

	if (dm_grow((void **)&blocks, &cap, nblocks + 1, sizeof(*blocks)) < 0)
		return NULL;
	p = arena_take(len);
	*in_arena = p != NULL;
	if (!p)
		p = malloc(len ? (size_t)len : 1);
	if (p)
		blocks[nblocks++] = (struct mem_block){ (uintptr_t)p, len, *in_arena };
	return p;
}

int PMPI_Alloc_mem(MPI_Aint size, MPI_Info info, void *baseptr)
{
	static const char fn[] = "MPI_Alloc_mem";
	int err, in_arena;

	if ((err = shim_info_check(info, SHIM_NOCOMM, fn)))
		return err;
	if (size < 0 || !baseptr)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn, "size %ld, baseptr %p", (long)size,
				   baseptr);
	shim_arena_lock();
	void *p = take((uint64_t)size, &in_arena);
	if (p && in_arena)
		narena++;
	shim_arena_unlock();
	if (!p)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, "%ld bytes", (long)size);
	*(void **)baseptr = p;
	return MPI_SUCCESS;
}
SHIM_WEAK(Alloc_mem)

/* Free the block that starts at base; -1 if none does. */
static int give_back(uintptr_t base)
{
	for (size_t i = 0; i < nblocks; i++) {
		struct mem_block b = blocks[i];
		if (b.addr != base)
			continue;
		blocks[i] = blocks[--nblocks];
		shim_mem_tables_changed();
		if (!b.in_arena) {
			free((void *)b.addr);
			return 0;
		}
		arena_free(&shim.arena, (uint64_t)(b.addr - (uintptr_t)shim.ch.arena), b.len);
		shim_mem_unkeep(b.len);
		narena--;
		return 0;
	}
	return -1;
}

int PMPI_Free_mem(void *base)
{
	if (!base)
		return MPI_SUCCESS; /* what Alloc_mem(0) gives in some MPIs */
	shim_arena_lock();
	int rc = give_back((uintptr_t)base);
	shim_arena_unlock();
	if (rc < 0)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, "MPI_Free_mem",
				   "%p is not memory MPI_Alloc_mem gave out", base);
	return MPI_SUCCESS;
}
SHIM_WEAK(Free_mem)

/* The last block each thread found in the tables, while tables_gen is
 * what it was then: a program calls MPI on the same few buffers over
 * and over, and this spares each call the arena lock and the searches
 * (8-byte ping-pong on a heap buffer: about 170 instructions a call).
 * tables_gen steps, under the arena lock, whenever a block of either
 * table goes or shrinks (shim_mem_tables_changed), before its range can
 * be handed out again; a thread that allocates that range later takes
 * the lock after the step, so it sees the step too.  A block freed by
 * one thread while another passes it to MPI is the program's own race. */
static _Atomic uint64_t tables_gen = 1;
static _Thread_local struct {
	uint64_t gen;     /* tables_gen when found; 0: nothing found yet */
	uintptr_t lo, hi; /* the block's bytes [lo, hi) */
} last;

void shim_mem_tables_changed(void)
{
	atomic_fetch_add_explicit(&tables_gen, 1, memory_order_relaxed);
}

static int in_span(uintptr_t at, uint64_t len, uintptr_t lo, uintptr_t hi)
{
	return at >= lo && at <= hi && len <= hi - at;
}

/* The Alloc_mem block in the arena holding [at, at + len), or 0. */
static int find_block(uintptr_t at, uint64_t len, uintptr_t *lo, uintptr_t *hi)
{
	for (size_t i = 0; narena && i < nblocks; i++) {
		*lo = blocks[i].addr;
		*hi = blocks[i].addr + blocks[i].len;
		if (blocks[i].in_arena && in_span(at, len, *lo, *hi))
			return 1;
	}
	return 0;
}

DM_HOT int shim_mem_in_arena(const void *p, uint64_t len)
{
	uintptr_t at = (uintptr_t)p, start = (uintptr_t)shim.ch.arena;
	uintptr_t lo, hi;

	/* Most buffers are not in the arena at all: no lock, no search. */
	if (!shim.attached || at < start || at - start > shim.arena.size ||
	    len > shim.arena.size - (at - start))
		return 0;
	if (last.gen == atomic_load_explicit(&tables_gen, memory_order_relaxed) &&
	    in_span(at, len, last.lo, last.hi))
		return 1;
	shim_arena_lock();
	uint64_t gen = atomic_load_explicit(&tables_gen, memory_order_relaxed);
	int found = find_block(at, len, &lo, &hi) || shim_heap_holds(p, len, &lo, &hi);
	shim_arena_unlock();
	if (found)
		last.gen = gen, last.lo = lo, last.hi = hi;
	return found;
}
