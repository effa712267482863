/*
 * feed.c - the decompressor for restart: a grandchild of
 * dmtcp_mpi_restart (so no SIGCHLD ever reaches the restored program)
 * that decodes the image's zstd sections, in order, into a pipe the
 * restorer reads page contents from.  The restorer has no C library and
 * no zstd; this process has both, and several threads.
 *
 * Threads decode sections into a ring of buffers ahead of the writer,
 * which sends them in section order.  On a decoding error it prints one
 * line naming the section and exits: the restorer then sees the pipe
 * end early and stops with DM_EXIT_IMAGE.
 */
#include "ckpt/restart.h"
#include "util/exitcode.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
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

static void __attribute__((noreturn)) feed_main(const struct ck_img *im,
						int out, int nthreads)
{
	struct feed f = { .im = im };
	pthread_t th[16];

	signal(SIGPIPE, SIG_DFL);
	f.order = malloc((im->ndata + 1) * sizeof(*f.order));
	for (uint32_t k = 0; k < im->ndata; k++)
		if (im->sec[im->first_data + k].codec == CK_CODEC_ZSTD)
			f.order[f.n++] = k;
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > 16)
		nthreads = 16;
	f.nslots = (uint32_t)nthreads * 2;
	f.slots = calloc(f.nslots, sizeof(*f.slots));
	pthread_mutex_init(&f.lock, NULL);
	pthread_cond_init(&f.cond, NULL);
	for (int i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, decoder, &f);
	pthread_mutex_lock(&f.lock);
	while (f.written < f.n) {
		struct slot *s = &f.slots[f.written % f.nslots];
		while (!(s->ready && s->sec == f.written))
			pthread_cond_wait(&f.cond, &f.lock);
		pthread_mutex_unlock(&f.lock);
		const struct ck_img_section *sec =
			&im->sec[im->first_data + f.order[f.written]];
		if (write_all(out, s->buf, sec->raw_size))
			_exit(0);   /* the restorer is gone; it said why */
		pthread_mutex_lock(&f.lock);
		s->ready = 0;
		f.written++;
		pthread_cond_broadcast(&f.cond);
	}
	pthread_mutex_unlock(&f.lock);
	_exit(0);
}

int ck_feed_start(const struct ck_img *im, int nthreads)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) != 0) {
		dm_err("cannot start the decompressor (pipe): %s",
		       strerror(errno));
		return -1;
	}
	fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	pid_t pid = fork();
	if (pid == 0) {
		/* Double fork: the decompressor is nobody's child once the
		 * front end becomes the restored program. */
		if (fork() == 0) {
			close(p[0]);
			close(0);
			close(1);
			feed_main(im, p[1], nthreads);
		}
		_exit(0);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		dm_err("cannot start the decompressor (fork): %s",
		       strerror(errno));
		return -1;
	}
	waitpid(pid, NULL, 0);
	return p[0];
}
