/*
 * coord.h - the coordinator daemon's private interfaces: its state, the
 * connection table (conn.c), the checkpoint phases (phase.c), making a
 * checkpoint durable (commit.c), commands (cmd.c) and the secret
 * (secret.c).  main.c owns the one struct coord and the poll() loop.
 *
 * Single-threaded: every function here runs in the poll loop and must not
 * block on a peer.  Failures are reported to the caller through an err
 * buffer, and logged once by whoever decides what they mean.
 */
#ifndef COORD_COORD_H
#define COORD_COORD_H

#include "coordinator/proto.h"

#include <limits.h>
#include <stddef.h>
#include <time.h>

/* Room for a failure reason: it may name two paths. */
#define COORD_WHY_MAX (2 * PATH_MAX + 256)

/* A growable byte buffer: unparsed input or unsent output. */
struct coord_buf {
	char *data;
	size_t len;
	size_t cap;
};

/* What a command connection waits for before it gets its reply. */
enum coord_wait {
	COORD_WAIT_NONE = 0,
	COORD_WAIT_CKPT,             /* the checkpoint in progress to end */
	COORD_WAIT_CKPT_EXIT,        /* ... and then, if it succeeded, ... */
	COORD_WAIT_EXIT,             /* ... every client to leave */
	COORD_WAIT_KILL              /* every client to leave */
};

struct coord_conn {
	int fd;
	int role;                    /* enum coord_role; 0 before HELLO */
	char peer[80];               /* "addr:port", for log lines */
	double hello_deadline;       /* monotonic; see coord_conn_owes() */
	struct coord_buf in;         /* bytes read, not yet a whole message */
	struct coord_buf out;        /* bytes queued for the peer */
	int closing;                 /* close once out is flushed */
	int broken;                  /* a send failed: drop at the turn's end */
	int dead;                    /* closed; freed at the turn's end */
	/* engine clients */
	int registered;              /* REGISTER received */
	struct coord_register reg;
	unsigned part_gen;           /* checkpoint it takes part in, 0: none */
	/* commands */
	enum coord_wait wait;
};

/* One participant of the checkpoint in progress, kept by rank.  The
 * registration is copied: the manifest needs it even if the client
 * leaves after it answered. */
struct coord_part {
	struct coord_conn *conn;     /* NULL once it left */
	struct coord_register reg;
	int answered;                /* PHASE_DONE for the current phase */
	struct coord_phase_done done;/* the WRITE answer: its image */
	int64_t sent, recvd;         /* its last DRAIN answer */
};

/* The checkpoint in progress (phase != IDLE). */
struct coord_ckpt {
	enum coord_phase phase;
	unsigned gen;                /* checkpoint number, from 1 */
	char tmp[PATH_MAX];          /* <ckptdir>/ckpt_<gen>_<time>.tmp */
	char final[PATH_MAX];        /* the same without .tmp */
	time_t started;              /* wall clock, for names and manifest */
	double t0;                   /* monotonic start, for the log */
	double deadline;             /* monotonic end of the current phase */
	int nparts;                  /* participants (== nranks) */
	int nanswered;
	struct coord_part *parts;    /* indexed by rank */
	struct coord_pair *pairs;    /* INTENT answers; then the targets */
	size_t npairs, cap_pairs;
	unsigned round;              /* DRAIN round, from 1; TARGETS
					round, from 0 */
	int raise;                   /* TARGETS: a rank asked for higher
					targets (its pairs are in pairs) */
	int64_t sent, recvd;         /* DRAIN: sums of the current round */
	int64_t prev_sent, prev_recvd; /* ... and of the previous one */
	unsigned idle_rounds;        /* DRAIN rounds in a row that found
					nothing new */
	double next_round;           /* monotonic start of the next DRAIN
					round; 0: none pending */
	int exit_after;              /* --checkpoint-and-exit: end the job
					once the checkpoint is complete */
	char why[COORD_WHY_MAX];     /* first failure, "" while fine */
};

struct coord {
	/* options */
	char host[256];
	int port;                    /* the bound port once listening */
	char ckptdir[PATH_MAX];      /* absolute */
	int interval;                /* seconds between checkpoints, 0 off */
	int timeout;                 /* seconds per phase */
	int exit_on_last;
	char bindir[PATH_MAX];       /* our own directory (for restart.sh) */
	/* runtime */
	int listen_fd;
	uint8_t secret[COORD_SECRET_LEN];
	char secret_path[PATH_MAX];
	char lock_path[PATH_MAX];    /* held for our life (secret.c) */
	char log_path[PATH_MAX];     /* --daemon log, "" otherwise */
	struct coord_conn **conns;
	int nconns;
	size_t cap_conns;
	int nclients;                /* registered engine clients */
	int had_client;              /* a client registered at some point */
	double start;                /* monotonic */
	double next_ckpt;            /* monotonic; 0: no interval */
	double kill_deadline;        /* monotonic; 0: no --kill pending */
	struct coord_ckpt ck;
	unsigned last_gen;           /* last checkpoint number handed out */
	char last_path[PATH_MAX];    /* last complete checkpoint, "" none */
	time_t last_time;
	unsigned last_failed_gen;    /* last checkpoint that failed, 0 none */
	char last_failure[COORD_WHY_MAX]; /* ... and why */
};

double coord_now(void);          /* monotonic seconds */

/* conn.c */
void coord_conn_accept(struct coord *c);
void coord_conn_readable(struct coord *c, struct coord_conn *k);
void coord_conn_writable(struct coord_conn *k);
void coord_conn_send(struct coord_conn *k, enum coord_msg type,
		     const void *body, size_t len);
void coord_conn_drop(struct coord *c, struct coord_conn *k);
void coord_conn_reap(struct coord *c);
int coord_conn_owes(const struct coord_conn *k);
void coord_conn_check_hello(struct coord *c, double now);
const char *coord_client_name(const struct coord_conn *k, char *buf,
			      size_t len);

/* phase.c */
const char *coord_phase_name(enum coord_phase p);
/* Start a checkpoint, or join the one in progress.  cmd (may be NULL)
 * gets the reply; with exit_after the job is ended once it succeeded. */
void coord_ckpt_request(struct coord *c, struct coord_conn *cmd,
			int exit_after);
/* A PHASE_DONE from k with its npairs pairs (already bounds-checked). */
void coord_ckpt_answer(struct coord *c, struct coord_conn *k,
		       const struct coord_phase_done *d,
		       const struct coord_pair *pairs);
void coord_ckpt_client_left(struct coord *c, struct coord_conn *k);
void coord_ckpt_tick(struct coord *c, double now);

/* commit.c */
int coord_commit(struct coord *c, char *err, size_t errlen);
void coord_discard(const char *dir);
unsigned coord_next_gen(const char *ckptdir, unsigned last);

/* cmd.c */
void coord_cmd(struct coord *c, struct coord_conn *k,
	       const struct coord_cmd *cmd);
void coord_cmd_reply(struct coord_conn *k, int code, const char *text);
/* Send KILL to every client (once) and start the --timeout + grace
 * clock; coord_cmd_kill_tick() answers the commands that wait for it. */
void coord_kill_start(struct coord *c);
void coord_cmd_kill_tick(struct coord *c, double now);

/* secret.c */
int coord_secret_setup(struct coord *c, char *err, size_t errlen);
void coord_secret_remove(struct coord *c);

#endif
