/*
 * maps.c - read and parse /proc/self/maps without allocating (maps.h).
 *
 * Line format (proc(5)):
 *   start-end perms offset major:minor inode [spaces path]
 * The path may contain spaces and may end in " (deleted)"; it runs to
 * the end of the line.
 */
#include "ckpt/maps.h"
#include "ckpt/sys.h"

#include <fcntl.h>
#include <sys/mman.h>

long ck_maps_read(char *buf, size_t cap)
{
	long fd = ck_sys3(CK_NR_open, "/proc/self/maps", O_RDONLY | O_CLOEXEC,
			  0);
	size_t len = 0;

	if (fd < 0)
		return fd;
	for (;;) {
		if (len == cap) {
			char probe;
			long r = ck_sys3(CK_NR_read, fd, &probe, 1);
			ck_sys1(CK_NR_close, fd);
			return r == 0 ? (long)len : -7; /* E2BIG */
		}
		long r = ck_sys3(CK_NR_read, fd, buf + len, cap - len);
		if (r < 0) {
			ck_sys1(CK_NR_close, fd);
			return r;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	ck_sys1(CK_NR_close, fd);
	return (long)len;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse a number in base 16 or 10 at *p, stopping at a non-digit. */
static int number(char **p, char *end, int base, uint64_t *out)
{
	uint64_t v = 0;
	char *s = *p;

	while (s < end) {
		int d = hexval(*s);
		if (d < 0 || d >= base)
			break;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return -1;
		v = v * (uint64_t)base + (uint64_t)d;
		s++;
	}
	if (s == *p)
		return -1;
	*p = s;
	*out = v;
	return 0;
}

static int expect(char **p, char *end, char c)
{
	if (*p >= end || **p != c)
		return -1;
	(*p)++;
	return 0;
}

static int parse_line(char *s, char *end, struct ck_map *m)
{
	uint64_t maj, min;

	if (number(&s, end, 16, &m->start) || expect(&s, end, '-') ||
	    number(&s, end, 16, &m->end) || expect(&s, end, ' '))
		return -1;
	if (end - s < 5 || m->start >= m->end)
		return -1;
	m->prot = (s[0] == 'r' ? PROT_READ : 0) |
		  (s[1] == 'w' ? PROT_WRITE : 0) |
		  (s[2] == 'x' ? PROT_EXEC : 0);
	if (s[3] != 's' && s[3] != 'p')
		return -1;
	m->shared = s[3] == 's';
	s += 4;
	if (expect(&s, end, ' ') || number(&s, end, 16, &m->offset) ||
	    expect(&s, end, ' ') || number(&s, end, 16, &maj) ||
	    expect(&s, end, ':') || number(&s, end, 16, &min) ||
	    expect(&s, end, ' ') || number(&s, end, 10, &m->inode))
		return -1;
	m->dev_major = (uint32_t)maj;
	m->dev_minor = (uint32_t)min;
	while (s < end && *s == ' ')
		s++;
	*end = '\0';
	m->name = s;
	return 0;
}

long ck_maps_parse(char *buf, size_t len, struct ck_map *out, size_t max)
{
	size_t n = 0;
	char *s = buf, *stop = buf + len;

	while (s < stop) {
		char *nl = s;
		while (nl < stop && *nl != '\n')
			nl++;
		if (nl == stop)   /* last line without '\n': no room for NUL */
			return -1;
		if (n == max)
			return -2;
		if (parse_line(s, nl, &out[n]))
			return -1;
		n++;
		s = nl + 1;
	}
	return (long)n;
}
