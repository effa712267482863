/*
 * launcher.h - what the parts of dmtcp_mpi (the per-rank launcher) share.
 *
 * mpirun starts one launcher per rank.  The launcher works out which MPI
 * started it (detect.c), reads its options (opts.c), decides where the
 * application and its proxy run (bind.c), creates the channel and starts
 * both children (spawn.c), then waits for them, forwards signals and turns
 * their deaths into one exit status (reap.c).  In restart mode the
 * application is a checkpointed rank brought back by dmtcp_mpi_restart,
 * after the checks of restart.c on the checkpoint's manifest
 * (manifest.c).  main.c strings these together.  Everything here is
 * private to launcher/.
 */
#ifndef LN_LAUNCHER_H
#define LN_LAUNCHER_H

#include <hwloc.h>
#include <sched.h>
#include <stdint.h>
#include <sys/types.h>

#include "chan/chan.h"

#define LN_VERSION "0.1.0"

/* Seconds a child gets to end by itself before it is killed. */
#define LN_KILL_TIMEOUT_DEFAULT 10u

enum ln_mpi {
	LN_MPI_NONE = 0, /* not detected / not chosen */
	LN_MPI_MPICH,
	LN_MPI_OPENMPI
};

/* The command line, after parsing.  Options that only the application
 * side reads (checkpoint directory, interval, coordinator) are exported
 * to the environment while parsing and not kept here. */
struct ln_opts {
	enum ln_mpi mpi;        /* --mpi=, or LN_MPI_NONE to detect */
	int no_mpi;             /* --no-mpi: run a plain program */
	int no_bind;            /* --no-bind or DMTCP_MPI_BIND=none */
	int verbose;            /* DMTCP_MPI_VERBOSE=1 */
	unsigned kill_timeout;  /* DMTCP_MPI_KILL_TIMEOUT, seconds */
	uint64_t arena_size;    /* DMTCP_MPI_ARENA_MB, bytes */
	const char *restart;    /* --restart DIR: checkpoint to restart */
	char **argv;            /* the program and its arguments (NULL with
				   --restart) */
};

/* Where this rank stands in the job, from what mpirun put in the
 * environment (everything is 0/1 for a singleton). */
struct ln_where {
	enum ln_mpi mpi;      /* the MPI that launched us, or LN_MPI_NONE */
	const char *marker;   /* the variable that told us, for messages */
	int rank;
	int size;             /* ranks in the job */
	int local_rank;
	int local_size;
};

/* Where the two children run.  PU numbers are OS cpu numbers. */
struct ln_bind {
	int app_pu;        /* -1: leave the inherited binding */
	int proxy_pu;      /* -1: leave the inherited binding */
	int same_cpu;      /* app and proxy share one CPU (hdr->same_cpu) */
};

/* One child process of the launcher. */
struct ln_child {
	const char *what;  /* "application" or "proxy", for messages */
	pid_t pid;         /* 0: never started */
	int ended;         /* reaped; status is valid */
	int status;        /* wait status */
};

/* Everything the reaper needs. */
struct ln_run {
	struct ln_child app;
	struct ln_child proxy;   /* pid 0 with --no-mpi */
	struct chan *ch;         /* NULL with --no-mpi */
	enum ln_mpi mpi;         /* the MPI of the job (LN_MPI_NONE: none) */
	int rank;
	int size;                /* ranks in the job */
	unsigned kill_timeout;
	int verbose;
	int sigfd;               /* signalfd for SIGCHLD and forwarded signals */
};

/* opts.c: parse argv; prints one error line and exits on bad input, prints
 * help or version and exits 0 when asked. */
void ln_parse_opts(struct ln_opts *o, int argc, char **argv);

/* detect.c */
void ln_detect(struct ln_where *w);
const char *ln_mpi_name(enum ln_mpi mpi);
/* Install prefix: the parent of the directory holding this executable. */
const char *ln_prefix(void);
/* Proxy binary for mpi, from DMTCP_MPI_PROXY or <prefix>/libexec. */
const char *ln_proxy_path(enum ln_mpi mpi);
/* The MPI to use with no mpirun around: mpich if its proxy exists. */
enum ln_mpi ln_singleton_mpi(void);
/* Resolve a program name like execvp would; NULL with an error printed. */
char *ln_find_program(const char *name);

/* session.c: under Open MPI, make this rank a session of its own, as
 * Hydra does (the scheduler's autogroup share); never fails. */
void ln_own_session(const struct ln_where *w, int verbose);

/* bind.c: decide placement; never fails (no binding on any problem). */
void ln_bind_plan(struct ln_bind *b, const struct ln_where *w, int no_bind,
		  int verbose);
/* The rule itself, on any topology (tests use synthetic ones): binding is
 * the cpuset the launcher runs on.  how gets a few words for messages. */
void ln_bind_choose(hwloc_topology_t topo, hwloc_const_cpuset_t binding,
		    int local_rank, int local_size, struct ln_bind *b,
		    char *how, size_t how_len);

/* spawn.c: start the children; each returns the pid or -1 (error printed).
 * sigmask is the signal mask the children must run with; the channel fd
 * is inherited by both (the app closes every other fd above 2 when chan_fd
 * >= 0).  preload: put the checkpoint engine in the app's LD_PRELOAD (not
 * for dmtcp_mpi_restart, whose restored process has the engine already). */
pid_t ln_spawn_proxy(const char *path, int pu, const sigset_t *sigmask);
pid_t ln_spawn_app(const char *path, char **argv, int chan_fd, int pu,
		   const sigset_t *sigmask, int preload);

/* manifest.c: what a restart needs from <dir>/manifest (written by
 * coordinator/commit.c). */
struct ln_manifest_rank {
	char image[64];           /* rank.R.image: file name in the dir */
	uint64_t size;            /* rank.R.size */
	uint32_t crc;             /* rank.R.checksum (crc32c:...) */
	int have_size, have_crc;
};
struct ln_manifest {
	int nranks;
	char mpi[32];             /* "mpich", "openmpi" or "none" */
	int complete;             /* last line is status=complete */
	struct ln_manifest_rank *rank;  /* nranks entries */
};
/* Read dir/manifest.  0, or -1 with the reason in err. */
int ln_manifest_read(const char *dir, struct ln_manifest *m, char *err,
		     size_t errlen);

/* restart.c: check the checkpoint against this launch and prepare the
 * command that restores this rank (the application in restart mode).
 * Ends the job with one error line on any problem (see restart.c). */
struct ln_restart {
	char dir[4096];           /* the checkpoint, resolved */
	char image[4096 + 256];   /* this rank's image */
	char tool[4096];          /* dmtcp_mpi_restart next to us */
	char *argv[4];            /* tool --no-verify image */
	int plain;                /* the checkpoint has no MPI: no proxy */
	struct ln_manifest_rank own;  /* what the manifest says of image */
};
void ln_restart_prepare(const struct ln_opts *o, const struct ln_where *w,
			struct ln_restart *rs);
/* This rank's image is, byte for byte, the one the checkpoint wrote
 * (CRC-32C of the whole file).  0, or -1 with the error printed.  Run
 * while the new proxy starts MPI: the two are independent. */
int ln_restart_verify(const struct ln_where *w, const struct ln_restart *rs);

/* reap.c */
/* Block the signals the reaper handles and return a signalfd for them;
 * the mask in effect before is stored in old. -1 on error (printed). */
int ln_signals_take(sigset_t *old);
/* Wait for the children; returns the launcher's exit status. */
int ln_reap(struct ln_run *r);

/* endnote.c: write $DMTCP_MPI_END_DIR/end.<rank> holding the app's exit
 * status, if that variable is set: the app finished by itself. */
void ln_note_end(int rank, int status);
/* This rank failed before its proxy joined the MPI job (the error is
 * printed): exit with code, or, where the other ranks would wait for us
 * in MPI_Init for ever, make mpirun end the whole job.  size: ranks in
 * the job. */
_Noreturn void ln_end_job(enum ln_mpi mpi, int size, int code);

#endif
