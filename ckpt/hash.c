/*
 * hash.c - XXH64 (see hash.h), streaming and one-shot.  Four independent
 * lanes keep the multiplier busy; the tail and the final mix follow the
 * published algorithm so results can be checked against other tools.
 */
#include "ckpt/hash.h"

#include <string.h>

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL
#define P4 0x85EBCA77C2B2AE63ULL
#define P5 0x27D4EB2F165667C5ULL

static inline uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static inline uint64_t round64(uint64_t acc, uint64_t in)
{
	acc += in * P2;
	acc = rotl(acc, 31);
	return acc * P1;
}

static inline uint64_t merge64(uint64_t h, uint64_t v)
{
	h ^= round64(0, v);
	return h * P1 + P4;
}

/* Consume whole 32-byte stripes; returns bytes consumed. */
static size_t stripes(uint64_t v[4], const uint8_t *p, size_t len)
{
	size_t n = len & ~(size_t)31;
	uint64_t a = v[0], b = v[1], c = v[2], d = v[3];

	for (size_t i = 0; i < n; i += 32) {
		a = round64(a, rd64(p + i));
		b = round64(b, rd64(p + i + 8));
		c = round64(c, rd64(p + i + 16));
		d = round64(d, rd64(p + i + 24));
	}
	v[0] = a; v[1] = b; v[2] = c; v[3] = d;
	return n;
}

void ck_hash_init(struct ck_hash *h, uint64_t seed)
{
	memset(h, 0, sizeof(*h));
	h->v[0] = seed + P1 + P2;
	h->v[1] = seed + P2;
	h->v[2] = seed;
	h->v[3] = seed - P1;
}

void ck_hash_update(struct ck_hash *h, const void *data, size_t len)
{
	const uint8_t *p = data;

	h->total += len;
	if (h->nbuf) {
		size_t take = 32 - h->nbuf;
		if (take > len)
			take = len;
		memcpy(h->buf + h->nbuf, p, take);
		h->nbuf += (uint32_t)take;
		p += take;
		len -= take;
		if (h->nbuf < 32)
			return;
		stripes(h->v, h->buf, 32);
		h->nbuf = 0;
	}
	size_t n = stripes(h->v, p, len);
	memcpy(h->buf, p + n, len - n);
	h->nbuf = (uint32_t)(len - n);
}

uint64_t ck_hash_final(const struct ck_hash *h)
{
	uint64_t r;
	const uint8_t *p = h->buf;
	size_t len = h->nbuf;

	if (h->total >= 32) {
		r = rotl(h->v[0], 1) + rotl(h->v[1], 7) + rotl(h->v[2], 12) +
		    rotl(h->v[3], 18);
		for (int i = 0; i < 4; i++)
			r = merge64(r, h->v[i]);
	} else {
		r = h->v[2] + P5;   /* v[2] holds the seed */
	}
	r += h->total;
	for (; len >= 8; p += 8, len -= 8) {
		r ^= round64(0, rd64(p));
		r = rotl(r, 27) * P1 + P4;
	}
	if (len >= 4) {
		r ^= (uint64_t)rd32(p) * P1;
		r = rotl(r, 23) * P2 + P3;
		p += 4;
		len -= 4;
	}
	for (; len; p++, len--) {
		r ^= (uint64_t)*p * P5;
		r = rotl(r, 11) * P1;
	}
	r ^= r >> 33;
	r *= P2;
	r ^= r >> 29;
	r *= P3;
	r ^= r >> 32;
	return r;
}

uint64_t ck_hash64(const void *p, size_t len, uint64_t seed)
{
	struct ck_hash h;

	ck_hash_init(&h, seed);
	ck_hash_update(&h, p, len);
	return ck_hash_final(&h);
}
