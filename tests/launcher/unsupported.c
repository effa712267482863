/*
 * unsupported.c - calls that dmtcp_mpi does not support, as an application
 * sees them (built with dmtcp_mpicc, run by unsupported.sh).
 *
 *   unsupported return   MPI_ERRORS_RETURN on MPI_COMM_WORLD: MPI_Win_create
 *                        and MPI_File_open must return
 *                        MPI_ERR_UNSUPPORTED_OPERATION, leave their output
 *                        handle alone, and MPI must still work afterwards
 *   unsupported handler  a user error handler on MPI_COMM_WORLD must be
 *                        called once with that class by MPI_Win_create,
 *                        and not by MPI_File_open (files have their own)
 *   unsupported default  the default handlers: MPI_T_init_thread (before
 *                        MPI_Init) and MPI_File_open must return the class,
 *                        as MPI_T calls never raise errors and a file's
 *                        default handler is MPI_ERRORS_RETURN
 *   unsupported fatal    the default handler: rank 0's MPI_Win_create must
 *                        end the job (this program then never prints "ok")
 *
 * Each rank prints "ok <mode> <rank>" when every check held, else a line
 * "bad ..." and exits 1.  The stderr lines are the script's to judge.
 */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

static int handler_calls, handler_code;

static void count_error(MPI_Comm *comm, int *code, ...)
{
	(void)comm;
	handler_calls++;
	handler_code = *code;
}

static int bad(int rank, const char *what, int got)
{
	printf("bad rank %d: %s (got %d)\n", rank, what, got);
	return 1;
}

/* The returned code must be the class itself, and MPI_Error_class agree. */
static int unsupported_class(int rank, const char *fn, int rc)
{
	int cls = -1;

	if (rc != MPI_ERR_UNSUPPORTED_OPERATION)
		return bad(rank, fn, rc);
	if (MPI_Error_class(rc, &cls) != MPI_SUCCESS || cls != MPI_ERR_UNSUPPORTED_OPERATION)
		return bad(rank, "MPI_Error_class", cls);
	return 0;
}

static int win_create(MPI_Win *win)
{
	static int mem[4];

	return MPI_Win_create(mem, sizeof(mem), sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD,
			      win);
}

static int file_open(int rank)
{
	MPI_File fh = MPI_FILE_NULL;

	if (unsupported_class(rank, "MPI_File_open",
			      MPI_File_open(MPI_COMM_WORLD, "/nonexistent/unsupported",
					    MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL,
					    &fh)))
		return 1;
	if (fh != MPI_FILE_NULL)
		return bad(rank, "MPI_File_open wrote its file", MPI_File_toint(fh));
	return 0;
}

/* MPI still works after unsupported calls. */
static int allreduce_works(int rank)
{
	int sum = -1, size;

	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS ||
	    sum != size * (size - 1) / 2)
		return bad(rank, "MPI_Allreduce after the unsupported calls", sum);
	return 0;
}

static int check_return(int rank)
{
	MPI_Win win = MPI_WIN_NULL;

	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	if (unsupported_class(rank, "MPI_Win_create", win_create(&win)))
		return 1;
	if (win != MPI_WIN_NULL)
		return bad(rank, "MPI_Win_create wrote its window", MPI_Win_toint(win));
	return file_open(rank) || allreduce_works(rank);
}

static int check_handler(int rank)
{
	MPI_Errhandler eh;
	MPI_Win win = MPI_WIN_NULL;
	int rc;

	MPI_Comm_create_errhandler(count_error, &eh);
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, eh);
	MPI_Errhandler_free(&eh);
	rc = win_create(&win);
	if (unsupported_class(rank, "MPI_Win_create", rc))
		return 1;
	if (handler_calls != 1)
		return bad(rank, "user handler calls", handler_calls);
	if (handler_code != MPI_ERR_UNSUPPORTED_OPERATION)
		return bad(rank, "code given to the user handler", handler_code);
	if (file_open(rank))
		return 1;
	if (handler_calls != 1)
		return bad(rank, "user handler calls after MPI_File_open", handler_calls);
	return MPI_Barrier(MPI_COMM_WORLD) != MPI_SUCCESS;
}

/* Before MPI_Init, so rank is not known yet. */
static int t_init_before_mpi(void)
{
	int provided;

	return unsupported_class(-1, "MPI_T_init_thread",
				 MPI_T_init_thread(MPI_THREAD_SINGLE, &provided));
}

static int check_fatal(int rank)
{
	MPI_Win win;

	if (rank == 0)
		win_create(&win);
	/* The other ranks wait here until rank 0's abort ends the job. */
	MPI_Barrier(MPI_COMM_WORLD);
	return bad(rank, "still running after a fatal unsupported call", 0);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int rank, failed = 0;

	if (strcmp(mode, "default") == 0)
		failed = t_init_before_mpi();
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	if (strcmp(mode, "default") == 0)
		failed = failed || file_open(rank) || allreduce_works(rank);
	else if (strcmp(mode, "return") == 0)
		failed = check_return(rank);
	else if (strcmp(mode, "handler") == 0)
		failed = check_handler(rank);
	else if (strcmp(mode, "fatal") == 0)
		failed = check_fatal(rank);
	else
		failed = bad(rank, "usage: unsupported return|handler|default|fatal", 0);
	if (!failed)
		printf("ok %s %d\n", mode, rank);
	fflush(stdout);
	MPI_Finalize();
	return failed;
}
