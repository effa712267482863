/*
 * proto.h - the coordinator's wire protocol, shared by the coordinator
 * (coordinator/), the engine's client thread (ckpt/client.c) and
 * dmtcp_mpi_command (coordinator/command.c).
 *
 * Transport: one TCP connection per peer.  Every message is a struct
 * coord_hdr followed by hdr.len bytes of body; bodies are the fixed
 * structs below (host byte order: coordinator and ranks run on machines
 * of one architecture; a peer of another byte order fails the magic
 * check).  Strings in bodies are NUL-terminated inside their arrays.
 *
 * Conversation:
 *   peer -> HELLO(secret, role)        first message, within --timeout
 *   coord -> WELCOME                   or REFUSED(reason) and close
 *   engine client:  -> REGISTER, then serves PHASE / KILL until the end
 *                      (each PHASE but RESUME answered by one PHASE_DONE)
 *   command:        -> CMD, <- CMD_REPLY, close
 *
 * The helpers at the end (coordinator/wire.c) are the blocking I/O both
 * simple peers use; the coordinator itself does non-blocking I/O.
 */
#ifndef COORD_PROTO_H
#define COORD_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define COORD_MAGIC        0x50434d44u   /* "DMCP" in memory order */
#define COORD_VERSION      2
#define COORD_DEFAULT_HOST "127.0.0.1"
#define COORD_DEFAULT_PORT 7779
#define COORD_SECRET_LEN   16            /* bytes; 32 hex digits in files */
#define COORD_PATH_MAX     4096
#define COORD_KILL_GRACE_S 3             /* SIGTERM ... SIGKILL */
#define COORD_MAX_BODY     (4u << 20)    /* largest body (status text) */

struct coord_hdr {
	uint32_t magic;      /* COORD_MAGIC */
	uint16_t version;    /* COORD_VERSION */
	uint16_t type;       /* enum coord_msg */
	uint32_t len;        /* body bytes that follow */
};

enum coord_msg {
	COORD_MSG_HELLO = 1, /* peer -> coord: struct coord_hello */
	COORD_MSG_WELCOME,   /* coord -> peer: struct coord_welcome */
	COORD_MSG_REFUSED,   /* coord -> peer: struct coord_refused, then close */
	COORD_MSG_REGISTER,  /* client -> coord: struct coord_register */
	COORD_MSG_PHASE,     /* coord -> client: struct coord_phase_msg */
	COORD_MSG_PHASE_DONE,/* client -> coord: struct coord_phase_done */
	COORD_MSG_KILL,      /* coord -> client: no body; end the process */
	COORD_MSG_CMD,       /* command -> coord: struct coord_cmd */
	COORD_MSG_CMD_REPLY  /* coord -> command: struct coord_cmd_reply + text */
};

enum coord_role {
	COORD_ROLE_CLIENT = 1, /* the engine's client thread in a rank */
	COORD_ROLE_COMMAND     /* dmtcp_mpi_command */
};

/*
 * Phases of one checkpoint, in order.  Every phase the clients take part
 * in is a barrier: the coordinator sends PHASE(phase, gen) to every
 * participant and waits for a PHASE_DONE from each; a failure, a client
 * that leaves, or --timeout seconds without every answer fails the
 * checkpoint, which then goes straight to RESUME.  INTENT .. DRAIN are
 * the MPI phases: a client without MPI answers them at once (no pairs,
 * zero counts), so one protocol serves every process.
 */
enum coord_phase {
	/* No checkpoint.  Entered at start and after RESUME has been sent.
	 * Holds: no temporary checkpoint directory of ours exists; clients
	 * run freely. */
	COORD_PHASE_IDLE = 0,
	/* Started by the coordinator (a command or the interval timer) once
	 * every rank 0..nranks-1 is registered exactly once and
	 * <ckptdir>/ckpt_<gen>_<time>.tmp/ exists.  Each client answers
	 * with its collective sequence numbers: one (gid, seq) pair per live
	 * communicator.  Holds on success: the coordinator knows every
	 * rank's position in every communicator's collectives. */
	COORD_PHASE_INTENT,
	/* Body: the per-gid maximum over every INTENT answer (pairs with a
	 * negative gid are local to a rank and never merged).  Each client
	 * lets its application run until every communicator reached its
	 * target, then answers.  Holds on success: no rank is inside a
	 * collective that another member has not entered. */
	COORD_PHASE_TARGETS,
	/* Each client stops its application at MPI entry and gets every
	 * call out of its proxy.  Holds on success: every rank is quiescent;
	 * only messages in flight remain. */
	COORD_PHASE_PARK,
	/* Repeated in rounds (msg.round = 1, 2, ...): each client receives
	 * what has arrived into application memory and answers with its
	 * totals of messages sent and received.  Ends when the sums over all
	 * ranks are equal; the whole phase, all rounds, is bounded by
	 * --timeout.  Holds on success: nothing is in flight. */
	COORD_PHASE_DRAIN,
	/* Each client calls ck_checkpoint() into the temporary directory and
	 * answers with the image's path, size and checksum, or a reason.
	 * Holds on success: every image is complete and fsynced. */
	COORD_PHASE_WRITE,
	/* The coordinator alone: manifest and restart.sh are written and
	 * fsynced, the directory renamed to its final name, `latest` moved.
	 * Holds on success: `latest` names a complete checkpoint.  On failure
	 * the temporary directory is removed and `latest` is untouched. */
	COORD_PHASE_COMMIT,
	/* Started by the coordinator after COMMIT or after any failure: each
	 * participant is sent PHASE(RESUME, ok) and no answer is expected;
	 * waiting commands get their reply.  Holds: every participant has
	 * been told the outcome (a parked rank goes on).  After a successful
	 * --checkpoint-and-exit, participants are sent KILL instead. */
	COORD_PHASE_RESUME
};

/* A communicator's global id and a collective sequence number (INTENT
 * answers, TARGETS bodies).  Same layout as the int64_t pairs of struct
 * ck_mpi_ops (ckpt/client.h). */
struct coord_pair {
	int64_t gid;
	int64_t seq;
};
#define COORD_MAX_PAIRS 16384        /* per message */

struct coord_hello {
	uint8_t secret[COORD_SECRET_LEN];
	uint32_t role;               /* enum coord_role */
};

struct coord_welcome {
	int32_t coord_pid;
};

struct coord_refused {
	char reason[128];
};

struct coord_register {
	int32_t pid;
	int32_t rank;                /* DMTCP_MPI_RANK, else 0 */
	int32_t nranks;              /* DMTCP_MPI_NRANKS, else 1 */
	int32_t restarts;            /* times this process was restarted */
	char host[256];
	char program[256];
	char mpi[32];                /* DMTCP_MPI_MPI, else "none" */
};

/* Followed by npairs struct coord_pair (TARGETS). */
struct coord_phase_msg {
	uint32_t phase;              /* enum coord_phase */
	uint32_t gen;                /* checkpoint number */
	int32_t ok;                  /* RESUME: 1 if the checkpoint is complete */
	uint32_t round;              /* DRAIN: round number, from 1 */
	uint32_t timeout_ms;         /* time left for this phase */
	uint32_t npairs;             /* TARGETS: pairs that follow */
	uint32_t hold;               /* WRITE: 1 if the job ends once the
					checkpoint succeeds: keep every thread
					stopped after writing, until RESUME or
					KILL */
	char dir[COORD_PATH_MAX];    /* WRITE: directory to write the image in */
};

/* Followed by npairs struct coord_pair (INTENT). */
struct coord_phase_done {
	uint32_t phase;              /* the phase this answers */
	uint32_t gen;                /* ... of this checkpoint */
	int32_t ok;                  /* 1 done, 0 failed (see reason) */
	uint32_t crc;                /* WRITE: CRC-32C of the whole image file */
	uint64_t size;               /* WRITE: image size in bytes */
	int64_t sent;                /* DRAIN: messages this rank sent ... */
	int64_t recvd;               /* ... and received (totals) */
	uint32_t round;              /* DRAIN: the round this answers */
	uint32_t npairs;             /* INTENT: pairs that follow */
	char path[COORD_PATH_MAX];   /* WRITE: the image's path */
	char reason[256];
};

enum coord_cmd_op {
	COORD_CMD_CHECKPOINT = 1,    /* reply when the checkpoint ends */
	COORD_CMD_STATUS,
	COORD_CMD_KILL,              /* reply when every client has left */
	COORD_CMD_INTERVAL,          /* arg: seconds, 0 = off */
	COORD_CMD_CHECKPOINT_EXIT    /* checkpoint; on success end the job and
					reply when every client has left */
};

struct coord_cmd {
	uint32_t op;                 /* enum coord_cmd_op */
	int32_t arg;
};

struct coord_cmd_reply {
	int32_t code;                /* enum dm_exit: 0, or why it failed */
	/* followed by text: a result, or an error message without prefix */
};

/* ---- blocking helpers for the client and the command (wire.c) ---- */

/* Resolve $DMTCP_MPI_TMPDIR (default /tmp/dmtcp_mpi-<uid>), create it
 * mode 0700 if missing and refuse one that others can write or that is
 * not ours.  0, or -1 with the reason in err. */
int coord_tmpdir(char *out, size_t len, char *err, size_t errlen);

/* <tmpdir>/coord-<host>-<port>.secret into out.  0 or -1 (err). */
int coord_secret_path(char *out, size_t len, const char *host, int port,
		      char *err, size_t errlen);

/* The secret for host:port: from $DMTCP_MPI_SECRET (32 hex digits) if
 * set, else from the secret file.  0 or -1 (err). */
int coord_secret_load(uint8_t out[COORD_SECRET_LEN], const char *host,
		      int port, char *err, size_t errlen);

/* Parse 32 hex digits (trailing newline allowed).  0 or -1. */
int coord_secret_parse(uint8_t out[COORD_SECRET_LEN], const char *hex);

/* TCP connect to host:port, giving up after timeout_ms.  A connected fd
 * (close-on-exec), or -1 with errno set (ECONNREFUSED: nobody there). */
int coord_connect(const char *host, int port, int timeout_ms);

/* Send one message.  0, or -1 with errno set. */
int coord_send(int fd, enum coord_msg type, const void *body, uint32_t len);

/* Turn Nagle's algorithm off on a protocol socket: the messages are small
 * requests and answers, each of which a peer waits for. */
void coord_nodelay(int fd);

/* Receive one message: header into *h, body (at most max bytes; a
 * longer one is an error) into body.  The body length, or -1 with errno
 * set (0 errno on a clean EOF, EPROTO on a malformed message). */
long coord_recv(int fd, struct coord_hdr *h, void *body, uint32_t max);

/* HELLO with the secret and role; wait for WELCOME.  0, or -1 with the
 * reason in err (refused, closed, I/O error). */
int coord_hello(int fd, const uint8_t secret[COORD_SECRET_LEN],
		enum coord_role role, char *err, size_t errlen);

#endif
