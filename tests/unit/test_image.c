/*
 * test_image.c - the image reader (ckpt/image.c) and the checksum
 * (ckpt/hash.c).  A small image is built here field by field; the reader
 * must accept it, and must reject every truncation, every changed byte
 * of the header and of any section, and each kind of inconsistency,
 * naming the right section.  The hash is checked against the value the
 * XXH64 specification gives and against a one-shot model.
 */
#include "ckpt/hash.h"
#include "ckpt/image.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define PAGE CK_IMG_PAGE

struct built {
	uint8_t *buf;
	size_t size;
	struct ck_img_section *sec;   /* into buf */
	uint32_t nsec;
};

static void put(struct built *b, size_t *at, struct ck_img_section *s,
		uint32_t type, const void *p, size_t len)
{
	*at = (*at + 7) & ~(size_t)7;
	memcpy(b->buf + *at, p, len);
	memset(s, 0, sizeof(*s));
	s->type = type;
	s->offset = *at;
	s->stored_size = s->raw_size = len;
	s->hash = ck_hash64(p, len, 0);
	*at += len;
}

static void seal(struct built *b, size_t table_at)
{
	struct ck_img_header *h = (void *)b->buf;

	h->table_offset = table_at;
	h->nsections = b->nsec;
	h->table_hash = ck_hash64(b->sec, b->nsec * sizeof(*b->sec), 0);
	h->file_size = b->size;
	h->header_hash = ck_img_header_hash(h);
}

/* An image of one thread, two fds and one region with two extents held
 * by two raw DATA sections.  Any tweak hook runs before sealing. */
static struct built build(void (*tweak)(struct built *, void *), void *arg)
{
	struct built b;
	struct ck_img_proc proc;
	struct ck_img_thread th;
	struct ck_img_fd fds[2];
	struct ck_img_region rg;
	struct ck_img_extent ext[2];
	const char strings[] = "/tmp\0/bin/app\0/tmp/out\0";
	size_t at;

	b.size = 3 * PAGE + 64 * 1024;
	b.buf = calloc(1, b.size);
	b.nsec = 8;
	struct ck_img_header *h = (void *)b.buf;
	memcpy(h->magic, CK_IMG_MAGIC, 8);
	h->version = CK_IMG_VERSION;
	h->header_size = sizeof(*h);
	h->machine = CK_IMG_MACHINE_X86_64;
	h->ptr_size = 8;
	h->little_endian = 1;
	h->page_size = PAGE;
	h->nthreads = 1;
	h->mem_bytes = 3 * PAGE;
	strcpy(h->kernel, "6.1");
	strcpy(h->glibc, "2.36");

	memset(&proc, 0, sizeof(proc));
	proc.start_brk = proc.brk = 0x600000;
	proc.wake_fn = 0x7f0000001000;
	proc.restart_info = 0x7f0000002000;
	proc.cwd = 0;
	proc.exe = 5;
	memset(&th, 0, sizeof(th));
	th.tid = 42;
	th.kind = CK_THR_CTX;
	th.fs_base = 0x7f0000010000;
	th.tidptr = th.fs_base + 720;
	th.wake_sp = 0x7f0000020000;
	th.wake_arg = 0x7f0000003000;
	memset(fds, 0, sizeof(fds));
	fds[0] = (struct ck_img_fd){ .fd = 1, .kind = CK_FD_STDIO,
				     .path = CK_IMG_NOSTR, .dup_of = -1 };
	fds[1] = (struct ck_img_fd){ .fd = 3, .kind = CK_FD_FILE, .path = 14,
				     .dup_of = -1 };
	rg = (struct ck_img_region){ .start = 0x10000, .end = 0x20000,
				     .prot = 3, .kind = CK_REG_ANON,
				     .path = CK_IMG_NOSTR };
	ext[0] = (struct ck_img_extent){ 0x10000, 2 * PAGE };
	ext[1] = (struct ck_img_extent){ 0x14000, PAGE };

	b.sec = (void *)(b.buf + b.size - b.nsec * sizeof(*b.sec));
	at = PAGE;
	for (int k = 0; k < 2; k++) {
		uint8_t page[2 * PAGE];
		size_t len = k ? PAGE : 2 * PAGE;
		for (size_t i = 0; i < len; i++)
			page[i] = (uint8_t)(i * 7 + (size_t)k);
		struct ck_img_section *s = &b.sec[6 + k];
		put(&b, &at, s, CK_SEC_DATA, page, len);
		s->ext_first = (uint32_t)k;
		s->ext_count = 1;
	}
	put(&b, &at, &b.sec[0], CK_SEC_PROC, &proc, sizeof(proc));
	put(&b, &at, &b.sec[1], CK_SEC_THREADS, &th, sizeof(th));
	put(&b, &at, &b.sec[2], CK_SEC_FDS, fds, sizeof(fds));
	put(&b, &at, &b.sec[3], CK_SEC_REGIONS, &rg, sizeof(rg));
	put(&b, &at, &b.sec[4], CK_SEC_EXTENTS, ext, sizeof(ext));
	put(&b, &at, &b.sec[5], CK_SEC_STRINGS, strings, sizeof(strings) - 1);
	/* DATA entries must be last and consecutive: rotate them there. */
	struct ck_img_section tmp[8];
	memcpy(tmp, b.sec, sizeof(tmp));
	for (int i = 0; i < 6; i++)
		b.sec[i] = tmp[i];
	if (tweak)
		tweak(&b, arg);
	seal(&b, (size_t)((uint8_t *)b.sec - b.buf));
	return b;
}

static int opens(const struct built *b, size_t size, int data,
		 struct ck_img_err *e)
{
	struct ck_img im;
	return ck_img_open(&im, b->buf, size, data, e);
}

static void valid(void **state)
{
	struct built b = build(NULL, NULL);
	struct ck_img im;
	struct ck_img_err e;
	(void)state;

	assert_int_equal(ck_img_open(&im, b.buf, b.size, 1, &e), 0);
	assert_int_equal(im.nthreads, 1);
	assert_int_equal(im.nfds, 2);
	assert_int_equal(im.nregions, 1);
	assert_int_equal(im.nextents, 2);
	assert_int_equal(im.ndata, 2);
	assert_string_equal(ck_img_str(&im, im.fds[1].path), "/tmp/out");
	assert_null(ck_img_str(&im, CK_IMG_NOSTR));
	free(b.buf);
}

static void every_truncation(void **state)
{
	struct built b = build(NULL, NULL);
	struct ck_img_err e;
	(void)state;

	for (size_t len = 0; len < b.size; len++)
		assert_int_equal(opens(&b, len, 0, &e), -1);
	free(b.buf);
}

/* Every byte of the header, the table and each section is covered by a
 * hash: changing it must be refused. */
static void every_covered_byte(void **state)
{
	struct built b = build(NULL, NULL);
	struct ck_img_err e;
	(void)state;

	for (size_t i = 0; i < sizeof(struct ck_img_header); i++) {
		b.buf[i] ^= 0x20;
		assert_int_equal(opens(&b, b.size, 1, &e), -1);
		assert_string_equal(e.section, "header");
		b.buf[i] ^= 0x20;
	}
	for (uint32_t s = 0; s < b.nsec; s++) {
		size_t off = b.sec[s].offset, len = b.sec[s].stored_size;
		for (size_t i = off; i < off + len; i += 13) {
			b.buf[i] ^= 1;
			assert_int_equal(opens(&b, b.size, 1, &e), -1);
			assert_non_null(strstr(e.reason, "checksum"));
			b.buf[i] ^= 1;
		}
	}
	uint8_t *t = (uint8_t *)b.sec;
	t[5] ^= 1;
	assert_int_equal(opens(&b, b.size, 0, &e), -1);
	assert_string_equal(e.section, "table");
	t[5] ^= 1;
	assert_int_equal(opens(&b, b.size, 1, &e), 0);
	free(b.buf);
}

static void data_checked_only_when_asked(void **state)
{
	struct built b = build(NULL, NULL);
	struct ck_img_err e;
	(void)state;

	b.buf[b.sec[7].offset + 100] ^= 0xff;
	assert_int_equal(opens(&b, b.size, 0, &e), 0);
	assert_int_equal(opens(&b, b.size, 1, &e), -1);
	assert_string_equal(e.section, "data #7");
	free(b.buf);
}

/* Tweaks that keep every hash right but break a rule. */
static void rehash(struct built *b, int s)
{
	b->sec[s].hash = ck_hash64(b->buf + b->sec[s].offset,
				   b->sec[s].stored_size, 0);
}

static void extent_outside(struct built *b, void *arg)
{
	struct ck_img_extent *x = (void *)(b->buf + b->sec[4].offset);
	(void)arg;
	x[1].addr = 0x20000;   /* just past the region */
	rehash(b, 4);
}

static void raw_size_wrong(struct built *b, void *arg)
{
	(void)arg;
	b->sec[6].raw_size += PAGE;
}

static void two_ctx_threads(struct built *b, void *arg)
{
	struct ck_img_proc *p = (void *)(b->buf + b->sec[0].offset);
	(void)arg;
	p->leader = 3;
	rehash(b, 0);
}

static void dup_of_unknown(struct built *b, void *arg)
{
	struct ck_img_fd *f = (void *)(b->buf + b->sec[2].offset);
	(void)arg;
	f[1].kind = CK_FD_DUP;
	f[1].dup_of = 7;
	rehash(b, 2);
}

static void region_unaligned(struct built *b, void *arg)
{
	struct ck_img_region *r = (void *)(b->buf + b->sec[3].offset);
	(void)arg;
	r->end += 1;
	rehash(b, 3);
}

static void string_out_of_range(struct built *b, void *arg)
{
	struct ck_img_fd *f = (void *)(b->buf + b->sec[2].offset);
	(void)arg;
	f[1].path = 1000;
	rehash(b, 2);
}

static void missing_section(struct built *b, void *arg)
{
	(void)arg;
	b->sec[1].type = CK_SEC_FDS;   /* two FDS, no THREADS */
}

static void expect_rejected(void (*tweak)(struct built *, void *),
			    const char *section)
{
	struct built b = build(tweak, NULL);
	struct ck_img_err e;

	assert_int_equal(opens(&b, b.size, 1, &e), -1);
	assert_string_equal(e.section, section);
	free(b.buf);
}

static void inconsistencies(void **state)
{
	(void)state;
	expect_rejected(extent_outside, "extents");
	expect_rejected(raw_size_wrong, "data #6");
	expect_rejected(two_ctx_threads, "proc");
	expect_rejected(dup_of_unknown, "fds");
	expect_rejected(region_unaligned, "regions");
	expect_rejected(string_out_of_range, "fds");
	expect_rejected(missing_section, "fds #2");
}

static void hash_known_and_streaming(void **state)
{
	uint8_t buf[1000];
	(void)state;

	/* The XXH64 specification's value for empty input, seed 0. */
	assert_true(ck_hash64("", 0, 0) == 0xEF46DB3751D8E999ULL);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	/* Any split of the input gives the one-shot value. */
	for (size_t len = 0; len <= sizeof(buf); len += 37)
		for (size_t cut = 0; cut <= len; cut += 11) {
			struct ck_hash h;
			ck_hash_init(&h, 5);
			ck_hash_update(&h, buf, cut);
			ck_hash_update(&h, buf + cut, len - cut);
			assert_true(ck_hash_final(&h) ==
				    ck_hash64(buf, len, 5));
		}
	assert_true(ck_hash64(buf, 100, 0) != ck_hash64(buf, 100, 1));
	assert_true(ck_hash64(buf, 100, 0) != ck_hash64(buf, 99, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid),
		cmocka_unit_test(every_truncation),
		cmocka_unit_test(every_covered_byte),
		cmocka_unit_test(data_checked_only_when_asked),
		cmocka_unit_test(inconsistencies),
		cmocka_unit_test(hash_known_and_streaming),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
