/*
 * harness.c - see harness.h.
 */
#include "tests/ckpt/harness.h"
#include "ckpt/ckpt.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TH_MAX 64

static long at[TH_MAX];
static int nat;
static int done_upto;        /* checkpoints finished */
static volatile long progress = -1;
static int generation, failures;
static char dir[1024], name[128];
static struct ck_opts opts;
static int kill_after, fail_ok;
static int hook_calls[3];

/* A hook that allocates: it must not hang on a lock held by a thread
 * stopped inside malloc. */
static void alloc_hook(void *arg)
{
	void *p[256];

	for (int i = 0; i < 256; i++)
		p[i] = malloc((size_t)(i * 37 % 5000) + 1);
	for (int i = 0; i < 256; i++)
		free(p[i]);
	hook_calls[(long)arg]++;
}

static void pre_hook(void *arg)
{
	(void)arg;
	alloc_hook((void *)0);
}

static void resume_hook(void *arg)
{
	(void)arg;
	alloc_hook((void *)1);
}

static void restart_hook(void *arg)
{
	(void)arg;
	alloc_hook((void *)2);
}

static int env_int(const char *n, int def)
{
	const char *s = getenv(n);
	return s && *s ? atoi(s) : def;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void *helper(void *arg)
{
	char path[2048];

	(void)arg;
	for (int i = 0; i < nat; i++) {
		while (progress < at[i])
			nap_ms(1);
		int r = ck_checkpoint(&opts, path, sizeof(path));
		if (r == CK_RESTARTED) {
			generation++;
			const char *tag = getenv("DMTCP_MPI_TEST_TAG");
			fprintf(stderr, "harness: restarted at step %ld "
				"(generation %d, tag %s, hooks %d/%d/%d)\n",
				at[i], generation, tag ? tag : "-",
				hook_calls[0], hook_calls[1], hook_calls[2]);
		} else if (r == CK_WRITTEN) {
			struct ck_stats st;
			ck_last_stats(&st);
			fprintf(stderr, "harness: image %s at step %ld "
				"(%.3f s, paused %.3f s)\n", path, at[i],
				st.total_s, st.pause_s);
			if (kill_after)
				kill(getpid(), SIGKILL);
		} else {
			failures++;
			if (!fail_ok) {
				fprintf(stderr, "harness: checkpoint failed\n");
				exit(3);
			}
		}
		__atomic_store_n(&done_upto, i + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

void th_start(const char *prog)
{
	const char *s = getenv("DMTCP_MPI_TEST_CKPT_AT");
	pthread_t t;

	snprintf(dir, sizeof(dir), "%s",
		 getenv("DMTCP_MPI_TEST_DIR") ? getenv("DMTCP_MPI_TEST_DIR") :
		 ".");
	snprintf(name, sizeof(name), "%s", prog);
	opts.dir = dir;
	opts.name = name;
	opts.zstd_level = env_int("DMTCP_MPI_TEST_LEVEL", 1);
	opts.fork_ckpt = env_int("DMTCP_MPI_TEST_FORK", 0);
	kill_after = env_int("DMTCP_MPI_TEST_KILL", 0);
	fail_ok = env_int("DMTCP_MPI_TEST_FAILOK", 0);
	if (env_int("DMTCP_MPI_TEST_HOOKS", 0)) {
		struct ck_hooks h = { pre_hook, resume_hook, restart_hook,
				      NULL };
		ck_register_hooks(&h);
	}
	while (s && *s && nat < TH_MAX) {
		char *end;
		at[nat++] = strtol(s, &end, 10);
		s = *end == ',' ? end + 1 : NULL;
	}
	if (nat && pthread_create(&t, NULL, helper, NULL) != 0) {
		perror("harness: pthread_create");
		exit(3);
	}
}

void th_step(long i)
{
	progress = i;
}

void th_wait(long i)
{
	for (int k = 0; k < nat; k++)
		if (at[k] == i)
			while (__atomic_load_n(&done_upto, __ATOMIC_ACQUIRE) <=
			       k)
				nap_ms(1);
}

void th_done(void)
{
	for (int k = 0; k < nat && at[k] <= progress; k++)
		while (__atomic_load_n(&done_upto, __ATOMIC_ACQUIRE) <= k)
			nap_ms(1);
}

int th_generation(void)
{
	return generation;
}

int th_failures(void)
{
	return failures;
}
