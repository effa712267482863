/*
 * hash.h - the 64-bit checksum of image sections (XXH64, written from its
 * public specification).  It runs at memory speed, so checking every
 * section of a 1 GiB image costs a fraction of reading it.  The same
 * function checks zstd's frame checksum in the unit test, which gives an
 * independent oracle.
 */
#ifndef CK_HASH_H
#define CK_HASH_H

#include <stddef.h>
#include <stdint.h>

struct ck_hash {
	uint64_t v[4];     /* lane accumulators */
	uint64_t total;    /* bytes fed so far */
	uint8_t buf[32];   /* partial stripe */
	uint32_t nbuf;     /* bytes in buf */
};

void ck_hash_init(struct ck_hash *h, uint64_t seed);
void ck_hash_update(struct ck_hash *h, const void *p, size_t len);
uint64_t ck_hash_final(const struct ck_hash *h);

/* One-shot: ck_hash64(p, len, 0) equals XXH64(p, len, 0). */
uint64_t ck_hash64(const void *p, size_t len, uint64_t seed);

#endif
