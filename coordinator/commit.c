/*
 * commit.c - turning a directory of complete rank images into a
 * checkpoint that restart can trust (phase COMMIT), or throwing away a
 * failed one.
 *
 * Order matters, because a crash may stop us between any two steps:
 *   1. manifest and restart.sh are written and fsynced inside ckpt_N.tmp
 *      (the manifest's last line is status=complete: a cut-off manifest
 *      is recognisable);
 *   2. the directory itself is fsynced and renamed to ckpt_N_<time>;
 *   3. a new symlink is made under a private name and renamed over
 *      `latest`, so `latest` always names a whole checkpoint, old or new.
 * Anything still called *.tmp after a crash is an unfinished checkpoint.
 */
#include "coordinator/coord.h"
#include "util/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MANIFEST_FORMAT 1

static int fsync_path(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0) {
		snprintf(err, errlen, "cannot fsync %s: %s", path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Write path (mode) with what fill() prints, then fsync it. */
static int write_file(const char *path, mode_t mode,
		      void (*fill)(FILE *, const struct coord *),
		      const struct coord *c, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");

	if (!f) {
		snprintf(err, errlen, "cannot create %s: %s", path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fill(f, c);
	int bad = ferror(f) || fflush(f) != 0 || fsync(fd) < 0;
	int saved = errno;
	if (fclose(f) != 0 && !bad) {
		bad = 1;
		saved = errno;
	}
	if (bad) {
		snprintf(err, errlen, "cannot write %s: %s", path,
			 strerror(saved));
		return -1;
	}
	return 0;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static void fill_manifest(FILE *f, const struct coord *c)
{
	const struct coord_ckpt *ck = &c->ck;
	char when[64];
	struct tm tm;

	gmtime_r(&ck->started, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(f, "# dmtcp_mpi checkpoint manifest (key=value; rank.R.* per "
		"rank; status=complete is the last line)\n");
	fprintf(f, "format=%d\n", MANIFEST_FORMAT);
	fprintf(f, "checkpoint=%u\n", ck->gen);
	fprintf(f, "time=%s\n", when);
	fprintf(f, "time_unix=%lld\n", (long long)ck->started);
	fprintf(f, "nranks=%d\n", ck->nparts);
	fprintf(f, "mpi=%s\n", ck->parts[0].reg.mpi);
	fprintf(f, "program=%s\n", ck->parts[0].reg.program);
	for (int r = 0; r < ck->nparts; r++) {
		const struct coord_part *p = &ck->parts[r];
		fprintf(f, "rank.%d.image=%s\n", r, base_name(p->done.path));
		fprintf(f, "rank.%d.size=%llu\n", r,
			(unsigned long long)p->done.size);
		fprintf(f, "rank.%d.checksum=crc32c:%08x\n", r, p->done.crc);
		fprintf(f, "rank.%d.host=%s\n", r, p->reg.host);
		fprintf(f, "rank.%d.pid=%d\n", r, p->reg.pid);
	}
	fprintf(f, "status=complete\n");
}

/* Print s in single quotes, safe for sh whatever it holds. */
static void sh_quote(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

static void fill_restart(FILE *f, const struct coord *c)
{
	const struct coord_ckpt *ck = &c->ck;
	const char *mpi = ck->parts[0].reg.mpi;
	char restart[PATH_MAX + 32];

	snprintf(restart, sizeof(restart), "%s/dmtcp_mpi_restart", c->bindir);
	fprintf(f, "#!/bin/sh\n"
		"# Restart checkpoint %u of %s (%d rank%s, MPI: %s).\n"
		"# Written by dmtcp_mpi_coordinator.  The images are found next "
		"to this\n# script, so it works through `latest` or after the "
		"directory is moved.\n", ck->gen, ck->parts[0].reg.program,
		ck->nparts, ck->nparts == 1 ? "" : "s", mpi);
	fprintf(f, "dir=$(cd \"$(dirname \"$0\")\" && pwd -P) || exit 1\n");
	if (ck->nparts == 1 && strcmp(mpi, "none") == 0) {
		fprintf(f, "exec ");
		sh_quote(f, restart);
		fprintf(f, " \"$dir\"/");
		sh_quote(f, base_name(ck->parts[0].done.path));
		fprintf(f, "\n");
		return;
	}
	/* Each new rank picks its image by its rank; DMTCP_MPI_MPIRUN
	 * (split into words) restarts under another launcher or MPI. */
	const char *mpirun = strcmp(mpi, "mpich") == 0 ? "mpirun.mpich" :
			     strcmp(mpi, "openmpi") == 0 ? "mpirun.openmpi" :
			     "mpirun";
	fprintf(f, "exec ${DMTCP_MPI_MPIRUN:-%s} -n %d ", mpirun, ck->nparts);
	sh_quote(f, restart);
	fprintf(f, " \"$dir\"\n");
}

/* Point <ckptdir>/latest at the final directory, atomically. */
static int move_latest(const struct coord *c, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 64], latest[PATH_MAX + 16];

	snprintf(tmp, sizeof(tmp), "%s/.latest.%d", c->ckptdir, (int)getpid());
	snprintf(latest, sizeof(latest), "%s/latest", c->ckptdir);
	unlink(tmp);
	if (symlink(base_name(c->ck.final), tmp) < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp,
			 strerror(errno));
		return -1;
	}
	if (rename(tmp, latest) < 0) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, latest,
			 strerror(errno));
		unlink(tmp);
		return -1;
	}
	return fsync_path(c->ckptdir, err, errlen);
}

int coord_commit(struct coord *c, char *err, size_t errlen)
{
	const struct coord_ckpt *ck = &c->ck;
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/manifest", ck->tmp);
	if (write_file(path, 0644, fill_manifest, c, err, errlen) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/restart.sh", ck->tmp);
	if (write_file(path, 0755, fill_restart, c, err, errlen) < 0)
		return -1;
	if (fsync_path(ck->tmp, err, errlen) < 0)
		return -1;
	if (rename(ck->tmp, ck->final) < 0) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", ck->tmp,
			 ck->final, strerror(errno));
		return -1;
	}
	if (fsync_path(c->ckptdir, err, errlen) < 0)
		return -1;
	return move_latest(c, err, errlen);
}

void coord_discard(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d && errno == ENOENT)
		return;
	while (d && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	}
	if (d)
		closedir(d);
	if (!d || rmdir(dir) < 0)
		dm_warn("cannot remove failed checkpoint %s: %s", dir,
			strerror(errno));
}

unsigned coord_next_gen(const char *ckptdir, unsigned last)
{
	DIR *d = opendir(ckptdir);
	struct dirent *e;
	unsigned max = last, n;

	/* Continue the numbering of checkpoints already there, e.g. of the
	 * run this job was restarted from. */
	while (d && (e = readdir(d)) != NULL) {
		if (sscanf(e->d_name, "ckpt_%u_", &n) == 1 && n > max)
			max = n;
	}
	if (d)
		closedir(d);
	return max + 1;
}
