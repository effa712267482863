/*
 * info.c - `dmtcp_mpi_restart --info IMAGE`: what an image holds, for
 * people (after CRIU's crit and SQLite's showdb).  The image has been
 * checked by ck_img_open before anything here runs.
 */
#include "ckpt/restart.h"

#include <stdio.h>
#include <time.h>

static const char *kind_name(uint32_t k)
{
	return k == CK_REG_ANON ? "private" :
	       k == CK_REG_SHARED_ANON ? "shared" :
	       k == CK_REG_SHARED_FILE ? "shared-file" : "?";
}

static const char *fd_kind(uint32_t k)
{
	static const char *const n[] = { "?", "stdio", "file", "dir", "dev",
					 "dup", "other" };
	return k <= CK_FD_OTHER ? n[k] : "?";
}

static void prot_str(uint32_t p, char out[4])
{
	out[0] = p & 1 ? 'r' : '-';
	out[1] = p & 2 ? 'w' : '-';
	out[2] = p & 4 ? 'x' : '-';
	out[3] = '\0';
}

/* Saved bytes of each region: extents are in address order. */
static void print_regions(const struct ck_img *im)
{
	uint32_t x = 0;

	printf("regions: %u\n", im->nregions);
	for (uint32_t i = 0; i < im->nregions; i++) {
		const struct ck_img_region *r = &im->regions[i];
		uint64_t saved = 0;
		char prot[4];
		while (x < im->nextents && im->extents[x].addr < r->end) {
			saved += im->extents[x].len;
			x++;
		}
		prot_str(r->prot, prot);
		const char *path = ck_img_str(im, r->path);
		printf("  %012llx-%012llx %s %-11s %9llu KiB saved%s%s %s\n",
		       (unsigned long long)r->start,
		       (unsigned long long)r->end, prot, kind_name(r->kind),
		       (unsigned long long)(saved >> 10),
		       r->flags & CK_REG_F_HEAP ? " heap" : "",
		       r->flags & CK_REG_F_STACK ? " stack" : "",
		       path ? path : "");
	}
}

static void print_sections(const struct ck_img *im)
{
	uint64_t raw = 0, stored = 0;
	uint32_t z = 0;

	for (uint32_t k = 0; k < im->ndata; k++) {
		const struct ck_img_section *s = &im->sec[im->first_data + k];
		raw += s->raw_size;
		stored += s->stored_size;
		z += s->codec == CK_CODEC_ZSTD;
	}
	printf("sections: %u (%u data: %u zstd, %u raw)\n",
	       im->hdr->nsections, im->ndata, z, im->ndata - z);
	printf("memory: %llu bytes saved in %llu bytes (%.2fx), %u extents\n",
	       (unsigned long long)raw, (unsigned long long)stored,
	       stored ? (double)raw / (double)stored : 1.0, im->nextents);
}

static void print_threads(const struct ck_img *im)
{
	printf("threads: %u\n", im->nthreads);
	for (uint32_t i = 0; i < im->nthreads; i++) {
		const struct ck_img_thread *t = &im->threads[i];
		printf("  tid %-7u %-10s %-16s fs %#llx rseq %s%s\n", t->tid,
		       t->kind == CK_THR_CTX ? "checkpoint" : "stopped",
		       t->name, (unsigned long long)t->fs_base,
		       t->rseq ? "yes" : "no",
		       i == im->proc->leader ? " (leader)" : "");
	}
}

static void print_fds(const struct ck_img *im)
{
	printf("fds: %u\n", im->nfds);
	for (uint32_t i = 0; i < im->nfds; i++) {
		const struct ck_img_fd *f = &im->fds[i];
		const char *path = ck_img_str(im, f->path);
		printf("  %3d %-5s flags %#o offset %llu", f->fd,
		       fd_kind(f->kind), (unsigned)f->oflags,
		       (unsigned long long)f->offset);
		if (f->kind == CK_FD_DUP)
			printf(" same as %d", f->dup_of);
		printf("%s%s\n", path ? " " : "", path ? path : "");
	}
}

void ck_info_print(const struct ck_img *im, const char *path)
{
	const struct ck_img_header *h = im->hdr;
	const struct ck_img_proc *p = im->proc;
	time_t t = (time_t)(h->create_ns / 1000000000ULL);
	char when[64];
	unsigned nh = 0;

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
	printf("image: %s\n", path);
	printf("format: version %u, x86_64, %llu bytes%s\n", h->version,
	       (unsigned long long)h->file_size,
	       h->flags & CK_IMG_F_FORKED ? ", written by a forked child" : "");
	printf("written: %s on %s, pid %u\n", when, h->host, h->pid);
	printf("kernel: %s   glibc: %s\n", h->kernel, h->glibc);
	printf("program: %s\n", ck_img_str(im, p->exe) ? ck_img_str(im, p->exe) :
	       "?");
	printf("cwd: %s   umask: %03o\n", ck_img_str(im, p->cwd), p->umask);
	printf("brk: %#llx-%#llx\n", (unsigned long long)p->start_brk,
	       (unsigned long long)p->brk);
	for (int s = 0; s < CK_IMG_NSIG; s++)
		nh += p->sig[s].handler > 1;
	printf("signal handlers: %u, pending (process): %#llx\n", nh,
	       (unsigned long long)p->shared_pending);
	print_sections(im);
	print_threads(im);
	print_fds(im);
	print_regions(im);
}
