/*
 * endnote.c - leave a note that this rank's application finished.
 *
 * mpirun's exit status cannot tell "the application ended with status 9"
 * from "a rank was killed" (MPICH's Hydra reports a SIGKILL as 9), and a
 * script that restarts failed jobs must never restart one that finished.
 * So when DMTCP_MPI_END_DIR names a directory, the launcher writes
 * <dir>/end.<rank> holding the application's exit status, but only when
 * the application exited by itself after a completed MPI_Finalize.  A job
 * finished when every rank left its note (scripts/dmtcp_mpi_run).
 */
#include "launcher/launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

void ln_note_end(int rank, int status)
{
	const char *dir = getenv("DMTCP_MPI_END_DIR");
	char path[4096], text[16];

	if (dir == NULL || *dir == '\0')
		return;
	snprintf(path, sizeof(path), "%s/end.%d", dir, rank);
	int n = snprintf(text, sizeof(text), "%d\n", status);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, (size_t)n) != n || fsync(fd) < 0)
		dm_err("cannot note the end of rank %d (%s): %s", rank, path,
		       strerror(errno));
	if (fd >= 0)
		close(fd);
}
