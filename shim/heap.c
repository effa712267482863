/*
 * heap.c - the application's large heap blocks, in the channel arena.
 *
 * Real codes malloc the arrays they communicate.  A buffer outside the
 * arena costs a staging copy each way (shim/stage.c): a malloc'ed 1 MiB
 * ping-pong ran at about half native speed.  So once MPI_Init has
 * attached the channel, a request of SHIM_HEAP_MIN bytes or more (the
 * size from which glibc maps blocks of their own anyway) is cut from the
 * arena, which the proxy maps too, and MPI calls on it borrow the bytes
 * in place, as for MPI_Alloc_mem (shim_mem_in_arena asks here).  Smaller
 * or earlier requests, and any the arena cannot take (its Alloc_mem and
 * heap blocks may fill half of it together: shim_mem_keep), go to glibc's
 * own allocator (__libc_*), still correct, just staged.
 *
 * The entry points are shim_heap_*; shim/malloc.c makes them the
 * process's malloc family, and when the checkpoint engine is preloaded
 * (its wrappers come first) they are registered with it instead.  A
 * pointer is ours if it lies inside the arena mapping; the table of
 * blocks, sorted by address, is in application memory (so in an image)
 * and grows with __libc_realloc, never with itself.
 *
 * Locking: the shim's state lock (shim_state_mu, a leaf, which survives
 * a restart held: shim/rlock.h) guards the table and the arena; staging
 * takes it through shim_arena_lock whatever the thread level, since
 * plain threads may allocate while the MPI thread stages.  While the engine
 * has the other threads stopped (world()) one of them may hold it,
 * so allocations go to glibc and frees of arena blocks are put on a
 * list, lock-free, to be done by the next call after.
 *
 * Freed blocks keep their pages while they add up to keep_limit() (the
 * most recent ones); older ones give back the whole pages of theirs that
 * are still free (MADV_REMOVE on the shared memfd), so a malloc/free
 * loop neither grows shared memory nor pays a page fault per page per
 * round (measured here: 1 MiB malloc, memset, free in 22 us from glibc,
 * 494 us when every free gave the pages back: a fault on a shared page
 * costs about 2 us in this VM).  glibc too keeps up to 64 MiB.
 *
 * In a fork()ed child the arena is mapped private over itself: the
 * child's writes never reach the parent; it makes no new arena blocks
 * and forgets the ones it frees.
 * After MPI_Finalize blocks stay valid (the mapping stays); new requests
 * go to glibc.  A checkpoint keeps the arena's used ranges, heap blocks
 * among them (shim/ckpt.c).
 */
#include "shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ckpt/ckpt.h"
#include "util/exitcode.h"
#include "util/grow.h"
#include "util/log.h"

extern void *__libc_malloc(size_t n);
extern void __libc_free(void *p);
extern void *__libc_calloc(size_t a, size_t b);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);

/* One block handed out: user pointer, and the arena block around it. */
struct heap_block {
	uintptr_t user;
	uint64_t off;   /* arena offset of the block */
	uint64_t len;   /* bytes asked of the arena */
	uint64_t size;  /* bytes the application asked for */
};

static struct heap_block *blocks;
static size_t nblocks, cap;
static int heap_on;                  /* attached with the shared heap on */
static int heap_child;               /* a fork()ed child: arena private */
static _Atomic int heap_stopped;     /* the engine stopped other threads */
static void *_Atomic deferred;       /* frees while they were stopped */
static size_t (*libc_usable)(void *);

/* Freed heap ranges whose pages may still be resident; seq orders them
 * by age.  A heap block cut from one takes its bytes out (kept_take). */
#define HEAP_KEEP_RANGES 64
static struct { uint64_t off, len, seq; } kept[HEAP_KEEP_RANGES];
static size_t kept_n;
static uint64_t kept_bytes, kept_seq;

/* ---- entry points ---- */

static void *arena_block(size_t n, size_t align);
static int ours(const void *p);
static void release(void *p);
static void kept_take(uint64_t off, uint64_t len);
static void drain_deferred(void);
static int table_lock(void);
static void table_unlock(int locked);

void *shim_heap_malloc(size_t n)
{
	void *p = shim_heap_wants(n) ? arena_block(n, ARENA_ALIGN) : NULL;

	return p ? p : __libc_malloc(n);
}

void shim_heap_free(void *p)
{
	if (!ours(p)) {
		__libc_free(p);
		return;
	}
	if (heap_child)
		return;
	if (atomic_load(&heap_stopped)) {
		void *head = atomic_load(&deferred);
		do
			*(void **)p = head;
		while (!atomic_compare_exchange_weak(&deferred, &head, p));
		return;
	}
	drain_deferred();
	release(p);
}

void *shim_heap_calloc(size_t a, size_t b)
{
	size_t n;

	if (__builtin_mul_overflow(a, b, &n)) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = shim_heap_wants(n) ? arena_block(n, ARENA_ALIGN) : NULL;
	if (!p)
		return __libc_calloc(a, b);
	/* A reused range may hold old bytes (staging blocks are not punched). */
	memset(p, 0, n);
	return p;
}

void *shim_heap_memalign(size_t align, size_t n)
{
	int pow2 = align && !(align & (align - 1));
	void *p = NULL;

	/* Alignments beyond a page are rare; leave them to glibc. */
	if (pow2 && align <= 4096 && shim_heap_wants(n))
		p = arena_block(n, align < ARENA_ALIGN ? ARENA_ALIGN : align);
	return p ? p : __libc_memalign(align, n);
}

size_t shim_heap_usable_size(void *p)
{
	if (!p)
		return 0;
	if (!ours(p))
		return libc_usable ? libc_usable(p) : 0;
	size_t n = 0;
	int locked = table_lock();
	size_t i = shim_heap_find(p);
	if (i < nblocks && blocks[i].user == (uintptr_t)p)
		n = blocks[i].size;
	table_unlock(locked);
	return n;
}

/* Into or out of the arena as the new size asks; contents kept up to
 * the smaller size either way. */
void *shim_heap_realloc(void *p, size_t n)
{
	if (!p)
		return shim_heap_malloc(n);
	if (n == 0) {
		shim_heap_free(p);
		return NULL;
	}
	size_t old = shim_heap_usable_size(p);
	if (!ours(p) && !shim_heap_wants(n))
		return __libc_realloc(p, n);
	if (ours(p) && n <= old && !heap_child && shim_heap_resize(p, n))
		return p;
	void *q = shim_heap_malloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, old < n ? old : n);
	shim_heap_free(p);
	return q;
}

int shim_heap_wants(size_t n)
{
	return n >= SHIM_HEAP_MIN && heap_on && !heap_child && !shim.finalized &&
	       !atomic_load(&heap_stopped);
}

/* ---- attaching, stopping, forking ---- */

static void world(int stopped)
{
	atomic_store(&heap_stopped, stopped);
}

static void fork_prepare(void)
{
	shim_state_lock_always();
}

static void fork_parent(void)
{
	shim_state_unlock_always();
}

/* The child's writes must not reach the parent's arrays: same bytes,
 * private pages (the parent's later writes to pages the child has not
 * written stay visible to it, as with any private file mapping). */
static void fork_child(void)
{
	size_t len = shim.ch.size - shim.ch.hdr->arena_off;

	heap_child = 1;
	if (mmap(shim.ch.arena, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED,
		 shim.ch.fd, (off_t)shim.ch.hdr->arena_off) == MAP_FAILED)
		dm_err("fork: cannot map the MPI channel arena private in the child (%s): "
		       "its writes to large malloc'ed blocks reach the parent; set "
		       "DMTCP_MPI_SHARED_HEAP=0", strerror(errno));
	shim_state_unlock_always();
}

void shim_heap_attach(void)
{
	static const struct ck_alloc_ops ops = {
		.malloc = shim_heap_malloc,
		.free = shim_heap_free,
		.calloc = shim_heap_calloc,
		.realloc = shim_heap_realloc,
		.memalign = shim_heap_memalign,
		.world = world,
	};
	const char *knob = getenv("DMTCP_MPI_SHARED_HEAP");

	if (knob && strcmp(knob, "0") == 0)
		return;
	if (knob && *knob && strcmp(knob, "1") != 0)
		dm_die(DM_EXIT_USAGE, "bad environment value (DMTCP_MPI_SHARED_HEAP=%s): "
		       "use 0 or 1", knob);
	int (*reg)(const struct ck_alloc_ops *) =
		(int (*)(const struct ck_alloc_ops *))dlsym(RTLD_DEFAULT, "ck_register_alloc");
	/* The engine's wrappers must know our blocks before we make any. */
	if (reg)
		reg(&ops);
	if (pthread_atfork(fork_prepare, fork_parent, fork_child) != 0) {
		dm_warn("MPI_Init: cannot register fork handlers; large malloc'ed "
			"blocks stay staged (shared heap off)");
		return;
	}
	shim_state_lock_always();
	heap_on = 1;
	shim.shared_heap = 1;
	shim_state_unlock_always();
}

/* glibc's malloc_usable_size, for its own blocks: ours shadows it. */
__attribute__((constructor)) static void find_libc_usable(void)
{
	libc_usable = (size_t (*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
}

/* ---- the table ---- */

size_t shim_heap_find(const void *p)
{
	size_t lo = 0, hi = nblocks;

	/* Last block starting at or below p; nblocks if none. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (blocks[mid].user <= (uintptr_t)p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : nblocks;
}

int shim_heap_holds(const void *p, uint64_t len, uintptr_t *lo, uintptr_t *hi)
{
	size_t i = shim_heap_find(p);

	if (i == nblocks)
		return 0;
	uint64_t at = (uintptr_t)p - blocks[i].user;
	*lo = blocks[i].user;
	*hi = blocks[i].user + blocks[i].size;
	return at <= blocks[i].size && len <= blocks[i].size - at;
}

size_t shim_heap_count(void)
{
	return nblocks;
}

static int table_insert(struct heap_block b)
{
	if (dm_grow_by(__libc_realloc, (void **)&blocks, &cap, nblocks + 1, sizeof(*blocks)) < 0)
		return -1;
	size_t i = shim_heap_find((const void *)b.user);
	i = i == nblocks ? 0 : i + 1;
	memmove(&blocks[i + 1], &blocks[i], (nblocks - i) * sizeof(*blocks));
	blocks[i] = b;
	nblocks++;
	return 0;
}

int shim_heap_resize(void *p, size_t n)
{
	int done = 0, locked = table_lock();
	size_t i = shim_heap_find(p);

	if (i < nblocks && blocks[i].user == (uintptr_t)p && n >= SHIM_HEAP_MIN) {
		blocks[i].size = n;
		shim_mem_tables_changed();
		done = 1;
	}
	table_unlock(locked);
	return done;
}

/* While the engine has the other threads stopped, none of them is inside
 * this file (its wrappers defer the stop until they leave malloc & co.),
 * so the table is still; one may hold the lock for other reasons. */
static int table_lock(void)
{
	if (atomic_load(&heap_stopped))
		return 0;
	shim_state_lock_always();
	return 1;
}

static void table_unlock(int locked)
{
	if (locked)
		shim_state_unlock_always();
}

/* ---- arena blocks ---- */

/* n bytes at an align-aligned address (align a power of two, at least
 * ARENA_ALIGN), or NULL when the arena or its budget has no room. */
static void *arena_block(size_t n, size_t align)
{
	uint64_t len = (uint64_t)n + (align - ARENA_ALIGN), off = ARENA_NONE;
	uintptr_t user = 0;

	drain_deferred();
	shim_state_lock_always();
	int kept = shim_mem_keep(len) == 0;
	if (kept)
		off = arena_alloc(&shim.arena, len);
	if (off != ARENA_NONE) {
		uintptr_t at = (uintptr_t)shim.ch.arena + off;
		user = (at + align - 1) & ~(uintptr_t)(align - 1);
		if (table_insert((struct heap_block){ user, off, len, n }) < 0) {
			arena_free(&shim.arena, off, len);
			off = ARENA_NONE;
			user = 0;
		} else {
			kept_take(off, len);
		}
	}
	if (kept && off == ARENA_NONE)
		shim_mem_unkeep(len);
	shim_state_unlock_always();
	return (void *)user;
}

static int ours(const void *p)
{
	uintptr_t at = (uintptr_t)p, start = (uintptr_t)shim.ch.arena;

	return heap_on && at >= start && at - start < shim.arena.size;
}

/* Bytes of freed ranges that may stay resident: 64 MiB of the default
 * 1 GiB arena, a sixteenth of any other. */
static uint64_t keep_limit(void)
{
	return shim.arena.size / 16;
}

/* The whole pages of [off, off + len) that lie in the free range
 * [*arg's off, len) go back to the system. */
static void punch_free(uint64_t off, uint64_t len, void *arg)
{
	const uint64_t *r = arg;
	uint64_t lo = off > r[0] ? off : r[0];
	uint64_t hi = off + len < r[0] + r[1] ? off + len : r[0] + r[1];
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = ((uintptr_t)shim.ch.arena + lo + page - 1) & ~(page - 1);
	uintptr_t b = ((uintptr_t)shim.ch.arena + hi) & ~(page - 1);

	if (hi > lo && b > a)
		madvise((void *)a, b - a, MADV_REMOVE);
}

static void give_back_free(uint64_t off, uint64_t len)
{
	uint64_t r[2] = { off, len };

	arena_each_free(&shim.arena, punch_free, r);
}

static void kept_remove(size_t i)
{
	kept_bytes -= kept[i].len;
	kept[i] = kept[--kept_n];
}

static void drop_oldest_kept(void)
{
	size_t old = 0;

	for (size_t i = 1; i < kept_n; i++)
		if (kept[i].seq < kept[old].seq)
			old = i;
	give_back_free(kept[old].off, kept[old].len);
	kept_remove(old);
}

static void kept_add(uint64_t off, uint64_t len, uint64_t seq)
{
	if (kept_n == HEAP_KEEP_RANGES)
		drop_oldest_kept();
	kept[kept_n].off = off;
	kept[kept_n].len = len;
	kept[kept_n++].seq = seq;
	kept_bytes += len;
}

/* A heap block now holds [off, off + len): its pages are in use, so no
 * longer counted; the rest of a range it was cut from still is. */
static void kept_take(uint64_t off, uint64_t len)
{
	size_t i = 0;

	while (i < kept_n) {
		uint64_t ko = kept[i].off, kl = kept[i].len, seq = kept[i].seq;
		if (ko >= off + len || ko + kl <= off) {
			i++;
			continue;
		}
		kept_remove(i);
		if (ko < off)
			kept_add(ko, off - ko, seq);
		if (ko + kl > off + len)
			kept_add(off + len, ko + kl - (off + len), seq);
	}
}

/* Remember a freed range; give back the free pages of the oldest ones
 * beyond the limit.  Under the state lock, which every arena allocation
 * takes with the shared heap on: no page punched here is handed out
 * meanwhile, and pages of a range staged into since are in use, not
 * free. */
static void keep_freed(uint64_t off, uint64_t len)
{
	if (len > keep_limit()) {
		give_back_free(off, len);
		return;
	}
	kept_add(off, len, kept_seq++);
	while (kept_bytes > keep_limit())
		drop_oldest_kept();
}

static void release(void *p)
{
	struct heap_block b = { 0 };

	shim_state_lock_always();
	size_t i = shim_heap_find(p);
	if (i < nblocks && blocks[i].user == (uintptr_t)p) {
		b = blocks[i];
		memmove(&blocks[i], &blocks[i + 1], (nblocks - i - 1) * sizeof(*blocks));
		nblocks--;
		shim_mem_tables_changed();
		arena_free(&shim.arena, b.off, b.len);
		shim_mem_unkeep(b.len);
		keep_freed(b.off, b.len);
	}
	shim_state_unlock_always();
	if (!b.user)
		dm_die(DM_EXIT_MPI_FATAL, "free(%p): not a block malloc gave out (it lies in "
		       "the MPI channel arena: memory from MPI_Alloc_mem goes back with "
		       "MPI_Free_mem)", p);
}

/* Frees that came while other threads were stopped. */
static void drain_deferred(void)
{
	if (!atomic_load(&deferred) || atomic_load(&heap_stopped))
		return;
	void *p = atomic_exchange(&deferred, NULL);
	while (p) {
		void *next = *(void **)p;
		release(p);
		p = next;
	}
}
