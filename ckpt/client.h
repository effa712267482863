/*
 * client.h - the checkpoint engine's coordinator client.
 *
 * A thread in the application that connects to dmtcp_mpi_coordinator
 * (starting one if nobody answers on a local address), registers the
 * process as one rank, and then does what the coordinator says: write an
 * image with ck_checkpoint() into the directory it names, or end the
 * process.  After a restart it registers again with the new coordinator.
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

/* Start the client thread (the engine's constructor calls this once; later
 * calls do nothing).  0, or -1 if the thread could not be created (one
 * error line printed; the process runs on, uncheckpointable). */
int ck_client_start(void);

#endif
