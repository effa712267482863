/*
 * calls.h - the call ids that cross the channel, app -> proxy.
 *
 * One X-macro list so the shim's enum and the proxy's dispatch table are
 * the same list.  Each entry documents its arguments where it is served:
 * proxy/<family>.c, and where it is issued: shim/<family>.c.
 * Calls answered entirely in the app (Comm_rank, group algebra, Wtime,
 * Get_count ...) have no id.
 */
#ifndef CHAN_CALLS_H
#define CHAN_CALLS_H

#define CHAN_CALLS(X)                                                        \
	/* environment: proxy/env.c */                                           \
	X(INIT) X(FINALIZE) X(ABORT) X(GET_LIBRARY_VERSION)                     \
	/* communicators: proxy/comm.c */                                        \
	X(COMM_DUP) X(COMM_SPLIT) X(COMM_SPLIT_TYPE) X(COMM_CREATE)             \
	X(COMM_CREATE_GROUP) X(COMM_FREE) X(COMM_REBUILD) X(COMM_GATHER_FREED)  \
	/* point to point: proxy/p2p.c */                                        \
	X(SEND) X(RECV) X(ISEND) X(IRECV) X(SENDRECV) X(PROBE) X(IPROBE)        \
	/* requests: proxy/req.c */                                              \
	X(WAIT) X(TEST) X(WAITALL) X(TESTALL) X(WAITANY) X(TESTANY)             \
	X(WAITSOME) X(TESTSOME) X(REQUEST_GET_STATUS) X(CANCEL)              \
	/* collectives: proxy/coll.c */                                          \
	X(BARRIER) X(BCAST) X(REDUCE) X(ALLREDUCE) X(GATHER) X(GATHERV)         \
	X(SCATTER) X(SCATTERV) X(ALLGATHER) X(ALLGATHERV) X(ALLTOALL)           \
	X(ALLTOALLV) X(REDUCE_SCATTER) X(REDUCE_SCATTER_BLOCK) X(SCAN) X(EXSCAN) \
	/* topologies: proxy/topo.c */                                           \
	X(CART_CREATE) X(CART_SUB) X(GRAPH_CREATE) X(DIST_GRAPH_CREATE)         \
	X(DIST_GRAPH_CREATE_ADJACENT) X(TOPO_REBUILD)                           \
	/* neighbourhood collectives: proxy/neighbor.c */                        \
	X(NEIGHBOR_ALLGATHER) X(NEIGHBOR_ALLGATHERV) X(NEIGHBOR_ALLTOALL)       \
	X(NEIGHBOR_ALLTOALLV) X(NEIGHBOR_ALLTOALLW)                             \
	/* nonblocking dup: proxy/idup.c; intercommunicators: proxy/intercomm.c */ \
	X(COMM_IDUP) X(INTERCOMM_CREATE) X(INTERCOMM_MERGE)                     \
	X(INTERCOMM_REBUILD)                                                    \
	/* derived datatypes: proxy/type.c */                                    \
	X(TYPE_CREATE) X(TYPE_FREE)                                             \
	/* benchmarking: proxy/env.c */                                          \
	X(NOP)                                                                  \
	/* Alltoallw: proxy/coll.c; nonblocking collectives: proxy/icoll.c */    \
	X(ALLTOALLW) X(ICOLL)                                                    \
	/* constructors on a proxy thread (MULTIPLE): proxy/ctorbg.c */          \
	X(COMM_POLL)

/* Reply slot of every call that makes a communicator (proxy/comm.c,
 * proxy/topo.c, proxy/intercomm.c; not COMM_IDUP): the communicator's
 * global id, agreed by its members at creation (proxy/gid.c).  WORLD is
 * 0 and SELF -1 without a call.  Ids are unique among the communicators
 * alive at any time in the whole job, equal on every member, and survive
 * a restart through COMM_REBUILD.  Made as m << 32 | k: m the lowest
 * world rank among the members, k a counter of process m (from 1). */
#define CALL_ARG_GID (CHAN_ARGS - 1)
/* An id with this bit set was not agreed by the proxy but computed by
 * the shim for MPI_Comm_idup (and MPI_Comm_dup under MULTIPLE) from the
 * parent's id and sequence number (shim/commdup.c); process m's counter
 * never reaches it, so the two kinds never meet. */
#define CALL_GID_IDUP 0x80000000

/* Request slot of COMM_DUP, COMM_SPLIT, COMM_SPLIT_TYPE, COMM_CREATE and
 * COMM_CREATE_GROUP: 0, or under MPI_THREAD_MULTIPLE a token the shim
 * picked; the proxy then makes the communicator on a thread of its own,
 * replies at once, and the shim asks for the result with COMM_POLL
 * (proxy/ctorbg.c).  The slot of COLL_DETACH (chan/coll.h). */
#define CALL_ARG_DETACH (CHAN_ARGS - 3)

/* Reply slot of the same calls: -1 for an intracommunicator; for an
 * intercommunicator the size of its remote group, whose members follow
 * the local group's in inl as world ranks (px_reply_remote,
 * proxy/intercomm.c). */
#define CALL_ARG_REMOTE (CHAN_ARGS - 2)

/* Reply slot of ISEND and IRECV: 1 if the proxy's test right after the
 * post found the request complete (an eager send, a message already
 * there).  The proxy has then dropped it; the reply's status is the
 * completion's (its error field the completion's error class) and the
 * payload of a receive is in its arena block (proxy/p2p.c). */
#define CALL_ARG_DONE (CHAN_ARGS - 4)

enum chan_call_id {
#define CHAN_CALL_ENUM(name) CALL_##name,
	CHAN_CALLS(CHAN_CALL_ENUM)
#undef CHAN_CALL_ENUM
	CALL_COUNT
};

#endif
