/*
 * manifest.c - read what a restart needs from a checkpoint's manifest.
 *
 * The coordinator writes <ckpt dir>/manifest (coordinator/commit.c):
 * key=value lines, rank.R.* keys per rank, '#' comments, and
 * status=complete as the very last line, so a manifest cut short by a
 * crash is told apart from a finished one.  Only the job-wide keys and
 * those of one rank are kept; unknown keys are skipped, so later formats
 * can add some.
 */
#include "launcher/launcher.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Manifests are a few hundred bytes per rank; anything near this is not
 * one of ours. */
#define MANIFEST_MAX (16u << 20)

static int parse_u64(const char *s, int base, uint64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (errno || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* One key=value line; -1 if the value of a key we need is malformed. */
static int take(struct ln_manifest *m, const char *rankp, const char *key,
		const char *val)
{
	uint64_t v;
	size_t n = strlen(rankp);

	if (strcmp(key, "nranks") == 0) {
		if (parse_u64(val, 10, &v) < 0 || v < 1 || v > 1u << 24)
			return -1;
		m->nranks = (int)v;
		return 0;
	}
	if (strcmp(key, "mpi") == 0) {
		snprintf(m->mpi, sizeof(m->mpi), "%s", val);
		return 0;
	}
	if (strncmp(key, rankp, n) != 0)
		return 0;
	key += n;
	if (strcmp(key, "image") == 0) {
		/* A plain name: the images live next to the manifest. */
		if (!*val || strchr(val, '/') || strlen(val) >= sizeof(m->image))
			return -1;
		snprintf(m->image, sizeof(m->image), "%s", val);
	} else if (strcmp(key, "size") == 0) {
		if (parse_u64(val, 10, &m->size) < 0)
			return -1;
		m->have_size = 1;
	} else if (strcmp(key, "checksum") == 0) {
		if (strncmp(val, "crc32c:", 7) != 0 ||
		    parse_u64(val + 7, 16, &v) < 0 || v > UINT32_MAX)
			return -1;
		m->crc = (uint32_t)v;
		m->have_crc = 1;
	}
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

int ln_manifest_read(const char *dir, int rank, struct ln_manifest *m,
		     char *err, size_t errlen)
{
	char path[4096 + 16], rankp[32], *save = NULL, *last = NULL;

	memset(m, 0, sizeof(*m));
	snprintf(path, sizeof(path), "%s/manifest", dir);
	snprintf(rankp, sizeof(rankp), "rank.%d.", rank);
	char *text = slurp(path, err, errlen);
	if (!text)
		return -1;
	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		last = line;
		if (line[0] == '#')
			continue;
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		if (take(m, rankp, line, eq + 1) < 0) {
			snprintf(err, errlen, "bad value of %s", line);
			free(text);
			return -1;
		}
		*eq = '=';
	}
	m->complete = last && strcmp(last, "status=complete") == 0;
	free(text);
	if (m->nranks == 0 || !m->mpi[0]) {
		snprintf(err, errlen, "no nranks or mpi line: not a dmtcp_mpi "
			 "manifest");
		return -1;
	}
	return 0;
}
