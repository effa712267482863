/*
 * coll_fatal.c - a collective argument error under the default
 * MPI_ERRORS_ARE_FATAL: rank 0 calls MPI_Allreduce with MPI_OP_NULL while
 * the other ranks enter a valid MPI_Allreduce that can never complete.
 * The whole job must end, non-zero, promptly, with the ranks stuck inside
 * the real collective taken down too.  run.sh judges by exit status and,
 * under dmtcp_mpi, by the error line naming MPI_Allreduce.
 */
/* ranks: 3 */
/* expect: fatal MPI_Allreduce */
#include "mt.h"

int main(int argc, char **argv)
{
	int v = 1, r = 0;

	MPI_Init(&argc, &argv);
	mt_begin("coll_fatal");
	MPI_Allreduce(&v, &r, 1, MPI_INT, mt_rank() == 0 ? MPI_OP_NULL : MPI_SUM,
		      MPI_COMM_WORLD);
	MT_FAIL("the invalid allreduce returned instead of aborting the job");
	return mt_finish();
}
