/*
 * ckpt.h - the checkpoint engine's entry points (application side).
 *
 * The engine is a shared library (build/lib/libdmtcp_ckpt.so) that the
 * launcher preloads into the application.  Its constructor calls
 * ck_init(); the coordinator client (ckpt/client.c) calls ck_checkpoint()
 * from its own thread when the coordinator asks for a checkpoint.
 *
 * Hooks let other parts of the process (the MPI shim) take part without
 * the engine knowing about MPI: e.g. the shim registers its channel
 * mapping as "skip" and re-attaches a new channel after restart.
 */
#ifndef CKPT_H
#define CKPT_H

#include <stddef.h>
#include <stdint.h>

struct ck_opts {
	const char *dir;     /* checkpoint directory; image goes there */
	const char *name;    /* image base name, e.g. "rank0"; NULL: "ckpt" */
	int zstd_level;      /* 0: no compression; default 1 */
	int threads;         /* compression threads; 0: number of CPUs */
	int fork_ckpt;       /* write from a forked copy-on-write child */
	int hold;            /* on CK_WRITTEN, leave the other threads
				stopped (resume hooks not run) until
				ck_release(): the process is about to
				end, and nothing may run past the image */
};

/* Outcome of ck_checkpoint, as seen by its caller. */
enum ck_result {
	CK_FAILED = -1,      /* nothing written; previous image intact */
	CK_WRITTEN = 0,      /* image complete; process continues */
	CK_RESTARTED = 1     /* we are the restarted process, returning here */
};

/* Constructor work: record vdso/vvar/stack, reserve the restorer's hole,
 * install the thread-stop signal handler.  Idempotent. */
int ck_init(void);

/* Stop every other thread, write the image under a temporary name,
 * fsync, rename to its final path (written to path_out), resume.
 * Returns an enum ck_result; on CK_FAILED one error line was printed. */
int ck_checkpoint(const struct ck_opts *o, char *path_out, size_t path_len);

/* After ck_checkpoint() with hold returned CK_WRITTEN: run the resume
 * hooks and let the other threads go.  Does nothing otherwise. */
void ck_release(void);

/* Hooks, run in the checkpoint thread with other threads stopped.
 * resume runs after every pre_ckpt, whether the image was written or
 * not, and only then: a checkpoint of an MPI job that failed before its
 * image (in TARGETS, PARK or DRAIN) never stopped a thread nor ran
 * pre_ckpt, so it runs no hook; the MPI shim's own ck_mpi_ops resume()
 * undoes what those phases did (ckpt/client.h). */
struct ck_hooks {
	void (*pre_ckpt)(void *arg);     /* before memory is written */
	void (*resume)(void *arg);       /* after writing, same process */
	void (*restart)(void *arg);      /* in the restarted process */
	void *arg;
};
int ck_register_hooks(const struct ck_hooks *h);

/* An allocator behind the engine's malloc family (the MPI shim's shared
 * heap, shim/heap.c): the engine wraps malloc & co. (ckpt/alloc.c), so a
 * library that wants them must be called from those wrappers.  world(1)
 * comes before other threads are stopped, world(0) once they run again:
 * in between, the engine itself allocates, and the allocator must not
 * wait for a lock a stopped thread may hold.  Registered once, for good. */
struct ck_alloc_ops {
	void *(*malloc)(size_t n);
	void (*free)(void *p);
	void *(*calloc)(size_t a, size_t b);
	void *(*realloc)(void *p, size_t n);
	void *(*memalign)(size_t align, size_t n);
	void (*world)(int stopped);
};
int ck_register_alloc(const struct ck_alloc_ops *ops);

/* Exclude [addr, addr+len) from images (e.g. the MPI channel). */
int ck_skip_region(void *addr, size_t len);

/* Measurements of the last ck_checkpoint() in this process. */
struct ck_stats {
	double pause_s;          /* other threads stopped (stop to release) */
	double total_s;          /* the whole ck_checkpoint() call */
	uint64_t mem_bytes;      /* bytes of memory saved (zero pages not) */
	uint64_t image_bytes;    /* size of the image file */
};
int ck_last_stats(struct ck_stats *st);

#endif
