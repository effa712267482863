/*
 * manifest.c - read what a restart needs from a checkpoint's manifest.
 *
 * The coordinator writes <ckpt dir>/manifest (coordinator/commit.c):
 * key=value lines, rank.R.* keys per rank, '#' comments, and
 * status=complete as the very last line, so a manifest cut short by a
 * crash is told apart from a finished one.  Unknown keys are skipped, so
 * later formats can add some.  Two passes: nranks first (it sizes the
 * per-rank table), then everything else.
 */
#include "launcher/launcher.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Manifests are a few hundred bytes per rank; anything near this is not
 * one of ours. */
#define MANIFEST_MAX (64u << 20)
#define MANIFEST_MAX_RANKS (1 << 20)

static int parse_u64(const char *s, int base, uint64_t *out)
{
	char *end;

	if (!(base == 16 ? isxdigit((unsigned char)*s) :
			   isdigit((unsigned char)*s)))
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (errno || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* A rank.R.KEY line; -1 if the rank or the value is malformed. */
static int take_rank(struct ln_manifest *m, const char *key, const char *val)
{
	char *end;
	long r = strtol(key, &end, 10);
	uint64_t v;

	if (end == key || *end != '.' || r < 0 || r >= m->nranks)
		return -1;
	struct ln_manifest_rank *k = &m->rank[r];
	key = end + 1;
	if (strcmp(key, "image") == 0) {
		/* A plain name: the images live next to the manifest. */
		if (!*val || strchr(val, '/') || strlen(val) >= sizeof(k->image))
			return -1;
		snprintf(k->image, sizeof(k->image), "%s", val);
	} else if (strcmp(key, "size") == 0) {
		if (parse_u64(val, 10, &k->size) < 0)
			return -1;
		k->have_size = 1;
	} else if (strcmp(key, "checksum") == 0) {
		if (strncmp(val, "crc32c:", 7) != 0 ||
		    parse_u64(val + 7, 16, &v) < 0 || v > UINT32_MAX)
			return -1;
		k->crc = (uint32_t)v;
		k->have_crc = 1;
	}
	return 0;
}

/* One key=value line of the second pass; -1 on a malformed value. */
static int take(struct ln_manifest *m, const char *key, const char *val)
{
	if (strcmp(key, "mpi") == 0) {
		snprintf(m->mpi, sizeof(m->mpi), "%s", val);
		return 0;
	}
	if (strncmp(key, "rank.", 5) == 0)
		return take_rank(m, key + 5, val);
	return 0;
}

static char *slurp(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf = f ? malloc(MANIFEST_MAX + 1) : NULL;
	size_t n = buf ? fread(buf, 1, MANIFEST_MAX + 1, f) : 0;

	if (!f || !buf || ferror(f)) {
		snprintf(err, errlen, "%s", strerror(f && !buf ? ENOMEM : errno));
		free(buf);
		if (f)
			fclose(f);
		return NULL;
	}
	fclose(f);
	if (n > MANIFEST_MAX) {
		snprintf(err, errlen, "larger than %u MiB: not a manifest",
			 MANIFEST_MAX >> 20);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* The value of nranks=, or -1. */
static int find_nranks(const char *text)
{
	const char *p = strncmp(text, "nranks=", 7) == 0 ? text :
			strstr(text, "\nnranks=");
	uint64_t v;
	char num[16];

	if (!p)
		return -1;
	p = strchr(p, '=') + 1;
	size_t n = strcspn(p, "\n");
	if (n >= sizeof(num))
		return -1;
	memcpy(num, p, n);
	num[n] = '\0';
	if (parse_u64(num, 10, &v) < 0 || v < 1 || v > MANIFEST_MAX_RANKS)
		return -1;
	return (int)v;
}

int ln_manifest_read(const char *dir, struct ln_manifest *m, char *err,
		     size_t errlen)
{
	char path[4096 + 16], *save = NULL, *last = NULL;

	memset(m, 0, sizeof(*m));
	snprintf(path, sizeof(path), "%s/manifest", dir);
	char *text = slurp(path, err, errlen);
	if (!text)
		return -1;
	m->nranks = find_nranks(text);
	m->rank = m->nranks > 0 ? calloc((size_t)m->nranks, sizeof(*m->rank))
				: NULL;
	if (!m->rank) {
		snprintf(err, errlen, m->nranks > 0 ? "out of memory" :
			 "no valid nranks line: not a dmtcp_mpi manifest");
		free(text);
		return -1;
	}
	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		last = line;
		char *eq = strchr(line, '=');
		if (line[0] == '#' || !eq)
			continue;
		*eq = '\0';
		if (take(m, line, eq + 1) < 0) {
			snprintf(err, errlen, "bad line %.64s=%.64s", line,
				 eq + 1);
			free(text);
			return -1;
		}
		*eq = '=';
	}
	m->complete = last && strcmp(last, "status=complete") == 0;
	free(text);
	if (!m->mpi[0]) {
		snprintf(err, errlen, "no mpi line: not a dmtcp_mpi manifest");
		return -1;
	}
	return 0;
}
