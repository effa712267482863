/*
 * command.c - dmtcp_mpi_command: ask a running coordinator to checkpoint
 * (and possibly end the job then), report its status, kill the job or
 * change the checkpoint interval.
 *
 * One connection, one request, one reply (coordinator/cmd.c).  The
 * coordinator bounds every wait by its --timeout, so blocking here until
 * the reply comes is safe.  Exit status: 0, or the enum dm_exit code the
 * coordinator chose (DM_EXIT_CKPT for a failed checkpoint), or
 * DM_EXIT_COORD when there is no coordinator to talk to.
 */
#include "coordinator/proto.h"
#include "util/exitcode.h"
#include "util/log.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
"usage: dmtcp_mpi_command [--coord-host H] [--coord-port P] COMMAND\n"
"  --checkpoint    checkpoint every rank; print the directory when done\n"
"  --checkpoint-and-exit\n"
"                  checkpoint, then end the job if the checkpoint is\n"
"                  complete; print the directory once every rank exited\n"
"  --status        list ranks, their state and the last checkpoint\n"
"  --kill          end every process of the job\n"
"  --interval N    checkpoint every N seconds (0: only on request)\n"
"The coordinator defaults to $DMTCP_MPI_COORD_HOST:$DMTCP_MPI_COORD_PORT,\n"
"else %s:%d.\n", COORD_DEFAULT_HOST, COORD_DEFAULT_PORT);
}

static int parse_int(const char *s, int min, int max)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < min || v > max)
		dm_die(DM_EXIT_USAGE, "bad number (%s)", s);
	return (int)v;
}

struct request {
	const char *host;
	int port;
	struct coord_cmd cmd;
};

static void parse_options(int argc, char **argv, struct request *rq)
{
	static const struct option longopts[] = {
		{ "coord-host", required_argument, NULL, 'h' },
		{ "coord-port", required_argument, NULL, 'p' },
		{ "checkpoint", no_argument, NULL, 'c' },
		{ "checkpoint-and-exit", no_argument, NULL, 'e' },
		{ "status", no_argument, NULL, 's' },
		{ "kill", no_argument, NULL, 'k' },
		{ "interval", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 }
	};
	const char *env_port = getenv("DMTCP_MPI_COORD_PORT");
	int opt;

	rq->host = getenv("DMTCP_MPI_COORD_HOST");
	if (!rq->host || !*rq->host)
		rq->host = COORD_DEFAULT_HOST;
	rq->port = env_port && *env_port ? parse_int(env_port, 1, 65535)
					 : COORD_DEFAULT_PORT;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		uint32_t op = 0;
		switch (opt) {
		case 'h': rq->host = optarg; continue;
		case 'p': rq->port = parse_int(optarg, 1, 65535); continue;
		case 'c': op = COORD_CMD_CHECKPOINT; break;
		case 'e': op = COORD_CMD_CHECKPOINT_EXIT; break;
		case 's': op = COORD_CMD_STATUS; break;
		case 'k': op = COORD_CMD_KILL; break;
		case 'i':
			op = COORD_CMD_INTERVAL;
			rq->cmd.arg = parse_int(optarg, 0, 1 << 30);
			break;
		case 'H': usage(stdout); exit(DM_EXIT_OK);
		default: usage(stderr); exit(DM_EXIT_USAGE);
		}
		if (rq->cmd.op)
			dm_die(DM_EXIT_USAGE, "give one command at a time");
		rq->cmd.op = op;
	}
	if (optind < argc || rq->cmd.op == 0) {
		usage(stderr);
		exit(DM_EXIT_USAGE);
	}
}

/* Connect and authenticate; exits with DM_EXIT_COORD on any failure. */
static int open_coordinator(const struct request *rq)
{
	uint8_t secret[COORD_SECRET_LEN];
	char err[COORD_PATH_MAX + 128];

	int fd = coord_connect(rq->host, rq->port, 5000);
	if (fd < 0 && (errno == ECONNREFUSED || errno == ETIMEDOUT))
		dm_die(DM_EXIT_COORD, "no coordinator at %s:%d: start a job "
		       "with dmtcp_mpi or pass --coord-port", rq->host,
		       rq->port);
	if (fd < 0)
		dm_die(DM_EXIT_COORD, "cannot connect to the coordinator "
		       "(%s:%d): %s", rq->host, rq->port, strerror(errno));
	if (coord_secret_load(secret, rq->host, rq->port, err,
			      sizeof(err)) < 0)
		dm_die(DM_EXIT_COORD, "no secret for the coordinator (%s:%d): "
		       "%s", rq->host, rq->port, err);
	if (coord_hello(fd, secret, COORD_ROLE_COMMAND, err, sizeof(err)) < 0)
		dm_die(DM_EXIT_COORD, "the coordinator did not accept us "
		       "(%s:%d): %s", rq->host, rq->port, err);
	return fd;
}

int main(int argc, char **argv)
{
	struct request rq = { 0 };
	struct coord_hdr h;
	struct coord_cmd_reply r;

	parse_options(argc, argv, &rq);
	int fd = open_coordinator(&rq);
	if (coord_send(fd, COORD_MSG_CMD, &rq.cmd, sizeof(rq.cmd)) < 0)
		dm_die(DM_EXIT_COORD, "cannot send to the coordinator (%s:%d): "
		       "%s", rq.host, rq.port, strerror(errno));
	char *body = malloc(COORD_MAX_BODY + 1);
	if (!body)
		dm_die(DM_EXIT_INTERNAL, "out of memory");
	long n = coord_recv(fd, &h, body, COORD_MAX_BODY);
	if (n < 0)
		dm_die(DM_EXIT_COORD, "no answer from the coordinator (%s:%d): "
		       "%s", rq.host, rq.port, errno ? strerror(errno) :
		       "connection closed");
	if (h.type != COORD_MSG_CMD_REPLY || (size_t)n < sizeof(r))
		dm_die(DM_EXIT_COORD, "bad answer from the coordinator (%s:%d)",
		       rq.host, rq.port);
	close(fd);
	memcpy(&r, body, sizeof(r));
	body[n] = '\0';
	const char *text = body + sizeof(r);
	size_t len = strlen(text);
	if (r.code != DM_EXIT_OK)
		dm_die(r.code, "%s", text);
	printf("%s%s", text, len && text[len - 1] == '\n' ? "" : "\n");
	free(body);
	return DM_EXIT_OK;
}
