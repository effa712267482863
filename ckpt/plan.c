/*
 * plan.c - decide where the restorer runs and write its plan (plan.h).
 *
 * Placement.  "Busy" is everything the restored process will occupy:
 * the image's regions, its vdso/vvar addresses and its program break.
 * The restorer must sit outside all of that, and so must its plan and
 * the spot it moves the vdso through.  Best of all it ends exactly at
 * the image's start_brk: exec'd without randomisation, the kernel then
 * starts the restorer's program break where the image's was, and one
 * brk() call gives the restored heap back to the kernel's brk, so malloc
 * can keep growing it.  When the restorer does not fit below start_brk
 * (the random gap after the program's data is smaller than 12 KiB, very
 * rare) it goes anywhere free and the heap is restored as plain memory.
 */
#include "ckpt/restart.h"
#include "ckpt/restore/plan.h"
#include "util/fault.h"
#include "util/log.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE CK_IMG_PAGE
#define LOW_LIMIT 0x10000ULL
#define HIGH_LIMIT 0x7f0000000000ULL   /* stay below the restorer's own
					  stack and vdso (top of memory) */

struct busy {
	const struct ck_img *im;
	uint64_t extra[8][2];
	int nextra;
};

static uint64_t page_up(uint64_t x)
{
	return (x + PAGE - 1) & ~(uint64_t)(PAGE - 1);
}

static void busy_add(struct busy *b, uint64_t lo, uint64_t hi)
{
	if (hi > lo && b->nextra < 8) {
		b->extra[b->nextra][0] = lo;
		b->extra[b->nextra][1] = hi;
		b->nextra++;
	}
}

/* If [lo, hi) overlaps something busy, the end of that thing; else 0. */
static uint64_t clash(const struct busy *b, uint64_t lo, uint64_t hi)
{
	const struct ck_img *im = b->im;

	for (uint32_t i = 0; i < im->nregions; i++)
		if (im->regions[i].start < hi && im->regions[i].end > lo)
			return im->regions[i].end;
	for (int i = 0; i < b->nextra; i++)
		if (b->extra[i][0] < hi && b->extra[i][1] > lo)
			return b->extra[i][1];
	return 0;
}

static uint64_t find_free(const struct busy *b, uint64_t size, uint64_t from)
{
	uint64_t at = page_up(from);

	while (at + size <= HIGH_LIMIT) {
		uint64_t end = clash(b, at, at + size);
		if (!end)
			return at;
		at = page_up(end);
	}
	return 0;
}

/* Size of the special mapping called name in our own address space. */
static uint64_t own_special(const char *name)
{
	char line[512];
	uint64_t size = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char nm[64] = "";
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %63s", &lo, &hi,
			   nm) >= 2 && strcmp(nm, name) == 0)
			size = hi - lo;
	}
	fclose(f);
	return size;
}

static int check_specials(const struct ck_img_proc *p, struct ckr_plan *pl,
			  uint64_t *tmp_size)
{
	static const char *const names[3] = { "[vdso]", "[vvar]",
					      "[vvar_vclock]" };
	const uint64_t *saved[3] = { p->vdso, p->vvar, p->vclock };

	*tmp_size = 0;
	for (int i = 0; i < 3; i++) {
		uint64_t have = own_special(names[i]);
		uint64_t had = saved[i][1] - saved[i][0];
		if (have != had) {
			dm_err("cannot restore on this kernel: %s is %llu "
			       "bytes here and %llu in the image (restart on "
			       "the kernel that wrote it)", names[i],
			       (unsigned long long)have,
			       (unsigned long long)had);
			return -1;
		}
		snprintf(pl->special[i].name, sizeof(pl->special[i].name),
			 "%s", names[i]);
		pl->special[i].saved_lo = saved[i][0];
		pl->special[i].saved_hi = saved[i][1];
		*tmp_size += have;
	}
	return 0;
}

/* Private memory must cover [start_brk, brk) for brk() to give it back
 * exactly (the kernel may have merged the heap with a neighbour: the
 * plan splits such a region at the break's ends). */
static int heap_tiles_brk(const struct ck_img *im)
{
	uint64_t at = im->proc->start_brk, end = page_up(im->proc->brk);

	for (uint32_t i = 0; i < im->nregions && at < end; i++) {
		const struct ck_img_region *r = &im->regions[i];
		if (r->end <= at)
			continue;
		if (r->start > at || r->kind != CK_REG_ANON)
			return 0;
		at = r->end;
	}
	return at >= end;
}

struct elf_span {
	uint64_t lo, hi;          /* page-aligned extent of PT_LOADs */
};

static int restorer_span(struct elf_span *s)
{
	const Elf64_Ehdr *eh = (const void *)ck_restorer_elf;
	size_t len = (size_t)(ck_restorer_elf_end - ck_restorer_elf);

	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_phoff + (size_t)eh->e_phnum * sizeof(Elf64_Phdr) > len)
		return -1;
	const Elf64_Phdr *ph = (const void *)(ck_restorer_elf + eh->e_phoff);
	s->lo = UINT64_MAX;
	s->hi = 0;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (ph[i].p_vaddr < s->lo)
			s->lo = ph[i].p_vaddr & ~(uint64_t)(PAGE - 1);
		if (ph[i].p_vaddr + ph[i].p_memsz > s->hi)
			s->hi = page_up(ph[i].p_vaddr + ph[i].p_memsz);
	}
	return s->lo == 0 ? 0 : -1;
}

/* A copy of the restorer that the kernel loads at base exactly. */
static int relocated_restorer(uint64_t base)
{
	size_t len = (size_t)(ck_restorer_elf_end - ck_restorer_elf);
	uint8_t *copy = malloc(len);

	if (!copy)
		return -1;
	memcpy(copy, ck_restorer_elf, len);
	Elf64_Ehdr *eh = (void *)copy;
	Elf64_Phdr *ph = (void *)(copy + eh->e_phoff);
	eh->e_type = ET_EXEC;
	eh->e_entry += base;
	eh->e_shoff = 0;
	eh->e_shnum = 0;
	eh->e_shstrndx = 0;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_GNU_STACK)
			continue;
		ph[i].p_vaddr += base;
		ph[i].p_paddr += base;
	}
	int fd = memfd_create("dmtcp_mpi-restorer", MFD_CLOEXEC);
	if (fd >= 0 && write(fd, copy, len) != (ssize_t)len) {
		close(fd);
		fd = -1;
	}
	free(copy);
	return fd;
}

struct layout {
	uint64_t regions, chunks, extents, fds, threads, strings, env,
		 env_len, scratch, stack, size;
};

/* The DMTCP_MPI_* variables of this command: the launcher of the restart
 * tells the restored process (its client and shim) where things are now
 * through them.  "K=V\0K=V\0\0". */
static uint64_t env_block(char *out)
{
	extern char **environ;
	uint64_t n = 0;

	for (char **e = environ; *e; e++) {
		size_t len = strlen(*e) + 1;
		if (strncmp(*e, "DMTCP_MPI_", 10) != 0)
			continue;
		if (out)
			memcpy(out + n, *e, len);
		n += len;
	}
	if (out)
		out[n] = '\0';
	return n + 1;
}

static uint64_t take(uint64_t *at, uint64_t n)
{
	uint64_t r = (*at + 63) & ~(uint64_t)63;
	*at = r + n;
	return r;
}

static void plan_layout(const struct ck_img *im, struct layout *l)
{
	uint64_t at = sizeof(struct ckr_plan);

	/* + 2: a region may be split at each end of the program break */
	l->regions = take(&at, (im->nregions + 2) * sizeof(struct ckr_region));
	l->chunks = take(&at, im->ndata * sizeof(struct ckr_chunk));
	l->extents = take(&at, im->nextents * sizeof(struct ck_img_extent));
	l->fds = take(&at, im->nfds * sizeof(struct ck_img_fd));
	l->threads = take(&at, im->nthreads * sizeof(struct ck_img_thread));
	l->strings = take(&at, im->strings_len);
	l->env_len = env_block(NULL);
	l->env = take(&at, l->env_len);
	l->scratch = take(&at, CKR_SCRATCH_SIZE);
	l->stack = take(&at, CKR_STACK_SIZE);
	l->size = page_up(at);
}

/* Regions for the restorer; with an exact break, the parts inside
 * [start_brk, brk) are not mapped: brk() creates them.  Returns how many. */
static uint32_t fill_regions(const struct ck_img *im, struct ckr_region *rg,
			     int exact_brk)
{
	uint64_t lo = im->proc->start_brk, hi = page_up(im->proc->brk);
	uint32_t n = 0;

	for (uint32_t i = 0; i < im->nregions; i++) {
		const struct ck_img_region *r = &im->regions[i];
		uint64_t cut[4] = { r->start, r->end, r->end, r->end };
		int parts = 1;
		if (exact_brk && lo < hi && r->start < hi && r->end > lo) {
			/* before the break, inside it, after it */
			cut[1] = r->start < lo ? lo : r->start;
			cut[2] = r->end > hi ? hi : r->end;
			cut[3] = r->end;
			parts = 3;
		}
		for (int k = 0; k < parts; k++) {
			if (cut[k + 1] <= cut[k])
				continue;
			rg[n++] = (struct ckr_region){
				.start = cut[k], .end = cut[k + 1],
				.prot = r->prot, .kind = r->kind,
				.flags = r->flags, .path = r->path,
				.file_offset = r->file_offset +
					       (cut[k] - r->start),
				.in_brk = parts == 3 && k == 1 };
		}
	}
	return n;
}

static uint32_t fill_arrays(const struct ck_img *im, uint8_t *buf,
			    const struct layout *l, int exact_brk)
{
	struct ckr_chunk *ch = (void *)(buf + l->chunks);
	uint32_t nregions = fill_regions(im, (void *)(buf + l->regions),
					 exact_brk);

	for (uint32_t k = 0; k < im->ndata; k++) {
		const struct ck_img_section *s = &im->sec[im->first_data + k];
		ch[k] = (struct ckr_chunk){
			.file_off = s->offset, .raw = s->raw_size,
			.from_pipe = s->codec == CK_CODEC_ZSTD,
			.ext_first = s->ext_first, .ext_count = s->ext_count };
	}
	memcpy(buf + l->extents, im->extents,
	       im->nextents * sizeof(*im->extents));
	memcpy(buf + l->fds, im->fds, im->nfds * sizeof(*im->fds));
	memcpy(buf + l->threads, im->threads,
	       im->nthreads * sizeof(*im->threads));
	memcpy(buf + l->strings, im->strings, im->strings_len);
	return nregions;
}

static int write_memfd(const void *buf, size_t len)
{
	int fd = memfd_create("dmtcp_mpi-plan", 0);

	if (fd < 0)
		return -1;
	const char *p = buf;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w <= 0) {
			close(fd);
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return fd;
}

int ck_plan_build(const struct ck_img *im, int image_fd,
		  const struct ck_feed *f, struct ck_plan_out *out)
{
	const struct ck_img_proc *p = im->proc;
	struct busy b = { .im = im };
	struct elf_span span;
	struct layout l;
	struct ckr_plan pl;
	uint64_t tmp_size;

	memset(&pl, 0, sizeof(pl));
	memset(out, 0, sizeof(*out));
	if (check_specials(p, &pl, &tmp_size))
		return -1;
	if (restorer_span(&span)) {
		dm_err("cannot restore: the embedded restorer is not a "
		       "position-independent ELF");
		return -1;
	}
	busy_add(&b, p->vdso[0], p->vdso[1]);
	busy_add(&b, p->vvar[0], p->vvar[1]);
	busy_add(&b, p->vclock[0], p->vclock[1]);
	/* brk() needs a free page after the new break. */
	busy_add(&b, p->start_brk, page_up(p->brk) + PAGE);

	uint64_t size = span.hi - span.lo, base = 0;
	/* DMTCP_MPI_FAULT=restart-no-brk: test the fallback placement. */
	int no_brk = dm_fault("restart-no-brk");
	if (!no_brk && p->start_brk >= LOW_LIMIT + size && heap_tiles_brk(im) &&
	    !clash(&b, p->start_brk - size, p->start_brk)) {
		base = p->start_brk - size;
		out->exact_brk = 1;
	} else {
		base = find_free(&b, size, 1ULL << 32);
		dm_warn("the program break cannot be restored exactly; the "
			"heap comes back as plain memory and malloc goes on "
			"with mmap");
	}
	busy_add(&b, base, base + size);
	plan_layout(im, &l);
	uint64_t plan_base = find_free(&b, l.size, 8ULL << 30);
	busy_add(&b, plan_base, plan_base + l.size);
	uint64_t tmp = find_free(&b, tmp_size + PAGE, plan_base + l.size);
	if (!base || !plan_base || !tmp) {
		dm_err("cannot restore: no free address range for the "
		       "restorer");
		return -1;
	}

	uint8_t *buf = calloc(1, l.size);
	if (!buf)
		return -1;
	pl.magic = CKR_PLAN_MAGIC;
	pl.size = l.size;
	pl.base = plan_base;
	pl.self_lo = base;
	pl.self_hi = base + size;
	pl.stack_top = plan_base + l.stack + CKR_STACK_SIZE;
	pl.scratch = plan_base + l.scratch;
	pl.scratch_len = CKR_SCRATCH_SIZE;
	pl.tmp_lo = tmp;
	pl.tmp_hi = tmp + tmp_size + PAGE;
	pl.start_brk = p->start_brk;
	pl.brk = p->brk;
	pl.exact_brk = (uint32_t)out->exact_brk;
	pl.personality = p->personality;
	pl.umask = p->umask;
	pl.cwd = p->cwd;
	pl.image_fd = image_fd;
	pl.pipe_fd = f->data_fd;
	pl.go_fd = f->go_fd;
	pl.feeder_pid = f->pid;
	pl.nchunks = im->ndata;
	pl.nextents = im->nextents;
	pl.nfds = im->nfds;
	pl.nthreads = im->nthreads;
	pl.leader = p->leader;
	pl.regions = l.regions;
	pl.chunks = l.chunks;
	pl.extents = l.extents;
	pl.fds = l.fds;
	pl.threads = l.threads;
	pl.strings = l.strings;
	pl.strings_len = im->strings_len;
	pl.env = l.env;
	pl.env_len = l.env_len;
	pl.wake_fn = p->wake_fn;
	pl.restart_info = p->restart_info;
	memcpy(pl.sig, p->sig, sizeof(pl.sig));
	pl.nregions = fill_arrays(im, buf, &l, out->exact_brk);
	memcpy(buf, &pl, sizeof(pl));
	env_block((char *)buf + l.env);

	out->plan_fd = write_memfd(buf, l.size);
	free(buf);
	out->plan_base = plan_base;
	out->plan_size = l.size;
	out->elf_fd = out->plan_fd >= 0 ? relocated_restorer(base) : -1;
	if (out->plan_fd < 0 || out->elf_fd < 0) {
		dm_err("cannot restore: cannot create the restorer's files "
		       "(memfd_create): %s", strerror(errno));
		return -1;
	}
	return 0;
}
