/*
 * write.c - write one image (format in image.h) from the stopped process.
 *
 * 1. The mappings read by the caller become image regions: vdso/vvar are
 *    only recorded, skipped ranges cut out, and for each region the pages
 *    worth reading are listed as runs: resident or swapped pages of
 *    private memory (from /proc/self/pagemap; never-touched pages are
 *    zero and cost nothing), resident pages of shared memory (mincore),
 *    and the in-file part of private file mappings.
 * 2. Runs are packed into jobs of at most CK_CHUNK bytes.  Raw writer
 *    threads (see ck_clone_raw) and the calling thread take jobs in turn:
 *    drop all-zero pages, compress with zstd (kept raw if that does not
 *    shrink it), hash, reserve file space with one atomic add, pwrite,
 *    and start writeback at once so the final fsync has little left.
 * 3. The metadata sections, the section table and finally the header go
 *    at the end; fsync, rename over the previous image, fsync the
 *    directory.  Until the rename the previous image is untouched.
 *
 * No malloc anywhere (a stopped thread may hold malloc's lock): buffers
 * come from the caller's arena, zstd works in a static context.
 */
#define ZSTD_STATIC_LINKING_ONLY
#include "ckpt/internal.h"
#include "ckpt/hash.h"
#include "ckpt/maps.h"
#include "ckpt/sys.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#define CK_CHUNK (4u << 20)
#define CK_MAX_WORKERS 16
#define WORKER_STACK (128u << 10)
#define PAGE CK_IMG_PAGE
#define PM_BATCH 65536

struct run {
	uint64_t addr, len;
};

struct job {
	uint32_t run_first, run_count;
	uint32_t ext_first, ext_count;   /* slice: one slot per page */
	uint64_t raw, stored, offset, hash;
	uint32_t codec;
};

struct worker;

struct writer {
	int fd;
	int level;
	struct run *runs;
	uint32_t nruns, runs_cap;
	int new_region;           /* next run must not join the last one */
	struct job *jobs;
	uint32_t njobs;
	struct ck_img_extent *ext;
	uint64_t next_job;        /* atomic */
	uint64_t file_off;        /* atomic */
	int err;                  /* atomic: first -errno */
	uint64_t done_bytes;      /* atomic: for the mid-write fault */
	uint64_t total_bytes;
	uint64_t live_lo, live_hi; /* our own stack: changes as we write */
	struct worker *w;
	int nworkers;
};

struct worker {
	struct writer *wr;
	int tid;                  /* cleared by the kernel at exit */
	ZSTD_CCtx *cctx;
	char *stage;              /* gathers a job's pages for zstd */
	char *out;
	size_t out_cap;
	char *stack;
};

static const char *errstr(int e)
{
	const char *s = strerrordesc_np(e);
	return s ? s : "unknown error";
}

static uint64_t page_up(uint64_t x)
{
	return (x + PAGE - 1) & ~(uint64_t)(PAGE - 1);
}

/* ------------------------------------------------ regions and runs */

static int add_run(struct writer *wr, uint64_t addr, uint64_t len)
{
	while (len) {
		struct run *last = wr->nruns && !wr->new_region ?
				   &wr->runs[wr->nruns - 1] : NULL;
		wr->new_region = 0;
		if (last && last->addr + last->len == addr &&
		    last->len < CK_CHUNK) {
			uint64_t take = CK_CHUNK - last->len;
			if (take > len)
				take = len;
			last->len += take;
			addr += take;
			len -= take;
			continue;
		}
		if (wr->nruns == wr->runs_cap)
			return -ENOMEM;
		uint64_t take = len < CK_CHUNK ? len : CK_CHUNK;
		wr->runs[wr->nruns++] = (struct run){ addr, take };
		addr += take;
		len -= take;
	}
	return 0;
}

/* Runs of pages present or swapped in [start, end), from pagemap. */
static int runs_from_pagemap(struct writer *wr, int pmfd, uint64_t *pm,
			     uint64_t start, uint64_t end)
{
	for (uint64_t a = start; a < end;) {
		uint64_t n = (end - a) / PAGE;
		if (n > PM_BATCH)
			n = PM_BATCH;
		long r = ck_sys4(CK_NR_pread64, pmfd, pm, n * 8, a / PAGE * 8);
		if (r < 0)
			return (int)r;
		n = (uint64_t)r / 8;
		if (n == 0)
			return -EIO;
		for (uint64_t i = 0; i < n; i++)
			if (pm[i] >> 62) {     /* bit 63 present, 62 swapped */
				int e = add_run(wr, a + i * PAGE, PAGE);
				if (e)
					return e;
			}
		a += n * PAGE;
	}
	return 0;
}

/* Runs of pages resident in shared memory, from mincore. */
static int runs_from_mincore(struct writer *wr, unsigned char *vec,
			     uint64_t start, uint64_t end)
{
	for (uint64_t a = start; a < end;) {
		uint64_t n = (end - a) / PAGE;
		if (n > PM_BATCH * 8)
			n = PM_BATCH * 8;
		if (mincore((void *)a, n * PAGE, vec) != 0)
			return -errno;
		for (uint64_t i = 0; i < n; i++)
			if (vec[i] & 1) {
				int e = add_run(wr, a + i * PAGE, PAGE);
				if (e)
					return e;
			}
		a += n * PAGE;
	}
	return 0;
}

/* Private file mapping: the part backed by the file (beyond it an access
 * would fault) is content; pages past it can only be zero. */
static uint64_t file_end(const struct ck_map *mp)
{
	struct stat st;

	if (stat(mp->name, &st) != 0 || (uint64_t)st.st_size <= mp->offset)
		return mp->start;
	uint64_t in_file = page_up((uint64_t)st.st_size) - mp->offset;
	return in_file < mp->end - mp->start ? mp->start + in_file : mp->end;
}

static int starts_with(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int special(struct ck_meta *m, const struct ck_map *mp)
{
	uint64_t *slot = NULL;

	if (strcmp(mp->name, "[vdso]") == 0)
		slot = m->proc.vdso;
	else if (strcmp(mp->name, "[vvar]") == 0)
		slot = m->proc.vvar;
	else if (strcmp(mp->name, "[vvar_vclock]") == 0)
		slot = m->proc.vclock;
	else if (strcmp(mp->name, "[vsyscall]") == 0 ||
		 strcmp(mp->name, "[uprobes]") == 0)
		return 1;
	else
		return 0;
	slot[0] = mp->start;
	slot[1] = mp->end;
	return 1;
}

/* Shared mapping of a file we can map again by path. */
static int shared_file(const struct ck_map *mp)
{
	return mp->shared && mp->name[0] == '/' &&
	       !ends_with(mp->name, " (deleted)") &&
	       !starts_with(mp->name, "/dev/zero") &&
	       !starts_with(mp->name, "/SYSV") &&
	       !starts_with(mp->name, "/memfd:");
}

static int device(const struct ck_map *mp)
{
	return starts_with(mp->name, "/dev/") &&
	       !starts_with(mp->name, "/dev/zero") &&
	       !starts_with(mp->name, "/dev/shm/");
}

struct scan {
	int pmfd;
	uint64_t *pm;
	unsigned char *vec;
	uint8_t *unlocked;        /* per region: made readable to save */
};

/* Append region [lo, hi) of mapping mp and list its runs. */
static int add_region(struct writer *wr, struct ck_meta *m, struct scan *sc,
		      const struct ck_map *mp, uint64_t lo, uint64_t hi)
{
	uint64_t brk_hi = page_up(m->proc.brk);

	if (m->nregions == m->regions_cap)
		return -ENOMEM;
	uint32_t idx = m->nregions++;
	struct ck_img_region *r = &m->regions[idx];
	memset(r, 0, sizeof(*r));
	r->start = lo;
	r->end = hi;
	r->prot = mp->prot;
	r->path = CK_IMG_NOSTR;
	r->file_offset = mp->offset + (lo - mp->start);
	if (shared_file(mp)) {
		r->kind = CK_REG_SHARED_FILE;
		r->path = ck_meta_str(m, mp->name);
		return r->path == CK_IMG_NOSTR ? -ENOMEM : 0;
	}
	r->kind = mp->shared ? CK_REG_SHARED_ANON : CK_REG_ANON;
	if (mp->name[0] == '/') {
		r->flags |= CK_REG_F_WAS_FILE;
		r->path = ck_meta_str(m, mp->name);
	}
	if ((lo >= m->proc.start_brk && hi <= brk_hi &&
	     m->proc.start_brk < brk_hi) || strcmp(mp->name, "[heap]") == 0)
		r->flags |= CK_REG_F_HEAP;
	if (strcmp(mp->name, "[stack]") == 0 || hi == ck_eng.main_stack_hi)
		r->flags |= CK_REG_F_STACK;

	uint32_t before = wr->nruns;
	int e;

	wr->new_region = 1;   /* extents never cross a region boundary */
	if (mp->shared) {
		e = runs_from_mincore(wr, sc->vec, lo, hi);
	} else if ((r->flags & CK_REG_F_WAS_FILE) && (mp->prot & PROT_READ)) {
		uint64_t fe = file_end(mp);
		e = 0;
		if (fe > lo)
			e = add_run(wr, lo, (fe < hi ? fe : hi) - lo);
		if (!e && fe < hi)
			e = runs_from_pagemap(wr, sc->pmfd, sc->pm,
					      fe > lo ? fe : lo, hi);
	} else {
		e = runs_from_pagemap(wr, sc->pmfd, sc->pm, lo, hi);
	}
	if (e)
		return e;
	if (wr->nruns > before && !(mp->prot & PROT_READ)) {
		if (mprotect((void *)lo, hi - lo, (int)mp->prot | PROT_READ))
			return -errno;
		sc->unlocked[idx] = 1;
	}
	return 0;
}

/* The i-th range left out of images: ck_skip_region's, then our own. */
static int skip_range(int i, uint64_t *s0, uint64_t *s1)
{
	if (i < ck_eng.nskip) {
		*s0 = ck_eng.skip[i][0];
		*s1 = ck_eng.skip[i][1];
		return 1;
	}
	i -= ck_eng.nskip;
	if (i >= 2)
		return 0;
	*s0 = ck_eng.internal[i][0];
	*s1 = ck_eng.internal[i][1];
	return 1;
}

/* Cut the skipped ranges out of a mapping. */
static int add_mapping(struct writer *wr, struct ck_meta *m, struct scan *sc,
		       const struct ck_map *mp)
{
	uint64_t lo = mp->start;

	while (lo < mp->end) {
		uint64_t hi = mp->end, resume = lo, s0, s1;
		for (int i = 0; skip_range(i, &s0, &s1); i++) {
			if (s1 <= lo || s0 >= hi)
				continue;
			if (s0 <= lo) {     /* lo itself is skipped */
				hi = lo;
				if (s1 > resume)
					resume = s1;
			} else {
				hi = s0;
			}
		}
		if (hi > lo) {
			int e = add_region(wr, m, sc, mp, lo, hi);
			if (e)
				return e;
			lo = hi;
		} else {
			lo = resume < mp->end ? resume : mp->end;
		}
	}
	return 0;
}

static int build_regions(struct writer *wr, struct ck_meta *m,
			 const struct ck_map *maps, long nmaps, struct scan *sc)
{
	static int warned_dev;

	m->nregions = 0;
	for (long i = 0; i < nmaps; i++) {
		const struct ck_map *mp = &maps[i];
		if (special(m, mp))
			continue;
		if (device(mp)) {
			if (!warned_dev++)
				dm_warn("device mapping %s (%#llx) is left out "
					"of the image", mp->name,
					(unsigned long long)mp->start);
			continue;
		}
		int e = add_mapping(wr, m, sc, mp);
		if (e) {
			dm_err("cannot list the pages of %#llx-%#llx (%s): %s",
			       (unsigned long long)mp->start,
			       (unsigned long long)mp->end,
			       mp->name[0] ? mp->name : "anonymous",
			       errstr(-e));
			return -1;
		}
	}
	return 0;
}

static void relock_regions(struct ck_meta *m, struct scan *sc)
{
	for (uint32_t i = 0; i < m->nregions; i++)
		if (sc->unlocked[i])
			mprotect((void *)m->regions[i].start,
				 m->regions[i].end - m->regions[i].start,
				 (int)m->regions[i].prot);
}

/* ---------------------------------------------------------- jobs */

static void build_jobs(struct writer *wr)
{
	uint64_t bytes = 0;
	uint32_t slot = 0;

	wr->njobs = 0;
	wr->total_bytes = 0;
	for (uint32_t i = 0; i < wr->nruns; i++) {
		struct job *j = wr->njobs ? &wr->jobs[wr->njobs - 1] : NULL;
		if (!j || bytes + wr->runs[i].len > CK_CHUNK) {
			j = &wr->jobs[wr->njobs++];
			memset(j, 0, sizeof(*j));
			j->run_first = i;
			j->ext_first = slot;
			bytes = 0;
		}
		j->run_count++;
		bytes += wr->runs[i].len;
		slot += (uint32_t)(wr->runs[i].len / PAGE);
		wr->total_bytes += wr->runs[i].len;
	}
}

static int zero_page(const void *p)
{
	const uint64_t *w = p;

	for (int i = 0; i < PAGE / 8; i += 32) {
		uint64_t acc = 0;
		for (int k = 0; k < 32; k++)
			acc |= w[i + k];
		if (acc)
			return 0;
	}
	return 1;
}

/* The non-zero pages of a job, as extents in its slice. */
static void job_extents(struct writer *wr, struct job *j)
{
	struct ck_img_extent *x = &wr->ext[j->ext_first];
	uint32_t n = 0;

	j->raw = 0;
	for (uint32_t r = j->run_first; r < j->run_first + j->run_count; r++) {
		const struct run *ru = &wr->runs[r];
		uint32_t run_start = n;
		for (uint64_t a = ru->addr; a < ru->addr + ru->len; a += PAGE) {
			if (zero_page((const void *)a))
				continue;
			if (n > run_start && x[n - 1].addr + x[n - 1].len == a)
				x[n - 1].len += PAGE;
			else
				x[n++] = (struct ck_img_extent){ a, PAGE };
			j->raw += PAGE;
		}
	}
	j->ext_count = n;
}

static long pwrite_all(int fd, const void *buf, uint64_t len, uint64_t off)
{
	const char *p = buf;

	while (len) {
		long r = ck_sys4(CK_NR_pwrite64, fd, p, len, off);
		if (r == -EINTR)
			continue;
		if (r < 0)
			return r;
		if (r == 0)
			return -EIO;
		p += r;
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

/* Does the job read our own running stack?  Then its pages are copied
 * once and everything (hash, compression, write) uses the copy. */
static int job_is_live(const struct writer *wr, const struct job *j)
{
	for (uint32_t r = j->run_first; r < j->run_first + j->run_count; r++)
		if (wr->runs[r].addr < wr->live_hi &&
		    wr->runs[r].addr + wr->runs[r].len > wr->live_lo)
			return 1;
	return 0;
}

static void gather(const struct ck_img_extent *x, uint32_t n, char *out)
{
	for (uint32_t i = 0; i < n; i++) {
		memcpy(out, (const void *)x[i].addr, x[i].len);
		out += x[i].len;
	}
}

/* Write a staged copy of the job's pages, raw. */
static long write_staged_raw(struct writer *wr, struct job *j,
			     const char *stage)
{
	j->codec = CK_CODEC_NONE;
	j->stored = j->raw;
	j->hash = ck_hash64(stage, j->raw, 0);
	j->offset = __atomic_fetch_add(&wr->file_off, page_up(j->raw),
				       __ATOMIC_ACQ_REL);
	return pwrite_all(wr->fd, stage, j->raw, j->offset);
}

/* Write the job's pages as they are, straight from memory. */
static long write_raw(struct writer *wr, struct job *j)
{
	const struct ck_img_extent *x = &wr->ext[j->ext_first];
	struct ck_hash h;
	struct iovec iov[64];

	ck_hash_init(&h, 0);
	for (uint32_t i = 0; i < j->ext_count; i++)
		ck_hash_update(&h, (const void *)x[i].addr, x[i].len);
	j->hash = ck_hash_final(&h);
	j->codec = CK_CODEC_NONE;
	j->stored = j->raw;
	j->offset = __atomic_fetch_add(&wr->file_off, page_up(j->raw),
				       __ATOMIC_ACQ_REL);
	uint64_t off = j->offset;
	for (uint32_t i = 0; i < j->ext_count;) {
		int n = 0;
		uint64_t len = 0;
		for (; n < 64 && i + (uint32_t)n < j->ext_count; n++) {
			iov[n].iov_base = (void *)x[i + (uint32_t)n].addr;
			iov[n].iov_len = x[i + (uint32_t)n].len;
			len += iov[n].iov_len;
		}
		long r = ck_sys4(CK_NR_pwritev, wr->fd, iov, n, off);
		if (r < 0)
			return r;
		if ((uint64_t)r != len) {
			/* Rare short write: finish extent by extent. */
			uint64_t done = (uint64_t)r;
			for (int k = 0; k < n; k++) {
				uint64_t l = iov[k].iov_len;
				if (done >= l) {
					done -= l;
					continue;
				}
				long e = pwrite_all(wr->fd,
						    (char *)iov[k].iov_base + done,
						    l - done, off + (uint64_t)r);
				if (e)
					return e;
				r += (long)(l - done);
				done = 0;
			}
		}
		off += len;
		i += (uint32_t)n;
	}
	return 0;
}

static long write_job(struct worker *w, struct job *j)
{
	struct writer *wr = w->wr;
	const struct ck_img_extent *x = &wr->ext[j->ext_first];
	const char *src = (const char *)x[0].addr;
	int staged = job_is_live(wr, j);

	if (staged || (wr->level > 0 && j->ext_count > 1)) {
		gather(x, j->ext_count, w->stage);
		src = w->stage;
	}
	if (wr->level <= 0)
		return staged ? write_staged_raw(wr, j, src) : write_raw(wr, j);
	size_t n = ZSTD_compressCCtx(w->cctx, w->out, w->out_cap, src, j->raw,
				     wr->level);
	if (ZSTD_isError(n) || n >= j->raw)   /* incompressible: keep raw */
		return src == w->stage ? write_staged_raw(wr, j, src) :
					 write_raw(wr, j);
	j->codec = CK_CODEC_ZSTD;
	j->stored = n;
	j->hash = ck_hash64(w->out, n, 0);
	j->offset = __atomic_fetch_add(&wr->file_off, page_up(n),
				       __ATOMIC_ACQ_REL);
	return pwrite_all(wr->fd, w->out, n, j->offset);
}

static void worker_loop(void *arg)
{
	struct worker *w = arg;
	struct writer *wr = w->wr;

	for (;;) {
		if (__atomic_load_n(&wr->err, __ATOMIC_ACQUIRE))
			return;
		uint64_t k = __atomic_fetch_add(&wr->next_job, 1,
						__ATOMIC_ACQ_REL);
		if (k >= wr->njobs)
			return;
		struct job *j = &wr->jobs[k];
		job_extents(wr, j);
		if (j->ext_count == 0)
			continue;
		long e = write_job(w, j);
		if (e == 0 && ck_eng.fault_enospc)
			e = -ENOSPC;
		if (e) {
			int zero = 0;
			__atomic_compare_exchange_n(&wr->err, &zero, (int)e, 0,
						    __ATOMIC_ACQ_REL,
						    __ATOMIC_ACQUIRE);
			return;
		}
		ck_sys4(277 /* sync_file_range */, wr->fd, j->offset,
			j->stored, 2 /* SYNC_FILE_RANGE_WRITE */);
		uint64_t done = __atomic_add_fetch(&wr->done_bytes, j->raw,
						   __ATOMIC_ACQ_REL);
		if (ck_eng.fault_kill && done * 2 >= wr->total_bytes / 2)
			ck_sys2(CK_NR_kill, ck_sys0(CK_NR_getpid), SIGKILL);
	}
}

static int cpu_count(void)
{
	unsigned long mask[16];
	long n = ck_sys3(204 /* sched_getaffinity */, 0, sizeof(mask), mask);
	int c = 0;

	for (long i = 0; i < n / (long)sizeof(long); i++)
		c += __builtin_popcountl(mask[i]);
	return c > 0 ? c : 1;
}

/* Contexts and buffers of the writer threads, from the arena. */
static int setup_workers(struct writer *wr, struct ck_arena *a, int want)
{
	size_t cctx = wr->level > 0 ? ZSTD_estimateCCtxSize(wr->level) : 0;
	size_t out = wr->level > 0 ? ZSTD_compressBound(CK_CHUNK) : 0;

	wr->w = ck_arena_alloc(a, sizeof(struct worker) * (size_t)want);
	if (!wr->w)
		return -ENOMEM;
	for (int i = 0; i < want; i++) {
		struct worker *w = &wr->w[i];
		memset(w, 0, sizeof(*w));
		w->wr = wr;
		w->stack = i ? ck_arena_alloc(a, WORKER_STACK) : NULL;
		w->stage = ck_arena_alloc(a, CK_CHUNK);
		if (!w->stage)
			return -ENOMEM;
		if (wr->level > 0) {
			void *mem = ck_arena_alloc(a, cctx);
			w->out = ck_arena_alloc(a, out);
			w->out_cap = out;
			if (!mem || !w->out)
				return -ENOMEM;
			w->cctx = ZSTD_initStaticCCtx(mem, cctx);
			if (!w->cctx)
				return -ENOMEM;
		}
		if (i && !w->stack)
			return -ENOMEM;
	}
	wr->nworkers = want;
	return 0;
}

/* Run the jobs on nworkers threads, the caller being one of them. */
static int run_workers(struct writer *wr)
{
	const unsigned long flags = CLONE_VM | CLONE_FS | CLONE_FILES |
		CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
		CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
	uint64_t all = ~0ULL, old;
	int started = 1;

	/* Writer threads must never take the application's signals. */
	ck_sys4(CK_NR_rt_sigprocmask, SIG_SETMASK, &all, &old, 8);
	for (int i = 1; i < wr->nworkers; i++) {
		struct worker *w = &wr->w[i];
		long r = ck_clone_raw(flags, w->stack + WORKER_STACK, &w->tid,
				      &w->tid, 0, worker_loop, w);
		if (r < 0)
			break;
		started++;
	}
	ck_sys4(CK_NR_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
	worker_loop(&wr->w[0]);
	for (int i = 1; i < started; i++) {
		int t;
		/* CLONE_CHILD_CLEARTID wakes a shared futex: op 0. */
		while ((t = __atomic_load_n(&wr->w[i].tid, __ATOMIC_ACQUIRE)))
			ck_sys4(CK_NR_futex, &wr->w[i].tid, 0, t, NULL);
	}
	return wr->err;
}

/* ------------------------------------------------------- metadata */

static void fill_threads(struct ck_meta *m)
{
	int pid = (int)ck_sys0(CK_NR_getpid);
	uint32_t n = 0, leader = UINT32_MAX, ctx = 0;

	for (int i = 0; i < ck_nthreads; i++) {
		const struct ck_thread *t = &ck_threads[i];
		if (t->state == CK_T_GONE)
			continue;
		struct ck_img_thread *it = &m->threads[n];
		memset(it, 0, sizeof(*it));
		it->tid = (uint32_t)t->tid;
		it->kind = (uint32_t)t->kind;
		it->fs_base = t->fs_base;
		it->tidptr = t->fs_base + CK_TID_OFFSET;
		it->robust_head = t->robust_head;
		it->robust_len = t->robust_len;
		it->rseq = t->rseq;
		it->rseq_len = t->rseq_len;
		it->rseq_sig = CK_RSEQ_SIG;
		uint64_t sp = t->kind == CK_THR_CTX ? ck_self_ctx.rsp :
			      (uint64_t)t->uc - 8;
		it->wake_sp = (sp - 512) & ~(uint64_t)15;
		it->wake_arg = (uint64_t)t;
		it->pending = t->pending;
		memcpy(it->name, t->name, sizeof(it->name));
		it->name[15] = '\0';
		if (t->tid == pid)
			leader = n;
		if (t->kind == CK_THR_CTX)
			ctx = n;
		n++;
	}
	m->nthreads = n;
	m->proc.leader = leader != UINT32_MAX ? leader : ctx;
}

/* Move every job's extents down next to the previous job's. */
static uint32_t compact_extents(struct writer *wr)
{
	uint32_t n = 0;

	for (uint32_t k = 0; k < wr->njobs; k++) {
		struct job *j = &wr->jobs[k];
		if (!j->ext_count)
			continue;
		memmove(&wr->ext[n], &wr->ext[j->ext_first],
			j->ext_count * sizeof(*wr->ext));
		j->ext_first = n;
		n += j->ext_count;
	}
	return n;
}

static long put_section(struct writer *wr, struct ck_img_section *s,
			uint32_t type, const void *p, uint64_t len)
{
	uint64_t off = (wr->file_off + 7) & ~(uint64_t)7;

	wr->file_off = off + len;
	memset(s, 0, sizeof(*s));
	s->type = type;
	s->offset = off;
	s->stored_size = s->raw_size = len;
	s->hash = ck_hash64(p, len, 0);
	return pwrite_all(wr->fd, p, len, off);
}

static void fill_header(struct ck_img_header *h, const struct ck_meta *m,
			int forked)
{
	struct utsname u;
	struct timespec ts;

	memset(h, 0, sizeof(*h));
	memcpy(h->magic, CK_IMG_MAGIC, 8);
	h->version = CK_IMG_VERSION;
	h->header_size = sizeof(*h);
	h->machine = CK_IMG_MACHINE_X86_64;
	h->ptr_size = 8;
	h->little_endian = 1;
	h->page_size = PAGE;
	h->flags = forked ? CK_IMG_F_FORKED : 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	h->create_ns = (uint64_t)ts.tv_sec * 1000000000ULL +
		       (uint64_t)ts.tv_nsec;
	h->pid = (uint32_t)ck_sys0(CK_NR_getpid);
	h->nthreads = m->nthreads;
	if (ck_sys1(63 /* uname */, &u) == 0) {
		snprintf(h->kernel, sizeof(h->kernel), "%s", u.release);
		snprintf(h->host, sizeof(h->host), "%.63s", u.nodename);
	}
	snprintf(h->glibc, sizeof(h->glibc), "%s", gnu_get_libc_version());
}

/* Metadata, table, header: everything after the page data. */
static long write_tail(struct writer *wr, struct ck_meta *m,
		       struct ck_arena *a, int forked, uint64_t *mem_bytes)
{
	uint32_t next = compact_extents(wr), ndata = 0;
	struct ck_img_section *tab;
	long e;

	for (uint32_t k = 0; k < wr->njobs; k++)
		ndata += wr->jobs[k].ext_count != 0;
	uint32_t nsec = 6 + ndata;
	tab = ck_arena_alloc(a, nsec * sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	fill_threads(m);
	if ((e = put_section(wr, &tab[0], CK_SEC_PROC, &m->proc,
			     sizeof(m->proc))) ||
	    (e = put_section(wr, &tab[1], CK_SEC_THREADS, m->threads,
			     m->nthreads * sizeof(*m->threads))) ||
	    (e = put_section(wr, &tab[2], CK_SEC_FDS, m->fds,
			     m->nfds * sizeof(*m->fds))) ||
	    (e = put_section(wr, &tab[3], CK_SEC_REGIONS, m->regions,
			     m->nregions * sizeof(*m->regions))) ||
	    (e = put_section(wr, &tab[4], CK_SEC_EXTENTS, wr->ext,
			     next * sizeof(*wr->ext))) ||
	    (e = put_section(wr, &tab[5], CK_SEC_STRINGS, m->strings,
			     m->strings_len)))
		return e;
	*mem_bytes = 0;
	for (uint32_t k = 0, i = 6; k < wr->njobs; k++) {
		const struct job *j = &wr->jobs[k];
		if (!j->ext_count)
			continue;
		tab[i++] = (struct ck_img_section){
			.type = CK_SEC_DATA, .codec = j->codec,
			.offset = j->offset, .stored_size = j->stored,
			.raw_size = j->raw, .hash = j->hash,
			.ext_first = j->ext_first, .ext_count = j->ext_count };
		*mem_bytes += j->raw;
	}
	struct ck_img_header h;
	fill_header(&h, m, forked);
	h.table_offset = (wr->file_off + 7) & ~(uint64_t)7;
	h.nsections = nsec;
	h.table_hash = ck_hash64(tab, nsec * sizeof(*tab), 0);
	h.file_size = h.table_offset + nsec * sizeof(*tab);
	h.mem_bytes = *mem_bytes;
	h.header_hash = ck_img_header_hash(&h);
	if ((e = pwrite_all(wr->fd, tab, nsec * sizeof(*tab), h.table_offset)))
		return e;
	return pwrite_all(wr->fd, &h, sizeof(h), 0);
}

/* ------------------------------------------------------- the image */

static int dir_of(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return snprintf(out, cap, ".") < 0 ? -1 : 0;
	size_t n = (size_t)(slash - path);
	if (n == 0)
		n = 1;
	if (n >= cap)
		return -1;
	memcpy(out, path, n);
	out[n] = '\0';
	return 0;
}

static int durable_rename(const char *tmp, const char *path)
{
	char dir[4096];

	if (rename(tmp, path) != 0)
		return -errno;
	if (dir_of(path, dir, sizeof(dir)) == 0) {
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	return 0;
}

static int read_maps(struct ck_arena *a, struct ck_map **maps, long *n)
{
	size_t cap = 4u << 20;

	for (;;) {
		size_t mark = a->used;
		char *buf = ck_arena_alloc(a, cap);
		if (!buf)
			return -ENOMEM;
		long len = ck_maps_read(buf, cap);
		if (len == -7 /* E2BIG */) {
			a->used = mark;
			cap *= 4;
			continue;
		}
		if (len < 0)
			return (int)len;
		size_t max = (size_t)len / 40 + 16;   /* a line is > 40 bytes */
		*maps = ck_arena_alloc(a, max * sizeof(**maps));
		if (!*maps)
			return -ENOMEM;
		*n = ck_maps_parse(buf, (size_t)len, *maps, max);
		return *n < 0 ? -EPROTO : 0;
	}
}

int ck_write_image(const struct ck_opts *o, struct ck_meta *m,
		   struct ck_arena *a, const char *path, const char *tmp,
		   int forked, struct ck_write_result *res)
{
	struct writer wr;
	struct scan sc = { .pmfd = -1 };
	struct ck_map *maps = NULL;
	long nmaps = 0;
	const char *what = "cannot read the address space";
	int e;

	int64_t t0 = ck_now_ns();

	memset(&wr, 0, sizeof(wr));
	wr.fd = -1;
	wr.level = o->zstd_level;
	if (wr.level > ZSTD_maxCLevel())
		wr.level = ZSTD_maxCLevel();
	if ((e = read_maps(a, &maps, &nmaps)))
		goto fail;
	sc.pmfd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (sc.pmfd < 0) {
		e = -errno;
		goto fail;
	}
	sc.pm = ck_arena_alloc(a, PM_BATCH * 8);
	sc.vec = ck_arena_alloc(a, PM_BATCH * 8);
	sc.unlocked = ck_arena_alloc(a, (size_t)nmaps * 2 + 64);
	m->regions_cap = (uint32_t)nmaps * 2 + 64;
	m->regions = ck_arena_alloc(a, m->regions_cap * sizeof(*m->regions));
	/* Runs: at most one per page, but reserve lazily (NORESERVE). */
	wr.runs_cap = (uint32_t)((a->cap - a->used) / 4 / sizeof(*wr.runs));
	wr.runs = ck_arena_alloc(a, wr.runs_cap * sizeof(*wr.runs));
	if (!sc.pm || !sc.vec || !sc.unlocked || !m->regions || !wr.runs) {
		e = -ENOMEM;
		goto fail;
	}
	if (build_regions(&wr, m, maps, nmaps, &sc)) {
		close(sc.pmfd);
		relock_regions(m, &sc);
		return -1;
	}
	close(sc.pmfd);
	sc.pmfd = -1;
	/* The runs array was sized generously; give back the rest. */
	a->used = (size_t)((char *)(wr.runs + wr.nruns) - a->base);
	a->used = (a->used + 63) & ~(size_t)63;
	for (uint32_t i = 0; i < m->nregions; i++)
		if (m->regions[i].start <= (uint64_t)&wr &&
		    (uint64_t)&wr < m->regions[i].end) {
			wr.live_lo = m->regions[i].start;
			wr.live_hi = m->regions[i].end;
		}
	wr.jobs = ck_arena_alloc(a, (wr.nruns + 1) * sizeof(*wr.jobs));
	build_jobs(&wr);
	wr.ext = ck_arena_alloc(a, (wr.total_bytes / PAGE + 1) *
				       sizeof(*wr.ext));
	int want = o->threads > 0 ? o->threads : cpu_count();
	if (want > CK_MAX_WORKERS)
		want = CK_MAX_WORKERS;
	if ((uint32_t)want > wr.njobs)
		want = wr.njobs ? (int)wr.njobs : 1;
	if (!wr.jobs || !wr.ext || (e = setup_workers(&wr, a, want))) {
		e = -ENOMEM;
		what = "cannot allocate writer buffers";
		goto fail_relock;
	}
	what = "cannot write image";
	wr.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (wr.fd < 0) {
		e = -errno;
		goto fail_relock;
	}
	wr.file_off = CK_IMG_HDR_SPACE;
	int64_t t1 = ck_now_ns();
	if ((e = run_workers(&wr)))
		goto fail_relock;
	int64_t t2 = ck_now_ns();
	relock_regions(m, &sc);
	if ((e = (int)write_tail(&wr, m, a, forked, &res->mem_bytes)))
		goto fail;
	int64_t t3 = ck_now_ns();
	if (fsync(wr.fd) != 0) {
		e = -errno;
		goto fail;
	}
	if (ck_eng.verbose)
		dm_info("image writer: scan %.3f s, %d threads write %.3f s, "
			"metadata %.3f s, fsync %.3f s", (t1 - t0) / 1e9,
			wr.nworkers, (t2 - t1) / 1e9, (t3 - t2) / 1e9,
			(ck_now_ns() - t3) / 1e9);
	struct stat st;
	res->image_bytes = fstat(wr.fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	close(wr.fd);
	wr.fd = -1;
	if ((e = durable_rename(tmp, path))) {
		what = "cannot rename image into place";
		goto fail;
	}
	return 0;
fail_relock:
	relock_regions(m, &sc);
fail:
	if (sc.pmfd >= 0)
		close(sc.pmfd);
	if (wr.fd >= 0) {
		close(wr.fd);
		unlink(tmp);
	}
	dm_err("%s (%s): %s", what, tmp, errstr(-e));
	return -1;
}
