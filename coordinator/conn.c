/*
 * conn.c - the coordinator's connection table: accepting peers, checking
 * their secret, framing messages in and out of non-blocking sockets, and
 * handing each message to the module that owns its meaning (registration
 * here, PHASE_DONE to phase.c, CMD to cmd.c).
 *
 * Output is queued per connection and flushed when the socket is
 * writable, so a client that is busy writing its image never blocks the
 * coordinator.  A connection that fails is not removed on the spot (the
 * caller may be iterating over the table, or in the middle of a phase):
 * it is marked and coord_conn_reap() drops it at the end of the loop turn.
 */
#include "coordinator/coord.h"
#include "util/grow.h"
#include "util/log.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The largest body a peer may send us (PHASE_DONE with the most pairs);
 * anything bigger is a protocol error, which also bounds what an
 * unauthenticated peer costs. */
#define COORD_MAX_IN (sizeof(struct coord_phase_done) + \
		      COORD_MAX_PAIRS * sizeof(struct coord_pair))

static int buf_append(struct coord_buf *b, const void *p, size_t n)
{
	if (dm_grow((void **)&b->data, &b->cap, b->len + n, 1) < 0)
		return -1;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static void buf_consume(struct coord_buf *b, size_t n)
{
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

const char *coord_client_name(const struct coord_conn *k, char *buf,
			      size_t len)
{
	snprintf(buf, len, "rank %d pid %d on %s", k->reg.rank, k->reg.pid,
		 k->reg.host);
	return buf;
}

void coord_conn_accept(struct coord *c)
{
	struct sockaddr_storage sa;
	socklen_t sl = sizeof(sa);
	char addr[64], port[16];

	int fd = accept4(c->listen_fd, (struct sockaddr *)&sa, &sl,
			 SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			dm_warn("accept (port %d): %s", c->port, strerror(errno));
		return;
	}
	struct coord_conn *k = calloc(1, sizeof(*k));
	if (!k || dm_grow((void **)&c->conns, &c->cap_conns,
			  (size_t)c->nconns + 1, sizeof(*c->conns)) < 0) {
		dm_err("cannot accept a connection (port %d): out of memory",
		       c->port);
		free(k);
		close(fd);
		return;
	}
	coord_nodelay(fd);
	k->fd = fd;
	k->hello_deadline = coord_now() + c->timeout;
	if (getnameinfo((struct sockaddr *)&sa, sl, addr, sizeof(addr), port,
			sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(addr, sizeof(addr), "?");
	snprintf(k->peer, sizeof(k->peer), "%s:%s", addr, port);
	c->conns[c->nconns++] = k;
}

/* Try to send what is queued; a hard error marks the connection broken. */
static void flush(struct coord_conn *k)
{
	while (k->out.len > 0 && !k->broken) {
		ssize_t n = send(k->fd, k->out.data, k->out.len,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			k->broken = 1;
			return;
		}
		buf_consume(&k->out, (size_t)n);
	}
}

void coord_conn_writable(struct coord_conn *k)
{
	flush(k);
}

void coord_conn_send(struct coord_conn *k, enum coord_msg type,
		     const void *body, size_t len)
{
	struct coord_hdr h = { .magic = COORD_MAGIC, .version = COORD_VERSION,
			       .type = (uint16_t)type, .len = (uint32_t)len };

	if (k->dead || k->broken)
		return;
	if (buf_append(&k->out, &h, sizeof(h)) < 0 ||
	    buf_append(&k->out, body, len) < 0) {
		dm_err("cannot queue a message (%s): out of memory", k->peer);
		k->broken = 1;
		return;
	}
	flush(k);
}

/* Tell an unauthenticated peer why, best effort, and drop it. */
static void refuse(struct coord *c, struct coord_conn *k, const char *why)
{
	struct coord_refused r;

	dm_warn("refused connection from %s: %s", k->peer, why);
	memset(&r, 0, sizeof(r));
	snprintf(r.reason, sizeof(r.reason), "%s", why);
	coord_conn_send(k, COORD_MSG_REFUSED, &r, sizeof(r));
	coord_conn_drop(c, k);
}

/* Compare in constant time, so the answer's timing says nothing about
 * how many leading bytes of a guess were right. */
static int secret_equal(const uint8_t *a, const uint8_t *b)
{
	uint8_t d = 0;

	for (int i = 0; i < COORD_SECRET_LEN; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

static void on_hello(struct coord *c, struct coord_conn *k,
		     const struct coord_hdr *h, const void *body)
{
	struct coord_hello hello;
	struct coord_welcome w = { .coord_pid = (int32_t)getpid() };

	if (h->type != COORD_MSG_HELLO || h->len != sizeof(hello)) {
		refuse(c, k, "no hello");
		return;
	}
	memcpy(&hello, body, sizeof(hello));
	if (!secret_equal(hello.secret, c->secret)) {
		refuse(c, k, "wrong secret");
		return;
	}
	if (hello.role != COORD_ROLE_CLIENT && hello.role != COORD_ROLE_COMMAND) {
		refuse(c, k, "unknown role");
		return;
	}
	k->role = (int)hello.role;
	coord_conn_send(k, COORD_MSG_WELCOME, &w, sizeof(w));
}

static void on_register(struct coord *c, struct coord_conn *k,
			const void *body)
{
	char name[400];

	memcpy(&k->reg, body, sizeof(k->reg));
	k->reg.host[sizeof(k->reg.host) - 1] = '\0';
	k->reg.program[sizeof(k->reg.program) - 1] = '\0';
	k->reg.mpi[sizeof(k->reg.mpi) - 1] = '\0';
	if (k->reg.nranks < 1 || k->reg.rank < 0 ||
	    k->reg.rank >= k->reg.nranks) {
		dm_warn("dropped client %s: rank %d of %d is out of range",
			k->peer, k->reg.rank, k->reg.nranks);
		coord_conn_drop(c, k);
		return;
	}
	k->registered = 1;
	c->nclients++;
	c->had_client = 1;
	dm_info("client %s (%s) joined%s", coord_client_name(k, name,
		sizeof(name)), k->reg.program,
		k->reg.restarts ? " after a restart" : "");
}

/* Is this PHASE_DONE exactly its struct plus the pairs it announces? */
static int phase_done_fits(const struct coord_hdr *h, const void *body)
{
	struct coord_phase_done d;

	if (h->len < sizeof(d))
		return 0;
	memcpy(&d, body, sizeof(d));
	return d.npairs <= COORD_MAX_PAIRS &&
	       h->len == sizeof(d) + d.npairs * sizeof(struct coord_pair);
}

/* One whole message from k: check it fits its sender's role. */
static void dispatch(struct coord *c, struct coord_conn *k,
		     const struct coord_hdr *h, const void *body)
{
	if (k->role == 0) {
		on_hello(c, k, h, body);
		return;
	}
	if (k->role == COORD_ROLE_CLIENT && !k->registered &&
	    h->type == COORD_MSG_REGISTER && h->len == sizeof(k->reg)) {
		on_register(c, k, body);
		return;
	}
	if (k->role == COORD_ROLE_CLIENT && k->registered &&
	    h->type == COORD_MSG_PHASE_DONE && phase_done_fits(h, body)) {
		struct coord_phase_done d;
		memcpy(&d, body, sizeof(d));
		d.path[sizeof(d.path) - 1] = '\0';
		d.reason[sizeof(d.reason) - 1] = '\0';
		/* The pairs are copied out: the input buffer is not
		 * aligned for them. */
		struct coord_pair *pairs = NULL;
		size_t n = d.npairs * sizeof(*pairs);
		if (n && !(pairs = malloc(n))) {
			dm_err("cannot read an answer (%s): out of memory",
			       k->peer);
			coord_conn_drop(c, k);
			return;
		}
		if (n)
			memcpy(pairs, (const char *)body + sizeof(d), n);
		coord_ckpt_answer(c, k, &d, pairs);
		free(pairs);
		return;
	}
	if (k->role == COORD_ROLE_COMMAND && k->wait == COORD_WAIT_NONE &&
	    !k->closing && h->type == COORD_MSG_CMD &&
	    h->len == sizeof(struct coord_cmd)) {
		struct coord_cmd cmd;
		memcpy(&cmd, body, sizeof(cmd));
		coord_cmd(c, k, &cmd);
		return;
	}
	dm_warn("dropped %s: unexpected message type %u", k->peer, h->type);
	coord_conn_drop(c, k);
}

/* Hand every complete message in k->in to dispatch(). */
static void parse(struct coord *c, struct coord_conn *k)
{
	struct coord_hdr h;

	while (!k->dead && k->in.len >= sizeof(h)) {
		memcpy(&h, k->in.data, sizeof(h));
		if (h.magic != COORD_MAGIC || h.version != COORD_VERSION ||
		    h.len > COORD_MAX_IN) {
			if (k->role == 0)
				refuse(c, k, "not a dmtcp_mpi peer or another "
				       "version");
			else {
				dm_warn("dropped %s: malformed message",
					k->peer);
				coord_conn_drop(c, k);
			}
			return;
		}
		if (k->in.len < sizeof(h) + h.len)
			return;
		dispatch(c, k, &h, k->in.data + sizeof(h));
		if (!k->dead)
			buf_consume(&k->in, sizeof(h) + h.len);
	}
}

void coord_conn_readable(struct coord *c, struct coord_conn *k)
{
	char tmp[16384];

	for (;;) {
		ssize_t n = recv(k->fd, tmp, sizeof(tmp), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			coord_conn_drop(c, k);
			return;
		}
		if (buf_append(&k->in, tmp, (size_t)n) < 0) {
			dm_err("cannot read from %s: out of memory", k->peer);
			coord_conn_drop(c, k);
			return;
		}
		parse(c, k);
		if (k->dead)
			return;
	}
}

void coord_conn_drop(struct coord *c, struct coord_conn *k)
{
	char name[400];

	if (k->dead)
		return;
	k->dead = 1;
	close(k->fd);
	k->fd = -1;
	if (k->registered) {
		k->registered = 0;
		c->nclients--;
		dm_info("client %s left", coord_client_name(k, name,
			sizeof(name)));
		coord_ckpt_client_left(c, k);
	}
}

/* Is k a peer that owes us its first message (HELLO, or a command's CMD)?
 * Such a peer has --timeout seconds from accept; then it is dropped, so
 * idle connections cannot pile up or keep --exit-on-last waiting. */
int coord_conn_owes(const struct coord_conn *k)
{
	return !k->dead && (k->role == 0 ||
			    (k->role == COORD_ROLE_COMMAND && !k->closing &&
			     k->wait == COORD_WAIT_NONE));
}

void coord_conn_check_hello(struct coord *c, double now)
{
	for (int i = 0; i < c->nconns; i++) {
		struct coord_conn *k = c->conns[i];
		if (!coord_conn_owes(k) || now < k->hello_deadline)
			continue;
		if (k->role == 0) {
			refuse(c, k, "no hello in time");
		} else {
			dm_warn("dropped %s: no command in time", k->peer);
			coord_conn_drop(c, k);
		}
	}
}

void coord_conn_reap(struct coord *c)
{
	int changed = 1, j = 0;

	/* Dropping one connection can fail a checkpoint, which sends to
	 * others and may break them in turn: repeat until nothing moves. */
	while (changed) {
		changed = 0;
		for (int i = 0; i < c->nconns; i++) {
			struct coord_conn *k = c->conns[i];
			if (!k->dead && (k->broken ||
					 (k->closing && k->out.len == 0))) {
				coord_conn_drop(c, k);
				changed = 1;
			}
		}
	}
	for (int i = 0; i < c->nconns; i++) {
		struct coord_conn *k = c->conns[i];
		if (!k->dead) {
			c->conns[j++] = k;
			continue;
		}
		free(k->in.data);
		free(k->out.data);
		free(k);
	}
	c->nconns = j;
}
