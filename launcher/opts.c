/*
 * opts.c - the launcher's command line and environment settings.
 *
 * Options come before the program; the first word that is not an option
 * (or the word after "--") is the program.  Each option that the
 * application side needs (checkpoint directory, interval, coordinator) is
 * exported as a DMTCP_MPI_* variable: a value already in the environment is
 * the default, the command line wins.  Every bad value ends the launcher
 * with one line naming the option and how to fix it, exit DM_EXIT_USAGE.
 */
#include "launcher/launcher.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/exitcode.h"
#include "util/log.h"

static const char usage_text[] =
	"usage: mpirun -n N dmtcp_mpi [options] program [args...]\n"
	"       mpirun -n N dmtcp_mpi [options] --restart CKPT_DIR\n"
	"\n"
	"Run one MPI rank checkpointable: start the program and a proxy process\n"
	"linked to the MPI that launched this rank.  With --restart, bring the\n"
	"rank back from a checkpoint instead (dmtcp_mpi_restart CKPT_DIR does\n"
	"this), under whichever MPI launched it.\n"
	"\n"
	"options:\n"
	"  --mpi=mpich|openmpi  proxy to use (default: detected from mpirun)\n"
	"  --no-mpi             run a non-MPI program (checkpoint engine only)\n"
	"  --restart DIR        restart this rank from the checkpoint in DIR\n"
	"  --ckptdir DIR        checkpoint directory   (DMTCP_MPI_CKPTDIR)\n"
	"  --interval N         checkpoint every N s   (DMTCP_MPI_INTERVAL)\n"
	"  --compress LEVEL     zstd level of images, 0: none; default 1\n"
	"                       (DMTCP_MPI_COMPRESS)\n"
	"  --no-compress        the same as --compress 0\n"
	"  --fork-ckpt          a forked copy writes the image; the program\n"
	"                       goes on at once (DMTCP_MPI_FORK_CKPT=1)\n"
	"  --coord-host H       coordinator host       (DMTCP_MPI_COORD_HOST)\n"
	"  --coord-port P       coordinator port       (DMTCP_MPI_COORD_PORT)\n"
	"  --no-bind            leave CPU placement alone (DMTCP_MPI_BIND=none)\n"
	"  -h, --help           this text\n"
	"  --version            print the version\n"
	"\n"
	"See dmtcp_mpi(1) for the environment variables.\n";

/* An option that takes a value and what to do with it. */
struct value_opt {
	const char *name;
	const char *metavar;
	void (*apply)(struct ln_opts *o, const char *name, const char *val);
};

static void usage_die(const char *what, const char *obj, const char *fix)
{
	dm_die(DM_EXIT_USAGE, "%s (%s): %s", what, obj, fix);
}

/* Parse a whole decimal number in [min, max]; -1 if it is not one. */
static int parse_uint(const char *s, unsigned long long min,
		      unsigned long long max, unsigned long long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static void export_var(const char *var, const char *val)
{
	if (setenv(var, val, 1) < 0)
		dm_die(DM_EXIT_INTERNAL, "cannot set %s (%s): %s", var, val,
		       strerror(errno));
}

static void apply_mpi(struct ln_opts *o, const char *name, const char *val)
{
	(void)name;
	if (strcmp(val, "mpich") == 0)
		o->mpi = LN_MPI_MPICH;
	else if (strcmp(val, "openmpi") == 0)
		o->mpi = LN_MPI_OPENMPI;
	else
		dm_die(DM_EXIT_USAGE, "unknown MPI (--mpi=%s): use --mpi=mpich "
		       "or --mpi=openmpi", val);
}

/* Made absolute here so that every rank and a later restart agree on the
 * directory whatever the application does with its cwd. */
static void apply_ckptdir(struct ln_opts *o, const char *name, const char *val)
{
	char cwd[PATH_MAX], abs[2 * PATH_MAX];

	(void)o;
	if (*val == '\0')
		usage_die("empty checkpoint directory", name,
			  "give a directory, e.g. --ckptdir ./ckpt");
	if (*val != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			dm_die(DM_EXIT_USAGE, "cannot resolve %s (%s): current "
			       "directory: %s", name, val, strerror(errno));
		snprintf(abs, sizeof(abs), "%s/%s", cwd, val);
		val = abs;
	}
	export_var("DMTCP_MPI_CKPTDIR", val);
}

static void apply_interval(struct ln_opts *o, const char *name, const char *val)
{
	unsigned long long v;

	(void)o;
	if (parse_uint(val, 0, INT_MAX, &v) < 0)
		dm_die(DM_EXIT_USAGE, "bad checkpoint interval (%s %s): give a "
		       "whole number of seconds, e.g. %s 600 (0: none)", name,
		       val, name);
	export_var("DMTCP_MPI_INTERVAL", val);
}

static void apply_compress(struct ln_opts *o, const char *name, const char *val)
{
	unsigned long long v;

	(void)o;
	if (parse_uint(val, 0, 19, &v) < 0)
		dm_die(DM_EXIT_USAGE, "bad compression level (%s %s): give 0 (none) "
		       "to 19, e.g. %s 1", name, val, name);
	export_var("DMTCP_MPI_COMPRESS", val);
}

static void apply_coord_host(struct ln_opts *o, const char *name,
			     const char *val)
{
	(void)o;
	if (*val == '\0')
		usage_die("empty coordinator host", name,
			  "give a host name or address, e.g. --coord-host node1");
	export_var("DMTCP_MPI_COORD_HOST", val);
}

static void apply_coord_port(struct ln_opts *o, const char *name,
			     const char *val)
{
	unsigned long long v;

	(void)o;
	if (parse_uint(val, 1, 65535, &v) < 0)
		dm_die(DM_EXIT_USAGE, "bad coordinator port (%s %s): give a TCP "
		       "port number 1..65535", name, val);
	export_var("DMTCP_MPI_COORD_PORT", val);
}

static void apply_restart(struct ln_opts *o, const char *name,
			  const char *val)
{
	if (*val == '\0')
		usage_die("empty checkpoint directory", name,
			  "give one, e.g. --restart ckpt/latest");
	o->restart = val;
}

static const struct value_opt value_opts[] = {
	{ "--mpi", "mpich|openmpi", apply_mpi },
	{ "--restart", "DIR", apply_restart },
	{ "--ckptdir", "DIR", apply_ckptdir },
	{ "--interval", "N", apply_interval },
	{ "--compress", "LEVEL", apply_compress },
	{ "--coord-host", "H", apply_coord_host },
	{ "--coord-port", "P", apply_coord_port },
};

/* If arg is "--name" or "--name=value" for a value option, apply it and
 * return how many words it used (1 or 2); 0 if it is not one. */
static int take_value_opt(struct ln_opts *o, int argc, char **argv, int i)
{
	const char *arg = argv[i];

	for (size_t k = 0; k < sizeof(value_opts) / sizeof(value_opts[0]); k++) {
		const struct value_opt *v = &value_opts[k];
		size_t n = strlen(v->name);

		if (strncmp(arg, v->name, n) != 0)
			continue;
		if (arg[n] == '=') {
			v->apply(o, v->name, arg + n + 1);
			return 1;
		}
		if (arg[n] != '\0')
			continue;
		if (i + 1 >= argc)
			dm_die(DM_EXIT_USAGE, "missing value (%s): write %s %s",
			       v->name, v->name, v->metavar);
		v->apply(o, v->name, argv[i + 1]);
		return 2;
	}
	return 0;
}

/* 1 if arg is a flag option (it is then applied); exits for help/version. */
static int take_flag(struct ln_opts *o, const char *arg)
{
	if (strcmp(arg, "--no-mpi") == 0) {
		o->no_mpi = 1;
	} else if (strcmp(arg, "--no-bind") == 0) {
		o->no_bind = 1;
	} else if (strcmp(arg, "--no-compress") == 0) {
		export_var("DMTCP_MPI_COMPRESS", "0");
	} else if (strcmp(arg, "--fork-ckpt") == 0) {
		export_var("DMTCP_MPI_FORK_CKPT", "1");
	} else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
		fputs(usage_text, stdout);
		exit(0);
	} else if (strcmp(arg, "--version") == 0) {
		printf("dmtcp_mpi %s\n", LN_VERSION);
		exit(0);
	} else {
		return 0;
	}
	return 1;
}

/* A whole number from the environment, or def when unset or empty. */
static unsigned long long env_uint(const char *var, unsigned long long def,
				   unsigned long long min,
				   unsigned long long max)
{
	const char *s = getenv(var);
	unsigned long long v;

	if (s == NULL || *s == '\0')
		return def;
	if (parse_uint(s, min, max, &v) < 0)
		dm_die(DM_EXIT_USAGE, "bad environment value (%s=%s): give a "
		       "whole number %llu..%llu", var, s, min, max);
	return v;
}

static void read_env(struct ln_opts *o)
{
	const char *bind = getenv("DMTCP_MPI_BIND");

	if (bind != NULL && strcmp(bind, "none") == 0)
		o->no_bind = 1;
	else if (bind != NULL && *bind != '\0' && strcmp(bind, "auto") != 0)
		dm_die(DM_EXIT_USAGE, "bad environment value (DMTCP_MPI_BIND=%s):"
		       " use auto or none", bind);
	o->verbose = dm_verbose();
	o->kill_timeout = (unsigned)env_uint("DMTCP_MPI_KILL_TIMEOUT",
					     LN_KILL_TIMEOUT_DEFAULT, 0, 86400);
	/* Up to 1 TiB of address space; the arena is sparse. */
	unsigned long long mb = env_uint("DMTCP_MPI_ARENA_MB", 0, 1, 1u << 20);
	o->arena_size = mb ? mb << 20 : CHAN_ARENA_DEFAULT;
}

void ln_parse_opts(struct ln_opts *o, int argc, char **argv)
{
	int i = 1;

	memset(o, 0, sizeof(*o));
	read_env(o);
	while (i < argc) {
		const char *arg = argv[i];
		int used;

		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0')
			break;
		if (take_flag(o, arg)) {
			i++;
			continue;
		}
		used = take_value_opt(o, argc, argv, i);
		if (used == 0)
			dm_die(DM_EXIT_USAGE, "unknown option (%s): see "
			       "dmtcp_mpi --help", arg);
		i += used;
	}
	if (o->restart != NULL) {
		if (i < argc)
			dm_die(DM_EXIT_USAGE, "a program and --restart (%s): "
			       "restart brings back the checkpointed one; give "
			       "only --restart DIR", argv[i]);
		return;
	}
	if (i >= argc)
		dm_die(DM_EXIT_USAGE, "no program to run (command line): name "
		       "it after the options, e.g. mpirun -n 2 dmtcp_mpi ./app");
	o->argv = argv + i;
}
