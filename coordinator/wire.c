/*
 * wire.c - blocking protocol I/O and secret lookup for the two simple
 * coordinator peers: the engine's client thread (linked into
 * libdmtcp_ckpt.so) and dmtcp_mpi_command.  See proto.h.
 *
 * Errors are returned (errno, or a reason in the caller's buffer) rather
 * than printed: the client and the command word the one error line
 * differently (the command names the option to pass, the client says the
 * process goes on uncheckpointable).
 */
#include "coordinator/proto.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

int coord_tmpdir(char *out, size_t len, char *err, size_t errlen)
{
	const char *env = getenv("DMTCP_MPI_TMPDIR");
	struct stat st;
	int n;

	if (env && *env)
		n = snprintf(out, len, "%s", env);
	else
		n = snprintf(out, len, "/tmp/dmtcp_mpi-%u", (unsigned)getuid());
	if (n < 0 || (size_t)n >= len) {
		snprintf(err, errlen, "temporary directory name too long");
		return -1;
	}
	if (mkdir(out, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", out, strerror(errno));
		return -1;
	}
	if (stat(out, &st) < 0) {
		snprintf(err, errlen, "cannot stat %s: %s", out, strerror(errno));
		return -1;
	}
	/* The secret lives here: a directory others can enter or write
	 * would let them read or replace it. */
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
	    (st.st_mode & 077)) {
		snprintf(err, errlen, "%s must be a directory of ours with mode "
			 "0700", out);
		return -1;
	}
	return 0;
}

int coord_secret_path(char *out, size_t len, const char *host, int port,
		      char *err, size_t errlen)
{
	char dir[COORD_PATH_MAX];

	if (coord_tmpdir(dir, sizeof(dir), err, errlen) < 0)
		return -1;
	int n = snprintf(out, len, "%s/coord-%s-%d.secret", dir, host, port);
	if (n < 0 || (size_t)n >= len) {
		snprintf(err, errlen, "secret file name too long");
		return -1;
	}
	return 0;
}

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int coord_secret_parse(uint8_t out[COORD_SECRET_LEN], const char *hex)
{
	for (int i = 0; i < COORD_SECRET_LEN; i++) {
		int hi = hex_digit(hex[2 * i]);
		int lo = hi < 0 ? -1 : hex_digit(hex[2 * i + 1]);
		if (lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	const char *end = hex + 2 * COORD_SECRET_LEN;
	return (*end == '\0' || strcmp(end, "\n") == 0) ? 0 : -1;
}

int coord_secret_load(uint8_t out[COORD_SECRET_LEN], const char *host,
		      int port, char *err, size_t errlen)
{
	const char *env = getenv("DMTCP_MPI_SECRET");
	char path[COORD_PATH_MAX], text[2 * COORD_SECRET_LEN + 2];

	if (env && *env) {
		if (coord_secret_parse(out, env) == 0)
			return 0;
		snprintf(err, errlen, "DMTCP_MPI_SECRET is not 32 hex digits");
		return -1;
	}
	if (coord_secret_path(path, sizeof(path), host, port, err, errlen) < 0)
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 0)
		n = 0;
	text[n] = '\0';
	if (coord_secret_parse(out, text) < 0) {
		snprintf(err, errlen, "%s does not hold 32 hex digits", path);
		return -1;
	}
	return 0;
}

/* Wait for a non-blocking connect; 0 connected, -1 with errno. */
static int connect_wait(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int r, soerr = 0;
	socklen_t sl = sizeof(soerr);

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		errno = ETIMEDOUT;
	if (r <= 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		return -1;
	if (soerr) {
		errno = soerr;
		return -1;
	}
	return 0;
}

int coord_connect(const char *host, int port, int timeout_ms)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM }, *res, *ai;
	char service[16];
	int fd = -1, saved = ECONNREFUSED;

	snprintf(service, sizeof(service), "%d", port);
	int gai = getaddrinfo(host, service, &hints, &res);
	if (gai != 0) {
		errno = gai == EAI_SYSTEM ? errno : EHOSTUNREACH;
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
			    SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    (errno == EINPROGRESS && connect_wait(fd, timeout_ms) == 0))
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		errno = saved;
		return -1;
	}
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	coord_nodelay(fd);
	return fd;
}

/* Read exactly len bytes: 1, 0 on EOF before the first byte, -1 error. */
static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, p + got, len - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = got ? EPROTO : 0;
			return got ? -1 : 0;
		}
		got += (size_t)n;
	}
	return 1;
}

int coord_send(int fd, enum coord_msg type, const void *body, uint32_t len)
{
	struct coord_hdr h = { .magic = COORD_MAGIC, .version = COORD_VERSION,
			       .type = (uint16_t)type, .len = len };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)body, len } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };

	/* Header and body in one send: sent apart, the body of a message
	 * waited behind Nagle's algorithm for the peer's delayed ACK of the
	 * header, 40 ms on Linux, and every checkpoint phase took that long. */
	while (m.msg_iovlen > 0) {
		/* MSG_NOSIGNAL: the engine client lives in an application
		 * whose SIGPIPE disposition is not ours to change. */
		ssize_t n = sendmsg(fd, &m, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		while (m.msg_iovlen > 0 && (size_t)n >= m.msg_iov->iov_len) {
			n -= (ssize_t)m.msg_iov->iov_len;
			m.msg_iov++;
			m.msg_iovlen--;
		}
		if (m.msg_iovlen > 0) {
			m.msg_iov->iov_base = (char *)m.msg_iov->iov_base + n;
			m.msg_iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

void coord_nodelay(int fd)
{
	int one = 1;

	/* Best effort: a socket that refuses it is only slower. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

long coord_recv(int fd, struct coord_hdr *h, void *body, uint32_t max)
{
	int r = read_all(fd, h, sizeof(*h));

	if (r <= 0)
		return -1;
	if (h->magic != COORD_MAGIC || h->version != COORD_VERSION ||
	    h->len > max) {
		errno = EPROTO;
		return -1;
	}
	if (h->len && read_all(fd, body, h->len) <= 0) {
		if (errno == 0)
			errno = EPROTO;
		return -1;
	}
	return (long)h->len;
}

int coord_hello(int fd, const uint8_t secret[COORD_SECRET_LEN],
		enum coord_role role, char *err, size_t errlen)
{
	struct coord_hello hello = { .role = (uint32_t)role };
	struct coord_hdr h;
	union {
		struct coord_welcome w;
		struct coord_refused r;
	} u;

	memcpy(hello.secret, secret, COORD_SECRET_LEN);
	if (coord_send(fd, COORD_MSG_HELLO, &hello, sizeof(hello)) < 0) {
		snprintf(err, errlen, "send: %s", strerror(errno));
		return -1;
	}
	memset(&u, 0, sizeof(u));
	if (coord_recv(fd, &h, &u, sizeof(u)) < 0) {
		snprintf(err, errlen, "%s", errno ? strerror(errno) :
			 "connection closed");
		return -1;
	}
	if (h.type == COORD_MSG_REFUSED) {
		u.r.reason[sizeof(u.r.reason) - 1] = '\0';
		snprintf(err, errlen, "refused: %s", u.r.reason);
		return -1;
	}
	if (h.type != COORD_MSG_WELCOME) {
		snprintf(err, errlen, "unexpected message %u", h.type);
		return -1;
	}
	return 0;
}
