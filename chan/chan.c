/*
 * chan.c - creating, mapping and unmapping the channel (see chan.h).
 *
 * The launcher creates one memfd per rank and both children inherit it, so
 * the fd is deliberately not close-on-exec and no name in /dev/shm can be
 * guessed or left behind.  The file is sealed against resizing once laid
 * out: a peer that shrank it would make the other end fault on its mapping.
 * Its mode is lowered to 0600 as well; opening it through /proc/PID/fd
 * already needs ptrace rights over the owner, this only adds the usual
 * inode check on top.
 *
 * Attaching reads the waiting tunables of wait.c from the environment:
 *   DMTCP_MPI_SPIN_NS   spin phase of chan_wait, ns (default 5000)
 *   DMTCP_MPI_YIELD_NS  sched_yield phase of chan_wait, ns (default 50000)
 * Both accept 0 .. 1000000000; a bad value is reported and the default used.
 * It also measures the clock the waits read (chan_clock_init, clock.c).
 */
#include "chan/chan.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

/* Not in glibc 2.36's headers; Linux 6.3+ knows it, older ones refuse it. */
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

#define CHAN_MEMFD_NAME "dmtcp_mpi-chan"
#define CHAN_SPIN_NS_DEFAULT 5000u
#define CHAN_YIELD_NS_DEFAULT 50000u
#define CHAN_SLEEP_NS 100000000u /* bounds a missed state change (wait.c) */
#define CHAN_TUNABLE_MAX 1000000000ull

static uint64_t round_up(uint64_t n, uint64_t to)
{
	return (n + to - 1) / to * to;
}

static uint64_t page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);

	return p > 0 ? (uint64_t)p : 4096;
}

static int create_memfd(void)
{
	int fd = memfd_create(CHAN_MEMFD_NAME, MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);

	if (fd < 0 && errno == EINVAL)
		fd = memfd_create(CHAN_MEMFD_NAME, MFD_ALLOW_SEALING);
	return fd;
}

static void init_header(struct chan_hdr *hdr, uint64_t map_size,
			uint64_t arena_off, uint64_t arena_size)
{
	/* A fresh memfd reads as zeroes: seq, sleeping, state (CHAN_UP),
	 * same_cpu and the call slot start out right. */
	hdr->version = CHAN_VERSION;
	hdr->map_size = map_size;
	hdr->arena_off = arena_off;
	hdr->arena_size = arena_size;
	/* Magic last: a header with the magic set is complete. */
	atomic_thread_fence(memory_order_release);
	hdr->magic = CHAN_MAGIC;
}

int chan_create(uint64_t arena_size)
{
	uint64_t page = page_size();
	uint64_t arena_off = round_up(sizeof(struct chan_hdr), page);
	uint64_t limit = (uint64_t)LLONG_MAX - arena_off - page;

	if (arena_size > limit) {
		dm_err("cannot create channel (arena of %llu bytes): too large",
		       (unsigned long long)arena_size);
		return -1;
	}
	arena_size = round_up(arena_size, page);
	uint64_t map_size = arena_off + arena_size;

	int fd = create_memfd();
	if (fd < 0) {
		dm_err("cannot create channel (memfd %s): %s", CHAN_MEMFD_NAME,
		       strerror(errno));
		return -1;
	}
	const char *what = "set its mode";
	if (fchmod(fd, 0600) < 0)
		goto err;
	what = "size it";
	if (ftruncate(fd, (off_t)map_size) < 0)
		goto err;
	what = "seal it";
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		goto err;
	what = "map it";
	/* Only the header page is touched; the arena stays sparse. */
	void *p = mmap(NULL, arena_off, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto err;
	init_header(p, map_size, arena_off, arena_size);
	munmap(p, arena_off);
	return fd;
err:
	dm_err("cannot create channel (fd %d, %llu bytes): %s failed: %s", fd,
	       (unsigned long long)map_size, what, strerror(errno));
	close(fd);
	return -1;
}

/* Why the header of a mapping of file_size bytes is unusable, or NULL. */
static const char *check_header(const struct chan_hdr *hdr, uint64_t file_size)
{
	if (hdr->magic != CHAN_MAGIC)
		return "bad magic";
	if (hdr->version != CHAN_VERSION)
		return "version mismatch";
	if (hdr->map_size != file_size)
		return "recorded size differs from the file size";
	if (hdr->arena_off < sizeof(struct chan_hdr) ||
	    hdr->arena_off % page_size() != 0)
		return "bad arena offset";
	if (hdr->arena_off > file_size ||
	    hdr->arena_size > file_size - hdr->arena_off)
		return "arena extends past the end of the file";
	return NULL;
}

static uint64_t env_ns(const char *name, uint64_t def)
{
	const char *s = getenv(name);

	if (s == NULL || *s == '\0')
		return def;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || !isdigit((unsigned char)*s) || *end != '\0' ||
	    v > CHAN_TUNABLE_MAX) {
		dm_warn("ignoring %s=%s (want 0..%llu ns), using %llu", name, s,
			CHAN_TUNABLE_MAX, (unsigned long long)def);
		return def;
	}
	return v;
}

int chan_attach(struct chan *ch, int fd)
{
	return chan_attach_at(ch, fd, NULL);
}

int chan_attach_at(struct chan *ch, int fd, void *addr)
{
	struct stat st;

	memset(ch, 0, sizeof(*ch));
	ch->fd = -1;
	if (fstat(fd, &st) < 0) {
		dm_err("cannot attach channel (fd %d): %s", fd, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(struct chan_hdr)) {
		dm_err("cannot attach channel (fd %d): not a channel file "
		       "(%lld bytes)", fd, (long long)st.st_size);
		return -1;
	}
	size_t size = (size_t)st.st_size;
	void *p = mmap(addr, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | (addr ? MAP_FIXED_NOREPLACE : 0), fd, 0);
	if (p == MAP_FAILED || (addr && p != addr)) {
		dm_err("cannot map channel (fd %d) at %p: %s", fd, addr,
		       p == MAP_FAILED ? strerror(errno) : "kernel chose another address");
		if (p != MAP_FAILED)
			munmap(p, size);
		return -1;
	}
	const char *why = check_header(p, size);
	if (why != NULL) {
		dm_err("cannot attach channel (fd %d): %s", fd, why);
		munmap(p, size);
		return -1;
	}
	ch->hdr = p;
	ch->base = p;
	ch->arena = ch->base + ch->hdr->arena_off;
	ch->size = size;
	ch->fd = fd;
	ch->spin_ns = env_ns("DMTCP_MPI_SPIN_NS", CHAN_SPIN_NS_DEFAULT);
	ch->yield_ns = env_ns("DMTCP_MPI_YIELD_NS", CHAN_YIELD_NS_DEFAULT);
	ch->sleep_ns = CHAN_SLEEP_NS;
	chan_clock_init();
	return 0;
}

int chan_attach_env(struct chan *ch)
{
	const char *s = getenv(CHAN_ENV_FD);

	if (s == NULL || *s == '\0') {
		dm_err("cannot attach channel (%s): not set; was this started by "
		       "dmtcp_mpi?", CHAN_ENV_FD);
		return -1;
	}
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || !isdigit((unsigned char)*s) || *end != '\0' ||
	    v > INT_MAX) {
		dm_err("cannot attach channel (%s=%s): not a file descriptor",
		       CHAN_ENV_FD, s);
		return -1;
	}
	return chan_attach(ch, (int)v);
}

void chan_detach(struct chan *ch)
{
	if (ch->hdr != NULL)
		munmap(ch->hdr, ch->size);
	ch->hdr = NULL;
	ch->base = NULL;
	ch->arena = NULL;
	ch->size = 0;
}
