/*
 * secret.c - the coordinator's shared secret.
 *
 * Anyone who can connect to the coordinator's port could otherwise ask
 * for a checkpoint or kill the job, and on a cluster the port is reachable
 * by other users.  So every peer must first show a 128-bit secret: taken
 * from $DMTCP_MPI_SECRET (a launcher passes it to remote ranks), or made
 * up here and left in <tmpdir>/coord-<host>-<port>.secret, mode 0600 in a
 * 0700 directory, where only our user can read it.
 *
 * The file is written before listen(): a peer that could connect can
 * always find it.  It is removed when the coordinator exits.
 *
 * Between bind() and listen() a second coordinator could bind the same
 * port too (SO_REUSEADDR allows it while nobody listens), overwrite our
 * secret, fail to listen and remove the file.  Clients racing to start a
 * coordinator do exactly that, so whoever writes the secret first holds
 * an exclusive lock on <tmpdir>/coord-<host>-<port>.lock; a second one
 * gives up before touching anything.
 */
#include "coordinator/coord.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static int make_secret(uint8_t out[COORD_SECRET_LEN], char *err,
		       size_t errlen)
{
	const char *env = getenv("DMTCP_MPI_SECRET");

	if (env && *env) {
		if (coord_secret_parse(out, env) == 0)
			return 0;
		snprintf(err, errlen, "DMTCP_MPI_SECRET is not 32 hex digits");
		return -1;
	}
	if (getrandom(out, COORD_SECRET_LEN, 0) != COORD_SECRET_LEN) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Take the port's lock, kept until exit.  The path is checked again once
 * locked: a previous holder unlinks it on its way out, and a lock on an
 * unlinked file would exclude nobody. */
static int lock_port(struct coord *c, char *err, size_t errlen)
{
	struct stat a, b;

	snprintf(c->lock_path, sizeof(c->lock_path), "%.*s.lock",
		 (int)(strlen(c->secret_path) - strlen(".secret")),
		 c->secret_path);
	for (;;) {
		int fd = open(c->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0) {
			snprintf(err, errlen, "cannot create %s: %s",
				 c->lock_path, strerror(errno));
			return -1;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			snprintf(err, errlen, "another coordinator holds %s",
				 c->lock_path);
			close(fd);
			return -1;
		}
		if (fstat(fd, &a) == 0 && stat(c->lock_path, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return 0;        /* fd stays open: the lock is ours */
		close(fd);
	}
}

int coord_secret_setup(struct coord *c, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 32], hex[2 * COORD_SECRET_LEN + 2];

	if (make_secret(c->secret, err, errlen) < 0 ||
	    coord_secret_path(c->secret_path, sizeof(c->secret_path), c->host,
			      c->port, err, errlen) < 0)
		return -1;
	if (lock_port(c, err, errlen) < 0) {
		c->secret_path[0] = c->lock_path[0] = '\0';
		return -1;
	}
	for (int i = 0; i < COORD_SECRET_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", c->secret[i]);
	hex[2 * COORD_SECRET_LEN] = '\n';
	snprintf(tmp, sizeof(tmp), "%s.%d", c->secret_path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp,
			 strerror(errno));
		return -1;
	}
	ssize_t n = write(fd, hex, 2 * COORD_SECRET_LEN + 1);
	int saved = errno;
	close(fd);
	/* Replacing by rename: a peer never reads a half-written file. */
	if (n != 2 * COORD_SECRET_LEN + 1 || rename(tmp, c->secret_path) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", c->secret_path,
			 strerror(n < 0 ? saved : errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

void coord_secret_remove(struct coord *c)
{
	if (c->secret_path[0])
		unlink(c->secret_path);
	/* Still locked while unlinking: see lock_port(). */
	if (c->lock_path[0])
		unlink(c->lock_path);
}
