/*
 * harness.h - checkpoint triggers for the engine's test programs.
 *
 * The coordinator is not part of these tests: a helper thread inside the
 * program calls ck_checkpoint() itself, the way the coordinator client
 * does, when the program's progress (th_step) reaches a step listed in
 * the environment.  The schedule is read once at start and lives in the
 * program's memory, so one run describes a whole chain of checkpoints
 * across restarts.
 *
 *   DMTCP_MPI_TEST_CKPT_AT  steps to checkpoint at, "k1,k2,..." (none: no
 *                           checkpoint, the reference run)
 *   DMTCP_MPI_TEST_DIR      image directory; image name is the program's
 *   DMTCP_MPI_TEST_LEVEL    zstd level (default 1; 0: none)
 *   DMTCP_MPI_TEST_FORK     1: forked (copy-on-write) checkpoint
 *   DMTCP_MPI_TEST_KILL     1: SIGKILL ourselves once an image is written
 *   DMTCP_MPI_TEST_FAILOK   1: a failed checkpoint is expected, go on
 *   DMTCP_MPI_TEST_HOOKS    1: register hooks that malloc and free
 *   DMTCP_MPI_TEST_TAG      printed after a restart (shows which
 *                           environment the restored process sees)
 *
 * Results go to stdout at the end only; progress notes go to stderr.
 */
#ifndef TH_HARNESS_H
#define TH_HARNESS_H

/* Read the schedule and start the helper thread (name: image name). */
void th_start(const char *name);

/* The program reached step i (steps only grow). */
void th_step(long i);

/* Block until the checkpoint scheduled at step i (if any) is done. */
void th_wait(long i);

/* Block until every checkpoint scheduled at a step already reached is
 * done (a forked checkpoint may still be writing when the work ends). */
void th_done(void);

/* Restarts this process has been through. */
int th_generation(void);

/* Checkpoints attempted and failed (with DMTCP_MPI_TEST_FAILOK). */
int th_failures(void);

#endif
