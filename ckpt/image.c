/*
 * image.c - reader and checker of checkpoint images (see image.h).
 *
 * Used by dmtcp_mpi_restart (restore and --info), the unit tests and the
 * fuzzer.  Every length and offset read from the image is checked against
 * the buffer before it is used; the first problem found is reported as
 * (section, reason) and nothing else is looked at.
 */
#include "ckpt/image.h"
#include "ckpt/hash.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int fail(struct ck_img_err *e, const char *section, const char *fmt,
		...) __attribute__((format(printf, 3, 4)));

static int fail(struct ck_img_err *e, const char *section, const char *fmt,
		...)
{
	va_list ap;

	snprintf(e->section, sizeof(e->section), "%s", section);
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
	va_end(ap);
	return -1;
}

const char *ck_img_sec_name(uint32_t type)
{
	static const char *const names[] = {
		"?", "proc", "threads", "fds", "regions", "extents",
		"strings", "data"
	};
	return type <= CK_SEC_MAX ? names[type] : "unknown";
}

uint64_t ck_img_header_hash(const struct ck_img_header *h)
{
	struct ck_img_header c = *h;

	c.header_hash = 0;
	return ck_hash64(&c, sizeof(c), 0);
}

/* Fuzzing builds accept any checksum, so mutations reach the checks
 * behind them (the usual libFuzzer convention). */
static int hash_matches(uint64_t got, uint64_t want)
{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	(void)got;
	(void)want;
	return 1;
#else
	return got == want;
#endif
}

static int nul_terminated(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

static int check_header(struct ck_img *im, struct ck_img_err *e)
{
	const struct ck_img_header *h = (const void *)im->base;

	if (im->size < sizeof(*h))
		return fail(e, "header", "file is %zu bytes, shorter than a "
			    "header", im->size);
	if (memcmp(h->magic, CK_IMG_MAGIC, 8) != 0)
		return fail(e, "header", "bad magic: not a dmtcp_mpi image");
	if (h->version != CK_IMG_VERSION)
		return fail(e, "header", "format version %u, this build "
			    "reads version %u", h->version, CK_IMG_VERSION);
	if (h->header_size != sizeof(*h))
		return fail(e, "header", "header size %u, expected %zu",
			    h->header_size, sizeof(*h));
	if (h->machine != CK_IMG_MACHINE_X86_64 || h->ptr_size != 8 ||
	    h->little_endian != 1)
		return fail(e, "header", "foreign architecture (machine %u, "
			    "%u-byte pointers, %s-endian); this is x86_64",
			    h->machine, h->ptr_size,
			    h->little_endian == 1 ? "little" : "big");
	if (h->page_size != CK_IMG_PAGE)
		return fail(e, "header", "page size %u, expected %u",
			    h->page_size, CK_IMG_PAGE);
	if (!hash_matches(ck_img_header_hash(h), h->header_hash))
		return fail(e, "header", "checksum mismatch");
	if (h->file_size != im->size)
		return fail(e, "header", "image is %zu bytes, header says "
			    "%llu (truncated or extended)", im->size,
			    (unsigned long long)h->file_size);
	if (!nul_terminated(h->kernel, sizeof(h->kernel)) ||
	    !nul_terminated(h->glibc, sizeof(h->glibc)) ||
	    !nul_terminated(h->host, sizeof(h->host)))
		return fail(e, "header", "unterminated string field");
	im->hdr = h;
	return 0;
}

static int check_table(struct ck_img *im, struct ck_img_err *e)
{
	const struct ck_img_header *h = im->hdr;
	uint64_t tsize = (uint64_t)h->nsections * sizeof(struct ck_img_section);

	if (h->nsections == 0 || h->nsections > CK_IMG_MAX_SECTIONS)
		return fail(e, "table", "%u sections", h->nsections);
	if (h->table_offset < CK_IMG_HDR_SPACE ||
	    h->table_offset > im->size || tsize > im->size - h->table_offset)
		return fail(e, "table", "table [%llu, +%llu) outside the "
			    "%zu-byte file",
			    (unsigned long long)h->table_offset,
			    (unsigned long long)tsize, im->size);
	if (h->table_offset % 8)
		return fail(e, "table", "misaligned table offset");
	im->sec = (const void *)(im->base + h->table_offset);
	if (!hash_matches(ck_hash64(im->sec, tsize, 0), h->table_hash))
		return fail(e, "table", "checksum mismatch");
	return 0;
}

/* Bounds, codec and type of every section; metadata hashes; remember
 * where each metadata section is. */
static int check_sections(struct ck_img *im, struct ck_img_err *e)
{
	const struct ck_img_section *meta[CK_SEC_MAX + 1] = { 0 };
	char name[32];

	im->ndata = 0;
	for (uint32_t i = 0; i < im->hdr->nsections; i++) {
		const struct ck_img_section *s = &im->sec[i];

		snprintf(name, sizeof(name), "%s #%u", ck_img_sec_name(s->type),
			 i);
		if (s->type == 0 || s->type > CK_SEC_MAX)
			return fail(e, name, "unknown section type %u",
				    s->type);
		if (s->offset < CK_IMG_HDR_SPACE ||
		    s->offset > im->hdr->table_offset ||
		    s->stored_size > im->hdr->table_offset - s->offset)
			return fail(e, name, "[%llu, +%llu) outside the data "
				    "area (file truncated or table corrupt)",
				    (unsigned long long)s->offset,
				    (unsigned long long)s->stored_size);
		if (s->type == CK_SEC_DATA) {
			if (s->codec > CK_CODEC_ZSTD)
				return fail(e, name, "unknown codec %u",
					    s->codec);
			if (s->codec == CK_CODEC_NONE &&
			    s->stored_size != s->raw_size)
				return fail(e, name, "raw section stores %llu "
					    "bytes for %llu",
					    (unsigned long long)s->stored_size,
					    (unsigned long long)s->raw_size);
			if (im->ndata++ == 0)
				im->first_data = i;
			else if (im->sec[i - 1].type != CK_SEC_DATA)
				return fail(e, name, "DATA sections not "
					    "consecutive in the table");
			continue;
		}
		if (s->codec != CK_CODEC_NONE || s->stored_size != s->raw_size)
			return fail(e, name, "metadata must be stored raw");
		if (meta[s->type])
			return fail(e, name, "duplicate section");
		if (s->offset % 8)
			return fail(e, name, "misaligned");
		if (!hash_matches(ck_hash64(im->base + s->offset,
					    s->stored_size, 0), s->hash))
			return fail(e, name, "checksum mismatch");
		meta[s->type] = s;
	}
	for (uint32_t t = CK_SEC_PROC; t < CK_SEC_DATA; t++)
		if (!meta[t])
			return fail(e, ck_img_sec_name(t), "section missing");
	if (meta[CK_SEC_PROC]->stored_size != sizeof(struct ck_img_proc))
		return fail(e, "proc", "size %llu, expected %zu",
			    (unsigned long long)meta[CK_SEC_PROC]->stored_size,
			    sizeof(struct ck_img_proc));

#define ARRAY(type, field, count, what)                                     \
	do {                                                                \
		const struct ck_img_section *s_ = meta[type];               \
		if (s_->stored_size % sizeof(*im->field) ||                 \
		    s_->stored_size / sizeof(*im->field) > 0xffffffffu)     \
			return fail(e, what, "size %llu is not a whole "    \
				    "number of records",                    \
				    (unsigned long long)s_->stored_size);   \
		im->field = (const void *)(im->base + s_->offset);          \
		im->count = (uint32_t)(s_->stored_size /                    \
				       sizeof(*im->field));                 \
	} while (0)

	ARRAY(CK_SEC_THREADS, threads, nthreads, "threads");
	ARRAY(CK_SEC_FDS, fds, nfds, "fds");
	ARRAY(CK_SEC_REGIONS, regions, nregions, "regions");
	ARRAY(CK_SEC_EXTENTS, extents, nextents, "extents");
#undef ARRAY
	im->proc = (const void *)(im->base + meta[CK_SEC_PROC]->offset);
	im->strings = (const char *)(im->base + meta[CK_SEC_STRINGS]->offset);
	if (meta[CK_SEC_STRINGS]->stored_size > 0xffffffffu)
		return fail(e, "strings", "too large");
	im->strings_len = (uint32_t)meta[CK_SEC_STRINGS]->stored_size;
	if (im->strings_len && im->strings[im->strings_len - 1] != '\0')
		return fail(e, "strings", "last string not terminated");
	return 0;
}

static int str_ok(const struct ck_img *im, uint32_t off, int optional)
{
	if (off == CK_IMG_NOSTR)
		return optional;
	return off < im->strings_len;
}

const char *ck_img_str(const struct ck_img *im, uint32_t off)
{
	return off == CK_IMG_NOSTR || off >= im->strings_len ?
		NULL : im->strings + off;
}

static int page_aligned(uint64_t x)
{
	return x % CK_IMG_PAGE == 0;
}

static int check_proc(const struct ck_img *im, struct ck_img_err *e)
{
	const struct ck_img_proc *p = im->proc;
	const uint64_t *r[3] = { p->vdso, p->vvar, p->vclock };

	if (p->start_brk > p->brk)
		return fail(e, "proc", "start_brk above brk");
	for (int i = 0; i < 3; i++)
		if (r[i][0] > r[i][1] || !page_aligned(r[i][0]) ||
		    !page_aligned(r[i][1]))
			return fail(e, "proc", "bad vdso/vvar range");
	if (!p->wake_fn || !p->restart_info)
		return fail(e, "proc", "missing restart entry points");
	if (!str_ok(im, p->cwd, 0) || !str_ok(im, p->exe, 1))
		return fail(e, "proc", "bad string reference");
	if (p->leader >= im->nthreads)
		return fail(e, "proc", "leader %u of %u threads", p->leader,
			    im->nthreads);
	return 0;
}

static int check_threads(const struct ck_img *im, struct ck_img_err *e)
{
	unsigned nctx = 0;

	if (im->nthreads == 0 || im->nthreads > CK_IMG_MAX_THREADS)
		return fail(e, "threads", "%u threads", im->nthreads);
	for (uint32_t i = 0; i < im->nthreads; i++) {
		const struct ck_img_thread *t = &im->threads[i];

		if (t->kind != CK_THR_SIGFRAME && t->kind != CK_THR_CTX)
			return fail(e, "threads", "thread %u: kind %u", i,
				    t->kind);
		nctx += t->kind == CK_THR_CTX;
		if (!t->fs_base || !t->tidptr || !t->wake_sp || !t->wake_arg ||
		    t->wake_sp % 16)
			return fail(e, "threads", "thread %u: missing state", i);
		if (t->rseq && (t->rseq_len < 32 || t->rseq % 32))
			return fail(e, "threads", "thread %u: bad rseq area", i);
		if (!nul_terminated(t->name, sizeof(t->name)))
			return fail(e, "threads", "thread %u: bad name", i);
	}
	if (nctx != 1)
		return fail(e, "threads", "%u checkpointing threads, expected 1",
			    nctx);
	return 0;
}

static int check_fds(const struct ck_img *im, struct ck_img_err *e)
{
	for (uint32_t i = 0; i < im->nfds; i++) {
		const struct ck_img_fd *f = &im->fds[i];

		if (f->fd < 0 || (i && f->fd <= im->fds[i - 1].fd))
			return fail(e, "fds", "entry %u: fd %d not ascending",
				    i, f->fd);
		if (f->kind < CK_FD_STDIO || f->kind > CK_FD_OTHER)
			return fail(e, "fds", "fd %d: kind %u", f->fd, f->kind);
		if (f->kind == CK_FD_STDIO && f->fd > 2)
			return fail(e, "fds", "fd %d marked stdio", f->fd);
		if (f->kind == CK_FD_DUP) {
			int ok = 0;
			for (uint32_t j = 0; j < i; j++)
				ok |= im->fds[j].fd == f->dup_of &&
				      im->fds[j].kind != CK_FD_DUP;
			if (!ok)
				return fail(e, "fds", "fd %d: duplicate of "
					    "unknown fd %d", f->fd, f->dup_of);
		}
		int need_path = f->kind == CK_FD_FILE || f->kind == CK_FD_DIR ||
				f->kind == CK_FD_DEV;
		if (!str_ok(im, f->path, !need_path))
			return fail(e, "fds", "fd %d: bad path reference",
				    f->fd);
	}
	return 0;
}

static int check_regions(const struct ck_img *im, struct ck_img_err *e)
{
	for (uint32_t i = 0; i < im->nregions; i++) {
		const struct ck_img_region *r = &im->regions[i];

		if (!page_aligned(r->start) || !page_aligned(r->end) ||
		    r->start >= r->end || r->end > (1ULL << 56))
			return fail(e, "regions", "region %u: bad range "
				    "[%#llx, %#llx)", i,
				    (unsigned long long)r->start,
				    (unsigned long long)r->end);
		if (i && r->start < im->regions[i - 1].end)
			return fail(e, "regions", "region %u overlaps or is "
				    "out of order", i);
		if (r->kind < CK_REG_ANON || r->kind > CK_REG_SHARED_FILE)
			return fail(e, "regions", "region %u: kind %u", i,
				    r->kind);
		if (r->prot & ~7u)
			return fail(e, "regions", "region %u: prot %#x", i,
				    r->prot);
		if (!str_ok(im, r->path, r->kind != CK_REG_SHARED_FILE))
			return fail(e, "regions", "region %u: bad path", i);
	}
	return 0;
}

/* Extents ascend, lie inside regions that keep contents, and DATA
 * sections cover them in order, exactly once. */
static int check_extents(const struct ck_img *im, struct ck_img_err *e)
{
	uint32_t r = 0, next = 0;
	uint64_t total = 0;

	for (uint32_t i = 0; i < im->nextents; i++) {
		const struct ck_img_extent *x = &im->extents[i];

		if (!page_aligned(x->addr) || !page_aligned(x->len) ||
		    !x->len || x->addr + x->len < x->addr)
			return fail(e, "extents", "extent %u: bad range", i);
		if (i && x->addr < im->extents[i - 1].addr +
				   im->extents[i - 1].len)
			return fail(e, "extents", "extent %u out of order", i);
		while (r < im->nregions && im->regions[r].end <= x->addr)
			r++;
		if (r == im->nregions || x->addr < im->regions[r].start ||
		    x->addr + x->len > im->regions[r].end ||
		    im->regions[r].kind == CK_REG_SHARED_FILE)
			return fail(e, "extents", "extent %u [%#llx, +%#llx) "
				    "is not inside a saved region", i,
				    (unsigned long long)x->addr,
				    (unsigned long long)x->len);
	}
	for (uint32_t k = 0; k < im->ndata; k++) {
		const struct ck_img_section *s = &im->sec[im->first_data + k];
		uint64_t raw = 0;
		char name[32];

		snprintf(name, sizeof(name), "data #%u", im->first_data + k);
		if (s->ext_first != next || s->ext_count == 0 ||
		    s->ext_count > im->nextents - next)
			return fail(e, name, "extents [%u, +%u) do not follow "
				    "the previous section", s->ext_first,
				    s->ext_count);
		for (uint32_t j = 0; j < s->ext_count; j++)
			raw += im->extents[next + j].len;
		if (raw != s->raw_size)
			return fail(e, name, "holds %llu bytes, its extents "
				    "%llu", (unsigned long long)s->raw_size,
				    (unsigned long long)raw);
		next += s->ext_count;
		total += raw;
	}
	if (next != im->nextents)
		return fail(e, "extents", "%u extents not in any DATA section",
			    im->nextents - next);
	if (total != im->hdr->mem_bytes)
		return fail(e, "header", "memory bytes %llu, sections hold "
			    "%llu", (unsigned long long)im->hdr->mem_bytes,
			    (unsigned long long)total);
	return 0;
}

int ck_img_check_data(const struct ck_img *im, uint32_t k,
		      struct ck_img_err *e)
{
	const struct ck_img_section *s = &im->sec[im->first_data + k];
	char name[32];

	if (hash_matches(ck_hash64(im->base + s->offset, s->stored_size, 0),
			 s->hash))
		return 0;
	snprintf(name, sizeof(name), "data #%u", im->first_data + k);
	return fail(e, name, "checksum mismatch");
}

int ck_img_open(struct ck_img *im, const void *buf, size_t size,
		int check_data, struct ck_img_err *e)
{
	memset(im, 0, sizeof(*im));
	memset(e, 0, sizeof(*e));
	im->base = buf;
	im->size = size;
	if (check_header(im, e) || check_table(im, e) ||
	    check_sections(im, e) || check_proc(im, e) ||
	    check_threads(im, e) || check_fds(im, e) ||
	    check_regions(im, e) || check_extents(im, e))
		return -1;
	if (im->hdr->nthreads != im->nthreads)
		return fail(e, "header", "says %u threads, section has %u",
			    im->hdr->nthreads, im->nthreads);
	for (uint32_t k = 0; check_data && k < im->ndata; k++)
		if (ck_img_check_data(im, k, e))
			return -1;
	return 0;
}
