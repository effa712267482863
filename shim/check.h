/*
 * check.h - argument checks every wrapper shares.
 *
 * Checks run in the application before anything is staged, so bad input
 * yields the same error class under every MPI and never touches memory
 * it should not.  None of them prints: the wrapper raises the class
 * through the communicator's handler with its own function name.  Each
 * returns MPI_SUCCESS or an error class.
 *
 * They are inline because every point-to-point call makes four of them
 * on its way to the channel, on the critical path of a small message's
 * latency: as calls into another file they cost about 35 instructions
 * of the 190 an MPI_Send's checks took (callgrind, 8 B ping-pong).
 */
#ifndef SHIM_CHECK_H
#define SHIM_CHECK_H

static inline int shim_check_count(int count)
{
	return count < 0 ? MPI_ERR_COUNT : MPI_SUCCESS;
}

static inline int shim_check_buf(const void *buf, int count)
{
	/* MPI_BOTTOM is NULL too; with predefined datatypes it cannot
	 * address data, so NULL with a positive count is an error. */
	return buf == NULL && count > 0 ? MPI_ERR_BUFFER : MPI_SUCCESS;
}

static inline int shim_check_rank(const struct shim_comm *c, int rank, int allow_any)
{
	if (rank == MPI_PROC_NULL || (allow_any && rank == MPI_ANY_SOURCE))
		return MPI_SUCCESS;
	/* On an intercommunicator, ranks name the remote group. */
	int n = c->remote ? c->remote_size : c->size;
	return rank < 0 || rank >= n ? MPI_ERR_RANK : MPI_SUCCESS;
}

static inline int shim_check_root(const struct shim_comm *c, int root)
{
	return root < 0 || root >= c->size ? MPI_ERR_ROOT : MPI_SUCCESS;
}

static inline int shim_check_tag(int tag, int allow_any)
{
	if (allow_any && tag == MPI_ANY_TAG)
		return MPI_SUCCESS;
	/* The upper bound (MPI_TAG_UB) is the real MPI's to enforce. */
	return tag < 0 ? MPI_ERR_TAG : MPI_SUCCESS;
}

#endif
