/*
 * append.c - a log opened O_APPEND (written through it and a dup of it)
 * and a plain file written at its offset, one line per step.  After a
 * restart both must continue exactly where the checkpoint left them:
 * lines written after the checkpoint by the killed run are cut off, not
 * repeated.
 */
#include "tests/ckpt/harness.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STEPS 150

static uint64_t file_hash(const char *path, long *lines)
{
	char buf[4096];
	uint64_t h = 1469598103934665603ULL;
	int fd = open(path, O_RDONLY);
	ssize_t n;

	*lines = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++) {
			h = (h ^ (unsigned char)buf[i]) * 1099511628211ULL;
			*lines += buf[i] == '\n';
		}
	close(fd);
	return h;
}

int main(void)
{
	char log[2048], plain[2048], line[128];
	const char *dir = getenv("DMTCP_MPI_TEST_DIR");

	snprintf(log, sizeof(log), "%s/append.log", dir ? dir : ".");
	snprintf(plain, sizeof(plain), "%s/append.dat", dir ? dir : ".");
	int a = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	int b = dup(a);
	int p = open(plain, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (a < 0 || b < 0 || p < 0)
		return 2;
	th_start("append");
	for (long k = 0; k < STEPS; k++) {
		int n = snprintf(line, sizeof(line), "step %ld value %ld\n", k,
				 k * k * 7919);
		if (write(k % 2 ? a : b, line, (size_t)n) != n ||
		    write(p, line, (size_t)n) != n)
			return 2;
		th_step(k);
		usleep(2000);
	}
	th_done();
	close(a);
	close(b);
	close(p);
	long la, lp;
	uint64_t ha = file_hash(log, &la), hp = file_hash(plain, &lp);
	printf("append: log %ld lines %016llx, file %ld lines %016llx\n", la,
	       (unsigned long long)ha, lp, (unsigned long long)hp);
	return 0;
}
