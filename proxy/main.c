/*
 * main.c - the proxy process: attach the channel the launcher made and
 * serve the application's calls until it goes away.
 *
 * The real MPI is initialised by the application's MPI_Init (CALL_INIT),
 * not here, so a program that never uses MPI runs without one; except at
 * a restart (the launcher sets DMTCP_MPI_PROXY_EARLY_INIT for us only),
 * where it is initialised at once, during the image's restore.
 */
#include "px.h"

#include <stdlib.h>

#include "util/exitcode.h"
#include "util/log.h"

struct px_state px;

int main(void)
{
	if (chan_attach_env(&px.ch) < 0)
		return DM_EXIT_CHANNEL;
	px_xlate_init();
	px.no_bookkeeping = getenv("DMTCP_MPI_NO_CKPT_BOOKKEEPING") != NULL;
	if (getenv("DMTCP_MPI_PROXY_EARLY_INIT") != NULL)
		px_init_early();
	px_serve();
}
