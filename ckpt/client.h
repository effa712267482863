/*
 * client.h - the checkpoint engine's coordinator client.
 *
 * A thread in the application that connects to dmtcp_mpi_coordinator
 * (starting one if nobody answers on a local address), registers the
 * process as one rank, and then does what the coordinator says: take part
 * in the MPI phases of a checkpoint (through the ops the MPI shim
 * registers), write an image with ck_checkpoint() into the directory it
 * names, or end the process.  After a restart it registers again with the
 * new coordinator.
 *
 * Environment: DMTCP_MPI_COORD_HOST / DMTCP_MPI_COORD_PORT (default
 * 127.0.0.1:7779), DMTCP_MPI_SECRET (else the secret file in
 * $DMTCP_MPI_TMPDIR), DMTCP_MPI_RANK / DMTCP_MPI_NRANKS (default rank 0
 * of 1), DMTCP_MPI_MPI (reported in the manifest), DMTCP_MPI_CKPTDIR
 * (given to a coordinator started here).  They are read again after a
 * restart, so a restart tool that updates them in the restored process
 * moves the client to its new coordinator.
 */
#ifndef CK_CLIENT_H
#define CK_CLIENT_H

#include <stdint.h>

/* Start the client thread (the engine's constructor calls this once; later
 * calls do nothing).  0, or -1 if the thread could not be created (one
 * error line printed; the process runs on, uncheckpointable). */
int ck_client_start(void);

/*
 * The MPI part of a checkpoint, provided by the MPI shim.  The engine is
 * preloaded, so the shim finds ck_client_register_mpi with
 * dlsym(RTLD_DEFAULT, ...) at MPI_Init and libmpi_abi does not depend on
 * the engine.  Every function is called from the client thread, one
 * phase at a time, in this order per checkpoint:
 *   coll_seqs, reach_targets, park, drain (one or more rounds), then
 *   resume (same process, whatever the outcome, also when the
 *   coordinator is lost half-way) or restart (in the restored process).
 * A process that fails a phase gets resume() all the same.
 */
struct ck_mpi_ops {
	/* INTENT: write this rank's collective sequence numbers, one per
	 * live communicator, keyed by the communicator's global id:
	 * pairs[2*i] = gid, pairs[2*i+1] = seq, at most max pairs.  Returns
	 * the number of pairs, or -1 on failure.  Negative gids are local to
	 * the rank (MPI_COMM_SELF): reported or not, they get no target. */
	int (*coll_seqs)(int64_t *pairs, int max);
	/* TARGETS: the coordinator's per-gid maximum over every rank (all
	 * gids of the job, in the same layout: n pairs).  The shim lets app
	 * threads keep running until every comm's seq reached its target;
	 * returns 0 when reached (may block, with the app still running;
	 * bounded by the phase timeout, see ck_client_phase_left_ms), 1 when
	 * the rank is still behind but waits to enter a collective past
	 * another communicator's target (the client then answers with
	 * coll_seqs, and the coordinator raises the targets and sends
	 * TARGETS again), -1 on failure. */
	int (*reach_targets)(const int64_t *pairs, int n);
	/* PARK: stop app threads at MPI entry, get every in-flight call out
	 * of the proxy (completed, or cancelled and marked for retry),
	 * cancel pending receives.  Returns 0 when the rank is quiescent,
	 * -1 on failure. */
	int (*park)(void);
	/* DRAIN round: complete what can complete, receive every in-flight
	 * message into app memory; report this rank's totals of messages
	 * sent and received.  The coordinator repeats rounds until the sums
	 * over all ranks agree, so the totals must count every message once
	 * on each side over the same span of time on every rank.  Returns 0,
	 * or -1 on failure. */
	int (*drain)(int64_t *sent, int64_t *recvd);
	/* RESUME (same processes) / RESTART (restored image, new proxy):
	 * reattach, rebuild, re-post, reset counters, release parked
	 * threads. */
	void (*resume)(void);
	void (*restart)(void);
};

/* Register the MPI ops (the table must stay valid; a second call
 * replaces the first, NULL unregisters).  Returns 0.  Without
 * registration the client answers the MPI phases at once: no pairs,
 * nothing to drain. */
int ck_client_register_mpi(const struct ck_mpi_ops *ops);

/* Milliseconds left before the coordinator gives up on the phase the
 * client thread is serving (0 when none is): the bound for blocking in
 * reach_targets and drain. */
int ck_client_phase_left_ms(void);

#endif
