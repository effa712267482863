/*
 * comm_fatal.c - freeing MPI_COMM_WORLD under the default handler
 * (MPI_ERRORS_ARE_FATAL) must end the whole job, non-zero, promptly.
 * run.sh judges it by exit status (and, under dmtcp_mpi, by the error
 * line naming MPI_Comm_free), not by output.
 */
/* ranks: 2 */
/* expect: fatal MPI_Comm_free */
#include "mt.h"

int main(int argc, char **argv)
{
	MPI_Comm c = MPI_COMM_WORLD;

	MPI_Init(&argc, &argv);
	mt_begin("comm_fatal");
	MPI_Comm_free(&c);
	MT_FAIL("freeing MPI_COMM_WORLD returned instead of aborting the job");
	return mt_finish();
}
