/*
 * isendrecv.c - MPI_Isendrecv and MPI_Isendrecv_replace (MPI-4.0).
 *
 * The request the application gets is the receive: an Irecv under a new
 * handle.  The send is an ordinary Isend whose data the shim copies into
 * the arena before it returns (shim/stage.c; even from an MPI_Alloc_mem
 * block, shim_p2p_isend_copy), so the send buffer is free
 * at once and, for _replace, the receive may land in the same buffer.
 * Nobody waits for that Isend: it is handed to shim/bsend.c, which
 * completes it in the background like a buffered send's.  A standard
 * send's completion says nothing about its receipt, so completing the
 * pair when its receive completes is not observable; a checkpoint sees
 * an ordinary send and an ordinary receive.
 */
#include "shim.h"

#include <limits.h>

static int isendrecv(const char *fn, const void *sbuf, int scount, MPI_Datatype stype,
		     int dest, int stag, void *rbuf, int rcount, MPI_Datatype rtype,
		     int source, int rtag, MPI_Comm comm, MPI_Request *request)
{
	MPI_Request s;
	int err;

	if (!request)
		return shim_error(comm, MPI_ERR_ARG, fn, "request is NULL");
	/* Nobody waits for it: it must copy. */
	if ((err = shim_p2p_isend_copy(fn, sbuf, scount, stype, NULL, dest, stag, comm, NULL, &s)))
		return err;
	if ((err = shim_bsend_adopt(s)))
		return shim_error(comm, err, fn, "no memory to track the send");
	return PMPI_Irecv(rbuf, rcount, rtype, source, rtag, comm, request);
}

int PMPI_Isendrecv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, int dest,
		   int sendtag, void *recvbuf, int recvcount, MPI_Datatype recvtype, int source,
		   int recvtag, MPI_Comm comm, MPI_Request *request)
{
	return isendrecv("MPI_Isendrecv", sendbuf, sendcount, sendtype, dest, sendtag, recvbuf,
			 recvcount, recvtype, source, recvtag, comm, request);
}
SHIM_WEAK(Isendrecv)

int PMPI_Isendrecv_replace(void *buf, int count, MPI_Datatype datatype, int dest,
			   int sendtag, int source, int recvtag, MPI_Comm comm,
			   MPI_Request *request)
{
	return isendrecv("MPI_Isendrecv_replace", buf, count, datatype, dest, sendtag, buf,
			 count, datatype, source, recvtag, comm, request);
}
SHIM_WEAK(Isendrecv_replace)

static int fits(MPI_Count n, MPI_Comm comm, const char *fn)
{
	if (n < 0 || n > INT_MAX)
		return shim_errorf(comm, MPI_ERR_COUNT, fn, "count %lld", (long long)n);
	return MPI_SUCCESS;
}

int PMPI_Isendrecv_c(const void *sendbuf, MPI_Count sendcount, MPI_Datatype sendtype,
		     int dest, int sendtag, void *recvbuf, MPI_Count recvcount,
		     MPI_Datatype recvtype, int source, int recvtag, MPI_Comm comm,
		     MPI_Request *request)
{
	static const char fn[] = "MPI_Isendrecv_c";
	int err;

	if ((err = fits(sendcount, comm, fn)) || (err = fits(recvcount, comm, fn)))
		return err;
	return isendrecv(fn, sendbuf, (int)sendcount, sendtype, dest, sendtag, recvbuf,
			 (int)recvcount, recvtype, source, recvtag, comm, request);
}
SHIM_WEAK(Isendrecv_c)

int PMPI_Isendrecv_replace_c(void *buf, MPI_Count count, MPI_Datatype datatype, int dest,
			     int sendtag, int source, int recvtag, MPI_Comm comm,
			     MPI_Request *request)
{
	static const char fn[] = "MPI_Isendrecv_replace_c";
	int err = fits(count, comm, fn);

	if (err)
		return err;
	return isendrecv(fn, buf, (int)count, datatype, dest, sendtag, buf, (int)count,
			 datatype, source, recvtag, comm, request);
}
SHIM_WEAK(Isendrecv_replace_c)
