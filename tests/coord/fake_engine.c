/*
 * fake_engine.c - a stand-in for the checkpoint engine, for tests/coord.
 *
 * It is the real coordinator client (ckpt/client.c) over a stub
 * ck_checkpoint(), so the coordinator, the command and the client are
 * tested before and apart from the real engine.  The stub writes an image
 * the way the engine promises to (temporary name, fsync, rename) and can
 * be told to misbehave by DMTCP_MPI_FAKE_CKPT:
 *   ok (default)   write <dir>/<name>.img: DMTCP_MPI_FAKE_SIZE bytes
 *                  (default 100000) that differ from run to run
 *   fail           return CK_FAILED
 *   hang           sleep for ten minutes, then fail (tests kill us first)
 *   restart-once   the first call returns CK_RESTARTED, as a restored
 *                  process would; later calls behave as "ok"
 * The library's constructor starts the client, as the engine's will.
 */
#include "ckpt/ckpt.h"
#include "ckpt/client.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int write_image(const struct ck_opts *o, char *path_out, size_t len)
{
	const char *sz = getenv("DMTCP_MPI_FAKE_SIZE");
	size_t size = sz ? strtoul(sz, NULL, 10) : 100000;
	char tmp[4200];
	unsigned x = (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL);

	snprintf(path_out, len, "%s/%s.img", o->dir, o->name ? o->name : "ckpt");
	snprintf(tmp, sizeof(tmp), "%s.part", path_out);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		dm_err("fake engine: cannot create %s: %s", tmp, strerror(errno));
		return CK_FAILED;
	}
	for (size_t i = 0; i < size; i++) {
		x = x * 1103515245u + 12345u;
		unsigned char b = (unsigned char)(x >> 16);
		if (write(fd, &b, 1) != 1) {
			dm_err("fake engine: cannot write %s: %s", tmp,
			       strerror(errno));
			close(fd);
			return CK_FAILED;
		}
	}
	if (fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path_out) < 0) {
		dm_err("fake engine: cannot finish %s: %s", path_out,
		       strerror(errno));
		return CK_FAILED;
	}
	return CK_WRITTEN;
}

int ck_checkpoint(const struct ck_opts *o, char *path_out, size_t len)
{
	static int restarted;
	const char *mode = getenv("DMTCP_MPI_FAKE_CKPT");

	if (!mode)
		mode = "ok";
	if (strcmp(mode, "fail") == 0) {
		dm_err("fake engine: told to fail (%s)", o->dir);
		return CK_FAILED;
	}
	if (strcmp(mode, "hang") == 0) {
		sleep(600);
		return CK_FAILED;
	}
	if (strcmp(mode, "restart-once") == 0 && !restarted) {
		restarted = 1;
		return CK_RESTARTED;
	}
	return write_image(o, path_out, len);
}

__attribute__((constructor)) static void fake_engine_init(void)
{
	ck_client_start();
}
