/*
 * maps.h - /proc/self/maps into a caller's preallocated arrays.
 *
 * The checkpoint walks the address space with every other thread stopped,
 * possibly in the middle of malloc, so nothing here allocates: the file
 * is read whole into the caller's buffer (reading it piecemeal while the
 * map changes would give a torn view) and parsed in place.
 */
#ifndef CK_MAPS_H
#define CK_MAPS_H

#include <stddef.h>
#include <stdint.h>

struct ck_map {
	uint64_t start, end;      /* [start, end) */
	uint64_t offset;          /* file offset */
	uint64_t inode;
	uint32_t prot;            /* PROT_READ/WRITE/EXEC */
	uint32_t shared;          /* 1 for 's', 0 for 'p' */
	uint32_t dev_major, dev_minor;
	const char *name;         /* path or [name]; "" if anonymous */
};

/* Read /proc/self/maps whole into buf.  Returns its length, -E2BIG if it
 * does not fit (retry with a bigger buffer), or another -errno. */
long ck_maps_read(char *buf, size_t cap);

/* Parse len bytes of maps text in buf (names are NUL-terminated in
 * place).  Returns the number of entries (at most max), or -1 on a line
 * that does not parse, or -2 if there are more than max entries. */
long ck_maps_parse(char *buf, size_t len, struct ck_map *out, size_t max);

#endif
