/*
 * feed.c - the decompressor for restart: a grandchild of
 * dmtcp_mpi_restart (so no SIGCHLD ever reaches the restored program)
 * that decodes the image's zstd sections for the restorer, which has no
 * C library and no zstd.
 *
 * When the restorer has mapped the regions it sends one byte.  Threads
 * then decode sections and write each straight to its pages in the
 * restorer with process_vm_writev (one copy, in parallel, while the
 * restorer reads the raw sections itself), and 'D' tells it they are
 * done.  If the kernel does not let us write its memory, 'S' and the
 * sections follow through the pipe in order instead (decoded ahead into
 * a ring of buffers).  On a decoding error one line names the section
 * and we exit: the restorer sees the pipe end and stops with
 * DM_EXIT_IMAGE.
 */
#include "ckpt/restart.h"
#include "util/exitcode.h"
#include "util/fault.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

struct slot {
	uint8_t *buf;
	size_t cap;
	uint32_t sec;             /* DATA index it holds */
	int ready;                /* decoded, not yet written */
};

struct feed {
	const struct ck_img *im;
	uint32_t *order;          /* DATA indexes of zstd sections */
	uint32_t n;
	uint32_t next;            /* next to decode */
	struct slot *slots;
	uint32_t nslots;
	uint32_t written;         /* sections sent so far */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int target;               /* the restorer's pid */
	uint32_t direct_next;     /* atomic: next section to write direct */
};

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static void decode(const struct ck_img *im, uint32_t k, struct slot *s,
		   ZSTD_DCtx *dc)
{
	const struct ck_img_section *sec = &im->sec[im->first_data + k];

	if (sec->raw_size > s->cap) {
		free(s->buf);
		s->cap = sec->raw_size;
		s->buf = malloc(s->cap);
		if (!s->buf)
			dm_die(DM_EXIT_INTERNAL, "decompressor: out of memory");
	}
	size_t n = ZSTD_decompressDCtx(dc, s->buf, sec->raw_size,
				       im->base + sec->offset,
				       sec->stored_size);
	if (ZSTD_isError(n) || n != sec->raw_size)
		dm_die(DM_EXIT_IMAGE, "image section data #%u cannot be "
		       "decompressed: %s", im->first_data + k,
		       ZSTD_isError(n) ? ZSTD_getErrorName(n) : "wrong size");
}

static void *decoder(void *arg)
{
	struct feed *f = arg;
	ZSTD_DCtx *dc = ZSTD_createDCtx();

	pthread_mutex_lock(&f->lock);
	for (;;) {
		/* Slot i % nslots is free once section i - nslots is sent. */
		while (f->next < f->n && f->next >= f->written + f->nslots)
			pthread_cond_wait(&f->cond, &f->lock);
		if (f->next >= f->n)
			break;
		uint32_t i = f->next++;
		struct slot *s = &f->slots[i % f->nslots];
		pthread_mutex_unlock(&f->lock);
		decode(f->im, f->order[i], s, dc);
		pthread_mutex_lock(&f->lock);
		s->sec = i;
		s->ready = 1;
		pthread_cond_broadcast(&f->cond);
	}
	pthread_mutex_unlock(&f->lock);
	ZSTD_freeDCtx(dc);
	return NULL;
}

/* Write section k's decoded bytes to its extents in the target. */
static long put_remote(const struct feed *f, uint32_t k, const uint8_t *buf)
{
	const struct ck_img *im = f->im;
	const struct ck_img_section *sec = &im->sec[im->first_data + k];
	struct iovec remote[256];
	uint64_t done = 0;

	for (uint32_t j = 0; j < sec->ext_count;) {
		uint32_t n = 0;
		uint64_t len = 0;
		for (; n < 256 && j + n < sec->ext_count; n++) {
			const struct ck_img_extent *e =
				&im->extents[sec->ext_first + j + n];
			remote[n].iov_base = (void *)e->addr;
			remote[n].iov_len = e->len;
			len += e->len;
		}
		struct iovec local = { (void *)(buf + done), len };
		ssize_t w = process_vm_writev(f->target, &local, 1, remote, n,
					      0);
		if (w != (ssize_t)len)
			return w < 0 ? -errno : -EIO;
		done += len;
		j += n;
	}
	return 0;
}

static void direct_section(struct feed *f, uint32_t i, struct slot *s,
			   ZSTD_DCtx *dc)
{
	decode(f->im, f->order[i], s, dc);
	long e = put_remote(f, f->order[i], s->buf);
	if (e)
		dm_die(DM_EXIT_INTERNAL, "cannot fill the restored process's "
		       "memory (pid %d, data #%u): %s", f->target,
		       f->im->first_data + f->order[i], strerror((int)-e));
}

static void *direct_worker(void *arg)
{
	struct feed *f = arg;
	struct slot s = { 0 };
	ZSTD_DCtx *dc = ZSTD_createDCtx();

	for (;;) {
		uint32_t i = __atomic_fetch_add(&f->direct_next, 1,
						__ATOMIC_ACQ_REL);
		if (i >= f->n)
			break;
		direct_section(f, i, &s, dc);
	}
	free(s.buf);
	ZSTD_freeDCtx(dc);
	return NULL;
}

/* The first section tells whether we may write the target's memory:
 * 1 done, 0 not allowed (nothing written). */
static int try_direct_first(struct feed *f)
{
	struct slot s = { 0 };
	ZSTD_DCtx *dc = ZSTD_createDCtx();

	decode(f->im, f->order[0], &s, dc);
	long e = put_remote(f, f->order[0], s.buf);
	free(s.buf);
	ZSTD_freeDCtx(dc);
	if (e == -EPERM || e == -ENOSYS)
		return 0;
	if (e)
		dm_die(DM_EXIT_INTERNAL, "cannot fill the restored process's "
		       "memory (pid %d): %s", f->target, strerror((int)-e));
	return 1;
}

static void feed_direct(struct feed *f, int nthreads)
{
	pthread_t th[16];
	int n = 0;

	f->direct_next = 1;
	for (int i = 1; i < nthreads; i++)
		if (pthread_create(&th[n], NULL, direct_worker, f) == 0)
			n++;
	direct_worker(f);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

static void feed_stream(struct feed *f, int out, int nthreads)
{
	const struct ck_img *im = f->im;
	pthread_t th[16];

	f->nslots = (uint32_t)nthreads * 2;
	f->slots = calloc(f->nslots, sizeof(*f->slots));
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	for (int i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, decoder, f);
	pthread_mutex_lock(&f->lock);
	while (f->written < f->n) {
		struct slot *s = &f->slots[f->written % f->nslots];
		while (!(s->ready && s->sec == f->written))
			pthread_cond_wait(&f->cond, &f->lock);
		pthread_mutex_unlock(&f->lock);
		const struct ck_img_section *sec =
			&im->sec[im->first_data + f->order[f->written]];
		if (write_all(out, s->buf, sec->raw_size))
			_exit(0);   /* the restorer is gone; it said why */
		pthread_mutex_lock(&f->lock);
		s->ready = 0;
		f->written++;
		pthread_cond_broadcast(&f->cond);
	}
	pthread_mutex_unlock(&f->lock);
}

static void __attribute__((noreturn)) feed_main(const struct ck_img *im,
						int out, int go, int target,
						int nthreads)
{
	struct feed f = { .im = im, .target = target };
	char c;

	signal(SIGPIPE, SIG_DFL);
	f.order = malloc((im->ndata + 1) * sizeof(*f.order));
	for (uint32_t k = 0; k < im->ndata; k++)
		if (im->sec[im->first_data + k].codec == CK_CODEC_ZSTD)
			f.order[f.n++] = k;
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > 16)
		nthreads = 16;
	if (read(go, &c, 1) != 1)
		_exit(0);   /* the restorer stopped before mapping */
	/* DMTCP_MPI_FAULT=restart-stream: test the fallback. */
	int stream = dm_fault("restart-stream");
	if (!stream && try_direct_first(&f)) {
		feed_direct(&f, nthreads);
		c = 'D';
		write_all(out, (const uint8_t *)&c, 1);
	} else {
		stream = 1;
		c = 'S';
		if (write_all(out, (const uint8_t *)&c, 1) == 0)
			feed_stream(&f, out, nthreads);
	}
	const char *v = getenv("DMTCP_MPI_CKPT_VERBOSE");
	if (v && *v == '1')
		dm_info("decompressor: %u sections %s", f.n,
			stream ? "streamed through the pipe" :
				 "written into the restored process");
	_exit(0);
}

int ck_feed_start(const struct ck_img *im, int nthreads, int target,
		  struct ck_feed *fd_out)
{
	int p[2], g[2];

	if (pipe2(p, O_CLOEXEC) != 0 || pipe2(g, O_CLOEXEC) != 0) {
		dm_err("cannot start the decompressor (pipe): %s",
		       strerror(errno));
		return -1;
	}
	fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	int link[2];
	if (pipe2(link, O_CLOEXEC) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		/* Double fork: the decompressor is nobody's child once the
		 * front end becomes the restored program. */
		pid_t gc = fork();
		if (gc == 0) {
			close(p[0]);
			close(g[1]);
			close(link[1]);
			close(0);
			close(1);
			feed_main(im, p[1], g[0], target, nthreads);
		}
		ssize_t w = write(link[1], &gc, sizeof(gc));
		_exit(w == sizeof(gc) ? 0 : 1);
	}
	close(p[1]);
	close(g[0]);
	close(link[1]);
	pid_t gc = -1;
	if (pid < 0 || read(link[0], &gc, sizeof(gc)) != sizeof(gc) ||
	    gc < 0) {
		dm_err("cannot start the decompressor (fork): %s",
		       strerror(errno));
		return -1;
	}
	close(link[0]);
	waitpid(pid, NULL, 0);
	fd_out->data_fd = p[0];
	fd_out->go_fd = g[1];
	fd_out->pid = gc;
	return 0;
}
