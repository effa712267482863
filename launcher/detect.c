/*
 * detect.c - which MPI started this rank, where the rank stands, and where
 * our own files are.
 *
 * The launching mpirun leaves its mark in the environment (checked here
 * with mpirun.mpich 4.0 and mpirun.openmpi 4.1):
 *   Open MPI (orted):  OMPI_COMM_WORLD_RANK, _SIZE, _LOCAL_RANK, _LOCAL_SIZE
 *   MPICH (Hydra):     PMI_RANK, PMI_SIZE, PMI_FD, MPI_LOCALRANKID,
 *                      MPI_LOCALNRANKS
 * Open MPI also sets PMIX_RANK, so the OMPI_ marker is checked first; a
 * bare PMIX_RANK (srun --mpi=pmix) means Open MPI, a bare PMI_RANK
 * (srun --mpi=pmi2) means MPICH.  Without any mark we are a singleton.
 *
 * Files are found relative to the launcher's own executable, so a build
 * tree and an installed prefix work the same: <prefix>/bin/dmtcp_mpi,
 * <prefix>/libexec/dmtcp_mpi/proxy-<mpi>, <prefix>/lib/.
 */
#include "launcher/launcher.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/exitcode.h"
#include "util/log.h"

/* Variables whose presence names the launching MPI, checked in order. */
static const struct {
	const char *var;
	enum ln_mpi mpi;
} markers[] = {
	{ "OMPI_COMM_WORLD_RANK", LN_MPI_OPENMPI },
	{ "PMI_RANK", LN_MPI_MPICH },
	{ "PMI_FD", LN_MPI_MPICH },
	{ "PMIX_RANK", LN_MPI_OPENMPI },
};

/* The first of the variables (NULL-terminated) that holds a number >= 0,
 * or def.  Unparsable values count as absent. */
static int env_first_int(const char *const *vars, int def)
{
	for (; *vars != NULL; vars++) {
		const char *s = getenv(*vars);
		char *end;
		long v;

		if (s == NULL || *s < '0' || *s > '9')
			continue;
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno == 0 && *end == '\0' && v <= INT_MAX)
			return (int)v;
	}
	return def;
}

void ln_detect(struct ln_where *w)
{
	static const char *const rank_vars[] = {
		"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", NULL };
	static const char *const size_vars[] = {
		"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", NULL };
	static const char *const lrank_vars[] = {
		"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID",
		NULL };
	static const char *const lsize_vars[] = {
		"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", NULL };

	memset(w, 0, sizeof(*w));
	for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++) {
		if (getenv(markers[i].var) != NULL) {
			w->mpi = markers[i].mpi;
			w->marker = markers[i].var;
			break;
		}
	}
	w->rank = env_first_int(rank_vars, 0);
	w->size = env_first_int(size_vars, 1);
	if (w->size < 1)
		w->size = 1;
	/* Not knowing how many ranks share the node, assume all of them do:
	 * that errs towards sharing CPUs, never towards overcommitting. */
	w->local_size = env_first_int(lsize_vars, w->size);
	w->local_rank = env_first_int(lrank_vars, w->rank);
	if (w->local_size < 1)
		w->local_size = 1;
	if (w->local_rank >= w->local_size)
		w->local_rank %= w->local_size;
}

const char *ln_mpi_name(enum ln_mpi mpi)
{
	switch (mpi) {
	case LN_MPI_MPICH:
		return "mpich";
	case LN_MPI_OPENMPI:
		return "openmpi";
	default:
		return "none";
	}
}

const char *ln_prefix(void)
{
	static char prefix[PATH_MAX];
	char exe[PATH_MAX], up[PATH_MAX + 4];

	if (prefix[0] != '\0')
		return prefix;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		dm_die(DM_EXIT_INTERNAL, "cannot find the launcher's directory "
		       "(/proc/self/exe): %s", strerror(errno));
	exe[n] = '\0';
	snprintf(up, sizeof(up), "%s/..", dirname(exe));
	if (realpath(up, prefix) == NULL)
		dm_die(DM_EXIT_INTERNAL, "cannot resolve the install prefix "
		       "(%s): %s", up, strerror(errno));
	return prefix;
}

const char *ln_proxy_path(enum ln_mpi mpi)
{
	static char path[PATH_MAX + 64];
	const char *env = getenv("DMTCP_MPI_PROXY");

	if (env != NULL && *env != '\0')
		return env;
	snprintf(path, sizeof(path), "%s/libexec/dmtcp_mpi/proxy-%s",
		 ln_prefix(), ln_mpi_name(mpi));
	return path;
}

enum ln_mpi ln_singleton_mpi(void)
{
	if (access(ln_proxy_path(LN_MPI_MPICH), X_OK) == 0)
		return LN_MPI_MPICH;
	return LN_MPI_OPENMPI;
}

/* A copy of path if it names an executable regular file, else NULL with
 * errno set as execve would set it. */
static char *executable(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return NULL;
	if (!S_ISREG(st.st_mode)) {
		errno = EACCES;
		return NULL;
	}
	if (access(path, X_OK) < 0)
		return NULL;
	return strdup(path);
}

char *ln_find_program(const char *name)
{
	if (strchr(name, '/') != NULL) {
		char *p = executable(name);
		if (p == NULL)
			dm_err("cannot run program (%s): %s", name,
			       strerror(errno));
		return p;
	}
	const char *path = getenv("PATH");
	if (path == NULL || *path == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	int saved = ENOENT;
	while (*path != '\0') {
		const char *colon = strchr(path, ':');
		size_t len = colon ? (size_t)(colon - path) : strlen(path);
		char cand[PATH_MAX];

		snprintf(cand, sizeof(cand), "%.*s%s%s", (int)len, path,
			 len ? "/" : "", name);
		char *p = executable(cand);
		if (p != NULL)
			return p;
		if (errno != ENOENT && errno != ENOTDIR)
			saved = errno;
		path += len + (colon != NULL);
	}
	dm_err("cannot run program (%s): %s in PATH", name,
	       saved == ENOENT ? "not found" : strerror(saved));
	return NULL;
}
