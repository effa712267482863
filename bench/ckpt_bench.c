/*
 * ckpt_bench.c - one measurement for bench/ckpt_bench.sh.
 *
 *   ckpt_bench ckpt|fork|write compressible|random MIB DIR [LEVEL]
 *
 * Fills MIB MiB of memory (doubles i*0.001, or xorshift bytes), then:
 *   ckpt   a helper thread calls ck_checkpoint (zstd LEVEL) while main
 *          spins; prints the times and SIGKILLs itself.  Restarted from
 *          that image, it prints the wall clock at which ck_checkpoint
 *          returned in the new process, and checks the data;
 *   fork   the same with a forked (copy-on-write) writer;
 *   write  plain write(2) of the same bytes to DIR/plain.dat + fsync.
 */
#include "ckpt/ckpt.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t *buf;
static size_t words;
static uint64_t sum_before;
static volatile int done;
static struct ck_opts opts;
static char dir[1024];

static double now(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t checksum(void)
{
	uint64_t h = 0;
	for (size_t i = 0; i < words; i++)
		h = (h ^ buf[i]) * 0x100000001b3ULL;
	return h;
}

static void fill(int random)
{
	uint64_t x = 88172645463325252ULL;

	for (size_t i = 0; i < words; i++) {
		if (random) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = x;
		} else {
			double d = (double)i * 0.001;
			memcpy(&buf[i], &d, 8);
		}
	}
}

static void *helper(void *arg)
{
	char path[2048];
	struct ck_stats st;

	(void)arg;
	int r = ck_checkpoint(&opts, path, sizeof(path));
	if (r == CK_RESTARTED) {
		printf("restarted_at=%.6f\n", now(CLOCK_REALTIME));
		printf("verify=%s\n", checksum() == sum_before ? "ok" : "BAD");
		fflush(stdout);
		_exit(0);
	}
	ck_last_stats(&st);
	printf("result=%s total=%.3f pause=%.3f mem=%llu image=%llu\n",
	       r == CK_WRITTEN ? "ok" : "failed", st.total_s, st.pause_s,
	       (unsigned long long)st.mem_bytes,
	       (unsigned long long)st.image_bytes);
	fflush(stdout);
	kill(getpid(), SIGKILL);
	return NULL;
}

static int plain_write(void)
{
	char path[2048];
	size_t len = words * 8;

	snprintf(path, sizeof(path), "%s/plain.dat", dir);
	double t0 = now(CLOCK_MONOTONIC);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	const char *p = (const char *)buf;
	while (fd >= 0 && len) {
		ssize_t w = write(fd, p, len > (1u << 30) ? 1u << 30 : len);
		if (w <= 0)
			return 1;
		p += w;
		len -= (size_t)w;
	}
	if (fd < 0 || fsync(fd) != 0)
		return 1;
	close(fd);
	printf("result=ok total=%.3f\n", now(CLOCK_MONOTONIC) - t0);
	unlink(path);
	return 0;
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc < 5) {
		fprintf(stderr, "usage: ckpt_bench ckpt|fork|write "
			"compressible|random MIB DIR [LEVEL]\n");
		return 64;
	}
	words = (size_t)atol(argv[3]) << 17;
	snprintf(dir, sizeof(dir), "%s", argv[4]);
	buf = malloc(words * 8);
	if (!buf)
		return 1;
	fill(strcmp(argv[2], "random") == 0);
	if (strcmp(argv[1], "write") == 0)
		return plain_write();
	sum_before = checksum();
	opts.dir = dir;
	opts.name = "bench";
	opts.zstd_level = argc > 5 ? atoi(argv[5]) : 1;
	opts.fork_ckpt = strcmp(argv[1], "fork") == 0;
	pthread_create(&t, NULL, helper, NULL);
	while (!done)   /* the application keeps computing */
		;
	return 0;
}
