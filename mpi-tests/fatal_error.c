/*
 * fatal_error.c - an invalid call under the default MPI_ERRORS_ARE_FATAL:
 * rank 0 sends to rank 99 on MPI_COMM_WORLD while rank 1 waits in a
 * receive that will never be matched.  The whole job must end, non-zero,
 * promptly; no rank may hang.  run.sh judges this one by exit status (and,
 * under dmtcp_mpi, by the error line naming the failed call), not output.
 */
/* ranks: 2 */
/* expect: fatal MPI_Send */
#include "mt.h"

int main(int argc, char **argv)
{
	int v = 1;

	MPI_Init(&argc, &argv);
	mt_begin("fatal_error");
	if (mt_rank() == 0)
		MPI_Send(&v, 1, MPI_INT, 99, 0, MPI_COMM_WORLD);
	else
		MPI_Recv(&v, 1, MPI_INT, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	MT_FAIL("the invalid send returned instead of aborting the job");
	return mt_finish();
}
