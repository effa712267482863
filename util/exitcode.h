/*
 * exitcode.h - distinct exit codes of our commands, so scripts can tell
 * failures apart.  An application's own exit status is passed through
 * unchanged; a death by signal N exits 128+N, as a shell reports it.
 */
#ifndef DM_EXITCODE_H
#define DM_EXITCODE_H

enum dm_exit {
	DM_EXIT_OK = 0,
	DM_EXIT_USAGE = 64,       /* bad command line or environment value */
	DM_EXIT_NOPROG = 65,      /* program or proxy binary not found */
	DM_EXIT_NOMPI = 66,       /* no launching MPI detected / proxy not built */
	DM_EXIT_CHANNEL = 67,     /* channel could not be created or mapped */
	DM_EXIT_PROXY_DIED = 68,  /* the proxy died; the rank was ended */
	DM_EXIT_APP_ABORT = 69,   /* app left MPI without MPI_Finalize */
	DM_EXIT_MPI_FATAL = 70,   /* fatal MPI error through ERRORS_ARE_FATAL */
	DM_EXIT_IMAGE = 71,       /* bad or unreadable checkpoint image */
	DM_EXIT_CKPT = 72,        /* checkpoint failed */
	DM_EXIT_COORD = 73,       /* coordinator unreachable or refused us */
	DM_EXIT_INTERNAL = 74,    /* a bug: please report */
	DM_EXIT_RESTORE = 75,     /* good image, but it cannot be restored
				     here (other kernel or CPU, missing file,
				     address clash) */
	DM_EXIT_NRANKS = 76,      /* restart launched with another number of
				     ranks than the checkpoint has */
	DM_EXIT_NOJOB = 77        /* a command for the job, but no rank of it
				     is connected to the coordinator */
};

#endif
